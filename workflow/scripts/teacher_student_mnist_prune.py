"""Snakemake job: prune the first hidden layer of one trained MNIST network by every method."""

from prunephase.core.config import settings
from prunephase.core.io import write_parquet
from prunephase.core.logs import job_log
from prunephase.mnist import load_npz
from prunephase.teacher_student.mnist_pruning import prune_network
from prunephase.teacher_student.settings import MnistPruning

snakemake = globals()["snakemake"]

with job_log(snakemake.log[0]) as log:
    config = snakemake.params.config
    table = prune_network(
        load_npz(snakemake.input.mnist),
        snakemake.input.networks,
        int(snakemake.wildcards.ts_network),
        settings(MnistPruning, config["teacher_student"]["mnist"]),
        config["seed"],
    )
    write_parquet(table, snakemake.output.pruning)
    log.info("%d rows; unpruned test error %.4f", len(table), table.test_error_unpruned.iloc[0])
