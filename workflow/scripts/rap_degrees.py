"""Snakemake job: weight-degree histogram of RAP instances (Fig. 3a)."""

from prunephase.core.io import write_parquet
from prunephase.core.logs import job_log
from prunephase.rap.experiments import degree_histogram

snakemake = globals()["snakemake"]

with job_log(snakemake.log[0]) as log:
    config = snakemake.params.config
    rap, seed = config["rap"], config["seed"]
    table = degree_histogram(
        rap["n"],
        rap["p1"],
        rap["p2"],
        rap["diluted_layer"],
        rap["degrees"]["q"],
        rap["degrees"]["instances"],
        seed,
    )
    log.info("%d (population, degree) rows", len(table))
    write_parquet(table, snakemake.output[0])
