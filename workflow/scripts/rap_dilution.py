"""Snakemake job: BP, exact and Monte Carlo results against the dilution of a population."""

from prunephase.core.config import settings
from prunephase.core.io import write_parquet
from prunephase.core.logs import job_log
from prunephase.rap.experiments import dilution_sweep
from prunephase.rap.settings import BP, MC, Model

snakemake = globals()["snakemake"]

with job_log(snakemake.log[0]) as log:
    config = snakemake.params.config
    rap = config["rap"]
    table = dilution_sweep(
        n=rap["n"],
        p1=rap["p1"],
        p2=rap["p2"],
        layer=int(snakemake.wildcards.layer),
        q_values=rap["dilution_sweep"]["q"],
        beta=rap["beta"],
        n_instances=rap["instances"],
        root_seed=config["seed"],
        model=settings(Model, rap["model"]),
        bp=settings(BP, rap["bp"]),
        mc=settings(MC, rap["mc"]),
    )
    failed = int((~table["ord_converged"]).sum() + (~table["rnd_converged"]).sum())
    log.info("%d rows; %d BP runs did not converge", len(table), failed)
    write_parquet(table, snakemake.output[0])
