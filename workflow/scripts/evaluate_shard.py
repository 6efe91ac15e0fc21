"""Snakemake job: per-mask test accuracy and cross-entropy of every model of a shard."""

import torch

from prunephase.data import load_npz
from prunephase.dropout_phases import evaluate_shard, load_shard
from prunephase.io import write_parquet
from prunephase.logs import job_log

snakemake = globals()["snakemake"]

with job_log(snakemake.log[0]) as log:
    torch.set_num_threads(snakemake.threads)
    table = evaluate_shard(
        load_npz(snakemake.input.mnist), snakemake.params.config, load_shard(snakemake.input.shard)
    )
    log.info("%d rows", len(table))
    write_parquet(table, snakemake.output[0])
