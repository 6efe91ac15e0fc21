"""Snakemake job: critical dilution q_c and ordered spinodal against beta and p2 (Fig. 4)."""

from prunephase.core.io import write_parquet
from prunephase.core.logs import job_log
from prunephase.rap.experiments import bp_options, critical_dilution

snakemake = globals()["snakemake"]

with job_log(snakemake.log[0]) as log:
    config = snakemake.params.config
    rap, seed = config["rap"], config["seed"]
    crit = rap["critical"]
    table = critical_dilution(
        rap["n"],
        rap["p1"],
        crit["p2"],
        rap["diluted_layer"],
        crit["betas"],
        rap["instances"],
        seed,
        bp_options(rap),
        crit["q_min"],
        crit["q_max"],
        crit["bisection_steps"],
    )
    log.info("%d rows; %d BP runs did not converge", len(table), table["not_converged"].sum())
    write_parquet(table, snakemake.output[0])
