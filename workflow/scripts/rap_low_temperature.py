"""Snakemake job: BP, exact and Monte Carlo results against the inverse temperature (Fig. 5b)."""

from prunephase.core.io import write_parquet
from prunephase.core.logs import job_log
from prunephase.rap.experiments import bp_options, make_instance, mc_options, temperature_scan

snakemake = globals()["snakemake"]

with job_log(snakemake.log[0]) as log:
    config = snakemake.params.config
    rap, seed = config["rap"], config["seed"]
    q = rap["annealing"]["q"]
    instances = [
        (k, make_instance(rap["n"], rap["p1"], rap["p2"], rap["diluted_layer"], q, seed, k))
        for k in range(rap["low_temperature"]["instances"])
    ]
    table = temperature_scan(
        instances, rap["low_temperature"]["betas"], seed, bp_options(rap), mc_options(rap)
    )
    failed = int((~table["ord_converged"]).sum() + (~table["rnd_converged"]).sum())
    log.info("%d rows; %d BP runs did not converge", len(table), failed)
    write_parquet(table, snakemake.output[0])
