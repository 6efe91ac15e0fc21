"""The dropout-phase experiment (paper A): shards of models, their training and evaluation.

A shard is every (p_train, run) model of one (width, depth, N), trained together as one ensemble
and stored in one file; its evaluation is one per-mask table.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import time
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import torch

from prunephase import __version__
from prunephase.core.io import atomic_path
from prunephase.dropout_phases.evaluation import evaluate_ensemble, memory_budget
from prunephase.dropout_phases.settings import Evaluation, Training
from prunephase.mnist import MNIST, inputs
from prunephase.nn.ensemble import MLPEnsemble, Network, layer_sizes
from prunephase.nn.training import (
    Adam,
    ModelSeeds,
    TrainingSettings,
    draw_subsets,
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


def shard_models(p_train: Sequence[float], runs: int) -> list[tuple[float, int]]:
    """The (p_train, run) pairs of a shard, in ensemble order."""
    return [(float(p), run) for p in p_train for run in range(runs)]


def network(width: int, depth: int, activation: str) -> Network:
    """The paper's networks: 784 -> width^depth -> 10, ``torch.nn.Linear`` layers with biases."""
    return Network(sizes=tuple(layer_sizes(width, depth)), activation=activation, init="torch",
                   bias=True)  # fmt: skip


def training_settings(training: Training, rescale: bool) -> TrainingSettings:
    """The paper's training: Adam on the mean cross-entropy, with the configured length."""
    return TrainingSettings(
        optimiser=Adam(lr=training.lr, betas=training.betas, eps=training.eps),
        loss="cross_entropy",
        batch_size=training.batch_size,
        epochs=training.epochs,
        min_steps=training.min_steps,
        snapshots=training.snapshots,
        rescale=rescale,
    )


def split_tensors(
    mnist: MNIST, split: str, scaling: str, device: torch.device
) -> tuple[torch.Tensor, torch.Tensor]:
    """:func:`prunephase.mnist.inputs` of one split, as tensors on ``device``."""
    x, y = inputs(mnist, split, scaling)
    return torch.from_numpy(x).to(device), torch.from_numpy(y).to(device)


def train_shard(
    mnist: MNIST,
    path: os.PathLike,
    *,
    seed: int,
    device: str,
    width: int,
    depth: int,
    n_train: int,
    p_train: Sequence[float],
    runs: int,
    activation: str,
    rescale: bool,
    input_scaling: str,
    training: Training,
) -> None:
    """Train every model of the shard (width, depth, N) and store the snapshots at ``path``.

    Model (p_train, run) has the seeds :func:`~prunephase.nn.training.model_seeds` of
    ``(width, depth, N, p_train, run)``. The file (``torch.save``) holds the parameters of every
    snapshot, the per-epoch training losses, every model's seeds, the settings and package
    version that made it.
    """
    torch_device = resolve_device(device)
    x, y = split_tensors(mnist, "train", input_scaling, torch_device)
    models = shard_models(p_train, runs)
    seeds = [model_seeds(seed, width, depth, n_train, p, r) for p, r in models]
    log.info(
        "shard w=%d d=%d N=%d: %d models on %s", width, depth, n_train, len(models), torch_device
    )
    start = time.perf_counter()
    result = train_ensemble(
        x,
        y,
        draw_subsets(seeds, n_train, len(x)),
        [p for p, _ in models],
        seeds,
        network(width, depth, activation),
        training_settings(training, rescale),
        progress=True,
    )
    seconds = time.perf_counter() - start
    log.info(
        "trained %d epochs x %d steps in %.1f s",
        result.schedule.epochs,
        result.schedule.steps_per_epoch,
        seconds,
    )
    made_by = {
        "p_train": list(p_train), "runs": runs, "activation": activation, "rescale": rescale,
        "input_scaling": input_scaling, "training": dataclasses.asdict(training),
    }  # fmt: skip
    shard = {
        "format": SHARD_FORMAT,
        "version": __version__,
        "config": {"seed": seed, "dropout_phases": made_by},
        "width": width,
        "depth": depth,
        "n_train": n_train,
        "activation": activation,
        "models": models,
        "seeds": [dataclasses.asdict(s) for s in seeds],
        "epochs": result.schedule.epochs,
        "steps_per_epoch": result.schedule.steps_per_epoch,
        "snapshot_epochs": result.schedule.snapshot_epochs,
        "snapshots": {
            f: {"weights": m.weights, "biases": m.biases} for f, m in result.snapshots.items()
        },
        "train_loss": result.train_loss,
        "device": str(torch_device),
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
    mnist: MNIST,
    shard: Mapping[str, Any],
    *,
    device: str,
    p_eval: Sequence[float],
    evaluation: Evaluation,
    rescale: bool,
    input_scaling: str,
    budget: int | None = None,
) -> pd.DataFrame:
    """Per-mask test accuracy and cross-entropy of every model and snapshot of a shard.

    ``budget`` (bytes) bounds the memory of a chunk of the evaluation; by default
    :func:`~prunephase.dropout_phases.evaluation.memory_budget` of the device.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`PER_MASK_COLUMNS`: ``accuracy`` is the fraction of the 10000 test images
        classified correctly, ``cross_entropy`` the mean test cross-entropy in nats, of one
        network pruned by one mask; ``train_fraction``/``epoch`` identify the snapshot.
    """
    torch_device = resolve_device(device)
    x_test, y_test = split_tensors(mnist, "test", input_scaling, torch_device)
    seeds = [ModelSeeds(**s) for s in shard["seeds"]]
    budget = memory_budget(torch_device) if budget is None else budget
    frames = []
    for fraction, params in sorted(shard["snapshots"].items()):
        model = MLPEnsemble(params["weights"], params["biases"], shard["activation"])
        table = evaluate_ensemble(
            model.to(torch_device),
            [s.evaluation for s in seeds],
            x_test,
            y_test,
            p_eval,
            evaluation.masks,
            rescale=rescale,
            scope=evaluation.mask_scope,
            budget=budget,
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
