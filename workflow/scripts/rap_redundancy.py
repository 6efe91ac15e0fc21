"""Snakemake job: train MLPs on MNIST, remove connections, record the test error (paper B)."""

import torch

from prunephase.core.config import settings
from prunephase.core.devices import claim_gpus
from prunephase.core.io import write_parquet
from prunephase.core.logs import job_log
from prunephase.mnist import load_npz
from prunephase.nn.training import resolve_device
from prunephase.rap.redundancy import mnist_redundancy
from prunephase.rap.settings import Redundancy

snakemake = globals()["snakemake"]

with job_log(snakemake.log[0]):
    claim_gpus(snakemake.resources.gpu)  # a device of its own (before CUDA starts)
    torch.set_num_threads(snakemake.threads)
    config = snakemake.params.config
    curve = mnist_redundancy(
        load_npz(snakemake.input.mnist),
        seed=config["seed"],
        device=resolve_device(config["device"]),
        settings=settings(Redundancy, config["rap"]["redundancy"]),
    )
    write_parquet(curve, snakemake.output[0])
