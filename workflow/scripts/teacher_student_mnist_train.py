"""Snakemake job: train every sigmoid MNIST network of the pruning study, as one ensemble."""

import torch

from prunephase.core.config import settings
from prunephase.core.devices import claim_gpus
from prunephase.core.io import write_parquet
from prunephase.core.logs import job_log
from prunephase.mnist import inputs, load_npz
from prunephase.nn.training import resolve_device
from prunephase.teacher_student.mnist_pruning import save_networks, train_networks
from prunephase.teacher_student.settings import MnistTraining

snakemake = globals()["snakemake"]

with job_log(snakemake.log[0]) as log:
    claim_gpus(snakemake.resources.gpu)  # a device of its own (before CUDA starts)
    torch.set_num_threads(snakemake.threads)
    config = snakemake.params.config
    training = settings(MnistTraining, config["teacher_student"]["mnist"])
    device = resolve_device(config["device"])
    mnist = load_npz(snakemake.input.mnist)
    x, y, x_test, y_test = (
        torch.from_numpy(a).to(device)
        for split in ("train", "test")
        for a in inputs(mnist, split, training.input_scaling)
    )
    model, history, subsets = train_networks(x, y, x_test, y_test, training, config["seed"])
    save_networks(model, subsets, snakemake.output.networks)
    write_parquet(history, snakemake.output.history)
    log.info("kept networks:\n%s", history[history.kept].to_string())
