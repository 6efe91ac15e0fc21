"""Snakemake job: the transition of every instance at every width (the finite-size study)."""

from prunephase.core.config import settings
from prunephase.core.io import write_parquet
from prunephase.core.logs import job_log
from prunephase.rap.experiments import finite_size_transitions
from prunephase.rap.settings import BP, FiniteSize, Model

snakemake = globals()["snakemake"]

with job_log(snakemake.log[0]) as log:
    config = snakemake.params.config
    rap = config["rap"]
    table = finite_size_transitions(
        p1=rap["p1"],
        p2=rap["p2"],
        layer=rap["diluted_layer"],
        beta=rap["beta"],
        root_seed=config["seed"],
        finite_size=settings(FiniteSize, rap["finite_size"]),
        q_max=rap["critical"]["q_max"],
        bp=settings(BP, rap["bp"]),
        model=settings(Model, rap["model"]),
    )
    log.info("%d rows; %d BP runs did not converge", len(table), table["not_converged"].sum())
    write_parquet(table, snakemake.output[0])
