"""Snakemake job: simulated annealing at several cooling rates (Fig. 5a)."""

from prunephase.core.config import settings
from prunephase.core.io import write_parquet
from prunephase.core.logs import job_log
from prunephase.rap.experiments import annealing_experiment
from prunephase.rap.settings import Annealing, Model

snakemake = globals()["snakemake"]

with job_log(snakemake.log[0]) as log:
    config = snakemake.params.config
    rap = config["rap"]
    table = annealing_experiment(
        n=rap["n"],
        p1=rap["p1"],
        p2=rap["p2"],
        layer=rap["diluted_layer"],
        annealing=settings(Annealing, rap["annealing"]),
        root_seed=config["seed"],
        model=settings(Model, rap["model"]),
    )
    log.info("%d rows", len(table))
    write_parquet(table, snakemake.output[0])
