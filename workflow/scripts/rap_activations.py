"""Snakemake job: activation probabilities of trained teacher-student ReLU networks (Fig. 2)."""

import torch

from prunephase.core.io import write_parquet
from prunephase.core.logs import job_log
from prunephase.rap.activations import TrainingOptions, activation_probabilities

snakemake = globals()["snakemake"]

with job_log(snakemake.log[0]) as log:
    torch.set_num_threads(snakemake.threads)
    config = snakemake.params.config
    settings = dict(config["rap"]["activations"])
    trials = settings.pop("trials")
    table = activation_probabilities(TrainingOptions(**settings), trials, config["seed"])
    write_parquet(table, snakemake.output[0])
