"""Snakemake job: activation probabilities of trained teacher-student ReLU networks (Fig. 2)."""

import torch

from prunephase.core.config import settings
from prunephase.core.io import write_parquet
from prunephase.core.logs import job_log
from prunephase.rap.activations import activation_probabilities
from prunephase.rap.settings import Activations

snakemake = globals()["snakemake"]

with job_log(snakemake.log[0]):
    torch.set_num_threads(snakemake.threads)
    config = snakemake.params.config
    table = activation_probabilities(
        settings(Activations, config["rap"]["activations"]), config["seed"]
    )
    write_parquet(table, snakemake.output[0])
