"""Snakemake job: Binder cumulant of the per-mask test accuracy at every sweep point."""

import pandas as pd

from prunephase.criticality import binder_table
from prunephase.io import read_parquet, write_parquet
from prunephase.logs import job_log

snakemake = globals()["snakemake"]

with job_log(snakemake.log[0]):
    tables = [binder_table(read_parquet(p, ["accuracy"])) for p in snakemake.input]
    write_parquet(pd.concat(tables, ignore_index=True), snakemake.output[0])
