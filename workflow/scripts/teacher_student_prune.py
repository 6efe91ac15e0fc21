"""Snakemake job: prune the trained students of one setting and noise level by every method
(paper C)."""

from prunephase.core.config import settings
from prunephase.core.io import write_parquet
from prunephase.core.logs import job_log
from prunephase.teacher_student.experiments import load_students, prune
from prunephase.teacher_student.settings import Pruning, Run

snakemake = globals()["snakemake"]

with job_log(snakemake.log[0]) as log:
    config = snakemake.params.config
    pruning, heatmaps = prune(
        settings(Run, snakemake.params.run),
        load_students(snakemake.input.students),
        settings(Pruning, config["teacher_student"]["pruning"]),
        config["seed"],
        "sgd",
    )
    write_parquet(pruning, snakemake.output.pruning)
    write_parquet(heatmaps, snakemake.output.heatmaps)
    log.info("%d pruning rows, %d heat-map rows", len(pruning), len(heatmaps))
