"""Snakemake job: per-run and summary tables over every shard of the sweep."""

import pandas as pd

from prunephase.core.io import read_parquet, write_parquet
from prunephase.core.logs import job_log
from prunephase.dropout_phases.tables import per_run, summarise

snakemake = globals()["snakemake"]

with job_log(snakemake.log[0]):
    runs = pd.concat([per_run(read_parquet(p)) for p in snakemake.input], ignore_index=True)
    write_parquet(runs, snakemake.output.per_run)
    write_parquet(summarise(runs), snakemake.output.summary)
