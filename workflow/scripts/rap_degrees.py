"""Snakemake job: weight-degree histogram of RAP instances (Fig. 3a)."""

from prunephase.core.config import settings
from prunephase.core.io import write_parquet
from prunephase.core.logs import job_log
from prunephase.rap.experiments import degree_histogram
from prunephase.rap.settings import Degrees, Model

snakemake = globals()["snakemake"]

with job_log(snakemake.log[0]) as log:
    config = snakemake.params.config
    rap = config["rap"]
    table = degree_histogram(
        n=rap["n"],
        p1=rap["p1"],
        p2=rap["p2"],
        layer=rap["diluted_layer"],
        degrees=settings(Degrees, rap["degrees"]),
        root_seed=config["seed"],
        model=settings(Model, rap["model"]),
    )
    log.info("%d (population, degree) rows", len(table))
    write_parquet(table, snakemake.output[0])
