"""Snakemake job: prune trained (or ideal specialised) students by every method (paper C)."""

from prunephase.core.io import write_parquet
from prunephase.core.logs import job_log
from prunephase.teacher_student.experiments import (
    Setting,
    load_students,
    prune,
    specialised_students,
)

snakemake = globals()["snakemake"]

with job_log(snakemake.log[0]) as log:
    config = snakemake.params.config
    section, seed = config["teacher_student"], config["seed"]
    setting = Setting.from_config(section, **snakemake.params.run)
    if snakemake.params.student == "specialised":
        students = specialised_students(setting, seed)
    else:
        students = load_students(snakemake.input.students)
    options = section["pruning"]
    pruning, heatmaps = prune(
        setting, students, seed, options["masks"], options["heatmap_fraction"],
        snakemake.params.student,
    )  # fmt: skip
    write_parquet(pruning, snakemake.output.pruning)
    write_parquet(heatmaps, snakemake.output.heatmaps)
    log.info("%d pruning rows, %d heat-map rows", len(pruning), len(heatmaps))
