"""Snakemake job: train teacher-student replicas by online SGD and integrate the ODEs (paper C)."""

from prunephase.core.io import write_parquet
from prunephase.core.logs import job_log
from prunephase.teacher_student.experiments import Setting, save_students, train

snakemake = globals()["snakemake"]

with job_log(snakemake.log[0]) as log:
    config = snakemake.params.config
    setting = Setting.from_config(config["teacher_student"], **snakemake.params.run)
    log.info("training %s", setting)
    dynamics, students = train(setting, config["seed"])
    save_students(students, snakemake.output.students)
    write_parquet(dynamics, snakemake.output.dynamics)
    final = dynamics[dynamics.t == dynamics.t.max()]
    log.info("final eps_g:\n%s", final.to_string())
