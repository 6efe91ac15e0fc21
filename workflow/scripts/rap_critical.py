"""Snakemake job: critical dilution q_c and ordered spinodal against beta and p2 (Fig. 4)."""

from prunephase.core.config import settings
from prunephase.core.io import write_parquet
from prunephase.core.logs import job_log
from prunephase.rap.experiments import critical_dilution
from prunephase.rap.settings import BP, Critical, Model

snakemake = globals()["snakemake"]

with job_log(snakemake.log[0]) as log:
    config = snakemake.params.config
    rap = config["rap"]
    table = critical_dilution(
        n=rap["n"],
        p1=rap["p1"],
        layer=rap["diluted_layer"],
        n_instances=rap["instances"],
        root_seed=config["seed"],
        model=settings(Model, rap["model"]),
        critical=settings(Critical, rap["critical"]),
        bp=settings(BP, rap["bp"]),
    )
    log.info("%d rows; %d BP runs did not converge", len(table), table["not_converged"].sum())
    write_parquet(table, snakemake.output[0])
