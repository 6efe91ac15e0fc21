"""Snakemake job: train MLPs on MNIST, remove connections, record the test error (paper B)."""

import torch

from prunephase.core.devices import claim_gpus
from prunephase.core.io import write_parquet
from prunephase.core.logs import job_log
from prunephase.mnist import inputs, load_npz
from prunephase.nn.training import resolve_device
from prunephase.rap.redundancy import redundancy_curve, train_networks

snakemake = globals()["snakemake"]

with job_log(snakemake.log[0]) as log:
    claim_gpus(snakemake.resources.gpu)  # a device of its own (before CUDA starts)
    torch.set_num_threads(snakemake.threads)
    config = snakemake.params.config
    s = dict(config["rap"]["redundancy"])
    fractions, draws = s.pop("fractions"), s.pop("draws")
    device = resolve_device(config["device"])
    mnist = load_npz(snakemake.input.mnist)
    x, y, x_test, y_test = (
        torch.from_numpy(a).to(device)
        for split in ("train", "test")
        for a in inputs(mnist, split, "standardise")
    )
    model = train_networks(x, y, seed=config["seed"], **s)
    curve = redundancy_curve(model, x_test, y_test, fractions, draws, config["seed"])
    log.info("\n%s", curve.groupby(["method", "fraction_removed"])["test_error"].mean())
    write_parquet(curve, snakemake.output[0])
