"""Snakemake job: BP, exact and Monte Carlo results against the dilution of a population."""

from prunephase.core.io import write_parquet
from prunephase.core.logs import job_log
from prunephase.rap.experiments import bp_options, dilution_sweep, mc_options

snakemake = globals()["snakemake"]

with job_log(snakemake.log[0]) as log:
    config = snakemake.params.config
    rap, seed = config["rap"], config["seed"]
    table = dilution_sweep(
        rap["n"],
        rap["p1"],
        rap["p2"],
        int(snakemake.wildcards.layer),
        rap["dilution_sweep"]["q"],
        rap["beta"],
        rap["instances"],
        seed,
        bp_options(rap),
        mc_options(rap),
    )
    failed = int((~table["ord_converged"]).sum() + (~table["rnd_converged"]).sum())
    log.info("%d rows; %d BP runs did not converge", len(table), failed)
    write_parquet(table, snakemake.output[0])
