"""Snakemake job: per-mask test accuracy and cross-entropy of every model of a shard."""

import torch

from prunephase.core.config import settings
from prunephase.core.devices import claim_gpus
from prunephase.core.io import write_parquet
from prunephase.core.logs import job_log
from prunephase.dropout_phases.experiment import evaluate_shard, load_shard
from prunephase.dropout_phases.settings import Evaluation
from prunephase.mnist import load_npz
from prunephase.nn.training import set_tf32

snakemake = globals()["snakemake"]

with job_log(snakemake.log[0]) as log:
    claim_gpus(snakemake.resources.gpu)  # a device of its own (before CUDA starts)
    torch.set_num_threads(snakemake.threads)
    set_tf32(snakemake.params.config["tf32"])
    config = snakemake.params.config
    dp = config["dropout_phases"]
    table = evaluate_shard(
        load_npz(snakemake.input.mnist),
        load_shard(snakemake.input.shard),
        device=config["device"],
        p_eval=dp["p_eval"],
        evaluation=settings(Evaluation, dp["evaluation"]),
        rescale=dp["rescale"],
        input_scaling=dp["input_scaling"],
    )
    log.info("%d rows", len(table))
    write_parquet(table, snakemake.output[0], {"config": config})
