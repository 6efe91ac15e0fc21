"""Snakemake job: BP, exact and Monte Carlo results against the inverse temperature (Fig. 5b)."""

from prunephase.core.config import settings
from prunephase.core.io import write_parquet
from prunephase.core.logs import job_log
from prunephase.rap.experiments import low_temperature_experiment
from prunephase.rap.settings import BP, MC, LowTemperature, Model

snakemake = globals()["snakemake"]

with job_log(snakemake.log[0]) as log:
    config = snakemake.params.config
    rap = config["rap"]
    table = low_temperature_experiment(
        n=rap["n"],
        p1=rap["p1"],
        p2=rap["p2"],
        layer=rap["diluted_layer"],
        q=rap["annealing"]["q"],  # the annealed instances of Fig. 5a
        low_temperature=settings(LowTemperature, rap["low_temperature"]),
        root_seed=config["seed"],
        model=settings(Model, rap["model"]),
        bp=settings(BP, rap["bp"]),
        mc=settings(MC, rap["mc"]),
    )
    failed = int((~table["ord_converged"]).sum() + (~table["rnd_converged"]).sum())
    log.info("%d rows; %d BP runs did not converge", len(table), failed)
    write_parquet(table, snakemake.output[0])
