"""Snakemake job: train every (p_train, run) model of one (width, depth, N) shard."""

import torch

from prunephase.data import load_npz
from prunephase.dropout_phases import train_shard
from prunephase.logs import job_log

snakemake = globals()["snakemake"]

with job_log(snakemake.log[0]):
    torch.set_num_threads(snakemake.threads)
    w = snakemake.wildcards
    train_shard(
        load_npz(snakemake.input.mnist),
        snakemake.params.config,
        int(w.width),
        int(w.depth),
        int(w.n),
        snakemake.output[0],
    )
