"""Snakemake job: the pruning methods on MNIST ranked at every parameter budget."""

from prunephase.core.io import read_parquet, write_parquet
from prunephase.core.logs import job_log
from prunephase.teacher_student.claims import mnist_ranking
from prunephase.teacher_student.mnist_pruning import PRUNING_COLUMNS

snakemake = globals()["snakemake"]

with job_log(snakemake.log[0]) as log:
    ranks = mnist_ranking(read_parquet(snakemake.input[0], PRUNING_COLUMNS))
    log.info("%d rows", len(ranks))
    write_parquet(ranks, snakemake.output[0])
