"""Snakemake job: degrees, dilution sweeps and q_c of one reading of the model."""

from prunephase.core.config import settings
from prunephase.core.io import write_parquet
from prunephase.core.logs import job_log
from prunephase.rap.experiments import reading_tables
from prunephase.rap.settings import BP, MC, Degrees, Readings

snakemake = globals()["snakemake"]

with job_log(snakemake.log[0]) as log:
    config = snakemake.params.config
    rap = config["rap"]
    readings = settings(Readings, rap["readings"])
    names = [reading.name for reading in readings.models]
    tables = reading_tables(
        index=names.index(snakemake.wildcards.reading),
        p1=rap["p1"],
        p2=rap["p2"],
        degrees=settings(Degrees, rap["degrees"]),
        readings=readings,
        q_min=rap["critical"]["q_min"],
        q_max=rap["critical"]["q_max"],
        root_seed=config["seed"],
        bp=settings(BP, rap["bp"]),
        mc=settings(MC, rap["mc"]),
    )
    for name, table in tables.items():
        log.info("%s: %d rows", name, len(table))
        write_parquet(table, snakemake.output[name])
