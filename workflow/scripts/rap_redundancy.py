"""Snakemake job: train MLPs on MNIST, remove connections, record the test error (paper B)."""

import torch

from prunephase.data import load_npz
from prunephase.devices import claim_gpus
from prunephase.dropout_phases import inputs
from prunephase.io import write_parquet
from prunephase.logs import job_log
from prunephase.models import layer_sizes
from prunephase.rap.redundancy import redundancy_curve
from prunephase.training import TrainingSettings, model_seeds, resolve_device, train_ensemble

snakemake = globals()["snakemake"]

with job_log(snakemake.log[0]) as log:
    claim_gpus(snakemake.resources.gpu)  # a device of its own (before CUDA starts)
    torch.set_num_threads(snakemake.threads)
    s = snakemake.params.redundancy
    device = resolve_device(snakemake.params.device)
    mnist = load_npz(snakemake.input.mnist)
    x, y = inputs(mnist, "standardise", device, "train")
    x_test, y_test = inputs(mnist, "standardise", device, "test")
    seeds = [
        model_seeds(snakemake.params.seed, s["width"], s["depth"], s["n_train"], 0.0, run)
        for run in range(s["runs"])
    ]
    settings = TrainingSettings(epochs=s["epochs"], min_steps=0)
    trained = train_ensemble(
        x, y, [0.0] * s["runs"], seeds,
        layer_sizes(s["width"], s["depth"]), s["n_train"], settings, progress=True,
    )  # fmt: skip
    model = trained.snapshots[1.0].to(device)
    curve = redundancy_curve(
        model, x_test, y_test, s["fractions"], s["draws"], snakemake.params.seed
    )
    log.info("\n%s", curve.groupby(["method", "fraction_removed"])["test_error"].mean())
    write_parquet(curve, snakemake.output[0])
