"""Snakemake job: train MLPs on MNIST, remove connections, record the test error (paper B)."""

import torch

from prunephase.data import load_npz
from prunephase.dropout_phases import inputs
from prunephase.io import write_parquet
from prunephase.logs import job_log
from prunephase.models import layer_sizes
from prunephase.rap.redundancy import redundancy_curve
from prunephase.training import TrainingSettings, model_seeds, resolve_device, train_ensemble

snakemake = globals()["snakemake"]

with job_log(snakemake.log[0]) as log:
    torch.set_num_threads(snakemake.threads)
    s = snakemake.params.redundancy
    device = resolve_device(snakemake.params.device)
    data = inputs(load_npz(snakemake.input.mnist), "standardise", device)
    seeds = [
        model_seeds(snakemake.params.seed, s["width"], s["depth"], s["n_train"], 0.0, run)
        for run in range(s["runs"])
    ]
    settings = TrainingSettings(epochs=s["epochs"], min_steps=0)
    trained = train_ensemble(
        data["x_train"], data["y_train"], [0.0] * s["runs"], seeds,
        layer_sizes(s["width"], s["depth"]), s["n_train"], settings, progress=True,
    )  # fmt: skip
    model = trained.snapshots[1.0].to(device)
    curve = redundancy_curve(
        model, data["x_test"], data["y_test"], s["fractions"], s["draws"], snakemake.params.seed
    )
    log.info("\n%s", curve.groupby(["method", "fraction_removed"])["test_error"].mean())
    write_parquet(curve, snakemake.output[0])
