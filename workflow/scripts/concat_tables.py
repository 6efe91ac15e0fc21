"""Snakemake job: concatenate tables of the same schema (one per architecture) into one."""

import pandas as pd

from prunephase.core.io import read_parquet, write_parquet
from prunephase.core.logs import job_log

snakemake = globals()["snakemake"]

with job_log(snakemake.log[0]):
    for name, paths in snakemake.input.items():
        tables = [read_parquet(p) for p in paths]
        write_parquet(pd.concat(tables, ignore_index=True), snakemake.output[name])
