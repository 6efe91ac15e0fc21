"""Snakemake job: the paper's pruning claims tested on the pruning tables (paired comparisons)."""

import pandas as pd

from prunephase.core.io import read_parquet, write_parquet
from prunephase.core.logs import job_log
from prunephase.teacher_student.claims import paired_comparisons, summarise
from prunephase.teacher_student.experiments import PRUNING_COLUMNS

snakemake = globals()["snakemake"]

with job_log(snakemake.log[0]) as log:
    table = pd.concat(
        [read_parquet(p, PRUNING_COLUMNS) for p in snakemake.input], ignore_index=True
    )
    paired = paired_comparisons(table)
    summary = summarise(paired)
    log.info("\n%s", summary.to_string())
    write_parquet(paired, snakemake.output.paired)
    write_parquet(summary, snakemake.output.claims)
