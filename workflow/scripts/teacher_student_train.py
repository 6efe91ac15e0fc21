"""Snakemake job: train the students of one setting by online SGD, integrate the ODEs (paper C)."""

from prunephase.core.config import settings
from prunephase.core.io import write_parquet
from prunephase.core.logs import job_log
from prunephase.teacher_student.experiments import save_students, train
from prunephase.teacher_student.settings import Dynamics, Run

snakemake = globals()["snakemake"]

with job_log(snakemake.log[0]) as log:
    config = snakemake.params.config
    run = settings(Run, snakemake.params.run)
    dynamics = settings(Dynamics, config["teacher_student"])
    log.info("training %s with %s", run, dynamics)
    table, students = train(run, dynamics, config["seed"])
    save_students(students, snakemake.output.students)
    write_parquet(table, snakemake.output.dynamics)
    log.info("final eps_g:\n%s", table[table.t == table.t.max()].to_string())
