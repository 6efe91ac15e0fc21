"""Snakemake job: the paper's claims tested on the pruning tables (paired comparisons over
students), the summary of every curve, and random edge against node pruning in closed form."""

import pandas as pd

from prunephase.core.config import settings
from prunephase.core.io import read_parquet, write_parquet
from prunephase.core.logs import job_log
from prunephase.teacher_student.claims import paired_comparisons, pruning_summary, summarise
from prunephase.teacher_student.experiments import PRUNING_COLUMNS
from prunephase.teacher_student.settings import Size
from prunephase.teacher_student.theory import random_edge_vs_node

snakemake = globals()["snakemake"]

with job_log(snakemake.log[0]) as log:
    config = snakemake.params.config["teacher_student"]
    table = pd.concat(
        [
            read_parquet(snakemake.input[name], PRUNING_COLUMNS)
            for name in ("pruning", "specialised")
        ],
        ignore_index=True,
    )
    paired = paired_comparisons(table)
    summary = summarise(paired)
    log.info("\n%s", summary.to_string())
    sizes = [settings(Size, s) for s in config["settings"]]
    theory = random_edge_vs_node([(s.M, s.K) for s in sizes], config["v_star"])
    write_parquet(paired, snakemake.output.paired)
    write_parquet(summary, snakemake.output.claims)
    write_parquet(pruning_summary(table), snakemake.output.summary)
    write_parquet(theory, snakemake.output.edge_vs_node)
