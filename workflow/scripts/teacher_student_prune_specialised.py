"""Snakemake job: prune the ideal specialised student of one setting by every method (paper C)."""

from prunephase.core.config import settings
from prunephase.core.io import write_parquet
from prunephase.core.logs import job_log
from prunephase.teacher_student.experiments import prune_specialised
from prunephase.teacher_student.settings import Run, SpecialisedPruning

snakemake = globals()["snakemake"]

with job_log(snakemake.log[0]) as log:
    config = snakemake.params.config
    pruning, heatmaps = prune_specialised(
        settings(Run, snakemake.params.run),
        settings(SpecialisedPruning, config["teacher_student"]),
        config["seed"],
    )
    write_parquet(pruning, snakemake.output.pruning)
    write_parquet(heatmaps, snakemake.output.heatmaps)
    log.info("%d pruning rows, %d heat-map rows", len(pruning), len(heatmaps))
