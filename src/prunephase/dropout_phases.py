"""The dropout-phase experiment (paper A): shards of models, their training and evaluation.

A shard is every (p_train, run) model of one (width, depth, N), trained together as one ensemble
and stored in one file; its evaluation is one per-mask table.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import time
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
import torch

from prunephase import __version__
from prunephase.data import MNIST, flatten_inputs
from prunephase.evaluation import evaluate_ensemble
from prunephase.io import atomic_path
from prunephase.models import MLPEnsemble, layer_sizes
from prunephase.training import (
    ModelSeeds,
    TrainingSettings,
    model_seeds,
    resolve_device,
    train_ensemble,
)

log = logging.getLogger("prunephase")

SHARD_FORMAT = "prunephase.dropout_phases.shard/1"

#: columns of the per-mask table of a shard
PER_MASK_COLUMNS = [
    "width", "depth", "N", "p_train", "run", "train_fraction", "epoch", "p_eval", "mask",
    "accuracy", "cross_entropy",
]  # fmt: skip


def shard_models(study: Mapping[str, Any]) -> list[tuple[float, int]]:
    """The (p_train, run) pairs of a shard, in ensemble order."""
    return [(float(p), run) for p in study["p_train"] for run in range(study["runs"])]


def training_settings(study: Mapping[str, Any]) -> TrainingSettings:
    """:class:`TrainingSettings` from the ``dropout_phases`` section of the config."""
    t = study["training"]
    return TrainingSettings(
        lr=t["lr"],
        betas=tuple(t["betas"]),
        eps=t["eps"],
        batch_size=t["batch_size"],
        epochs=t["epochs"],
        min_steps=t["min_steps"],
        snapshots=tuple(t["snapshots"]),
        rescale=study["rescale"],
    )


def inputs(
    mnist: MNIST, scaling: str, device: torch.device, split: str
) -> tuple[torch.Tensor, torch.Tensor]:
    """Inputs (n, 784) float32 and labels (n,) int64 of one split (``"train"`` or ``"test"``) on
    ``device``, scaled with the statistics of the full training set."""
    if split not in ("train", "test"):
        raise ValueError(f"unknown split {split!r}; use 'train' or 'test'")
    images, labels = getattr(mnist, f"{split}_images"), getattr(mnist, f"{split}_labels")
    x = flatten_inputs(images, scaling, reference=mnist.train_images)
    return torch.from_numpy(x).to(device), torch.from_numpy(labels).to(device)


def train_shard(
    mnist: MNIST, config: Mapping[str, Any], width: int, depth: int, n_train: int, path: os.PathLike
) -> None:
    """Train every model of the shard (width, depth, N) and store the snapshots at ``path``.

    The file (``torch.save``) holds the parameters of every snapshot, the per-epoch training
    losses, every model's seeds, the config section and package version that made it.
    """
    study = config["dropout_phases"]
    device = resolve_device(config["device"])
    x, y = inputs(mnist, study["input_scaling"], device, "train")
    models = shard_models(study)
    seeds = [model_seeds(config["seed"], width, depth, n_train, p, r) for p, r in models]
    settings = training_settings(study)
    log.info("shard w=%d d=%d N=%d: %d models on %s", width, depth, n_train, len(models), device)
    start = time.perf_counter()
    result = train_ensemble(
        x,
        y,
        [p for p, _ in models],
        seeds,
        layer_sizes(width, depth),
        n_train,
        settings,
        study["activation"],
        progress=True,
    )
    seconds = time.perf_counter() - start
    log.info(
        "trained %d epochs x %d steps in %.1f s",
        result.schedule.epochs,
        result.schedule.steps_per_epoch,
        seconds,
    )
    shard = {
        "format": SHARD_FORMAT,
        "version": __version__,
        "config": {"seed": config["seed"], "dropout_phases": dict(study)},
        "width": width,
        "depth": depth,
        "n_train": n_train,
        "activation": study["activation"],
        "models": models,
        "seeds": [dataclasses.asdict(s) for s in seeds],
        "epochs": result.schedule.epochs,
        "steps_per_epoch": result.schedule.steps_per_epoch,
        "snapshot_epochs": result.schedule.snapshot_epochs,
        "snapshots": {
            f: {"weights": m.weights, "biases": m.biases} for f, m in result.snapshots.items()
        },
        "train_loss": result.train_loss,
        "device": str(device),
        "train_seconds": seconds,
    }
    with atomic_path(path) as tmp:
        torch.save(shard, tmp)


def load_shard(path: os.PathLike) -> dict[str, Any]:
    """Load a shard file written by :func:`train_shard`, checking its format."""
    shard = torch.load(path, map_location="cpu", weights_only=False)
    if not isinstance(shard, dict) or shard.get("format") != SHARD_FORMAT:
        raise ValueError(f"{path}: not a {SHARD_FORMAT} file")
    return shard


def evaluate_shard(
    mnist: MNIST, config: Mapping[str, Any], shard: Mapping[str, Any]
) -> pd.DataFrame:
    """Per-mask test accuracy and cross-entropy of every model and snapshot of a shard.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`PER_MASK_COLUMNS`: ``accuracy`` is the fraction of the 10000 test images
        classified correctly, ``cross_entropy`` the mean test cross-entropy in nats, of one
        network pruned by one mask; ``train_fraction``/``epoch`` identify the snapshot.
    """
    study = config["dropout_phases"]
    device = resolve_device(config["device"])
    x_test, y_test = inputs(mnist, study["input_scaling"], device, "test")
    seeds = [ModelSeeds(**s) for s in shard["seeds"]]
    frames = []
    for fraction, params in sorted(shard["snapshots"].items()):
        model = MLPEnsemble(params["weights"], params["biases"], shard["activation"]).to(device)
        table = evaluate_ensemble(
            model,
            [s.evaluation for s in seeds],
            x_test,
            y_test,
            study["p_eval"],
            study["evaluation"]["masks"],
            study["rescale"],
            study["evaluation"]["mask_scope"],
        )
        p_train, run = (np.array(v) for v in zip(*shard["models"]))
        table["p_train"] = p_train[table["model"]]
        table["run"] = run[table["model"]]
        table["train_fraction"] = fraction
        table["epoch"] = shard["snapshot_epochs"][fraction]
        frames.append(table)
    table = pd.concat(frames, ignore_index=True)
    table["width"], table["depth"], table["N"] = shard["width"], shard["depth"], shard["n_train"]
    return table[PER_MASK_COLUMNS]
