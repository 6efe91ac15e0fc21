"""Snakemake job: train every (p_train, run) model of one (width, depth, N) shard."""

import torch

from prunephase.core.config import settings
from prunephase.core.devices import claim_gpus
from prunephase.core.logs import job_log
from prunephase.dropout_phases.experiment import train_shard
from prunephase.dropout_phases.settings import Training
from prunephase.mnist import load_npz
from prunephase.nn.training import set_tf32

snakemake = globals()["snakemake"]

with job_log(snakemake.log[0]):
    claim_gpus(snakemake.resources.gpu)  # a device of its own (before CUDA starts)
    torch.set_num_threads(snakemake.threads)
    set_tf32(snakemake.params.config["tf32"])
    config, w = snakemake.params.config, snakemake.wildcards
    dp = config["dropout_phases"]
    train_shard(
        load_npz(snakemake.input.mnist),
        snakemake.output[0],
        seed=config["seed"],
        device=config["device"],
        width=int(w.width),
        depth=int(w.depth),
        n_train=int(w.n),
        p_train=dp["p_train"],
        runs=dp["runs"],
        activation=dp["activation"],
        rescale=dp["rescale"],
        input_scaling=dp["input_scaling"],
        training=settings(Training, dp["training"]),
    )
