"""Batched ensemble training: M networks trained as one computation.

Each model has its own seeds (initialisation, training subset, mini-batch order, dropout masks), so
model k's trajectory does not depend on which other models share its ensemble: it is the same
network that :mod:`prunephase.nn.reference` trains alone with ``torch.nn`` (tested).

A training step issues the same operations whatever the number of models: the batch orders of an
epoch and the dropout masks of a step are counter-based draws (:mod:`prunephase.nn.streams`)
computed for every model at once, the products are batched over the models, and one fused
optimiser step updates the stacked parameters.

Every study that trains networks uses this trainer: the optimiser (Adam or SGD with momentum), the
loss (cross-entropy over classes, or the absolute error of a single output), the initialisation,
the biases and the activation are settings, not code paths.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F
from tqdm import tqdm

from prunephase.core.seeds import seed_integers
from prunephase.nn.dropout import DropoutStream
from prunephase.nn.ensemble import MLPEnsemble, Network, forward, init_ensemble
from prunephase.nn.streams import permutations, row_keys

log = logging.getLogger("prunephase")

#: losses of :func:`train_ensemble`
LOSSES = ("cross_entropy", "absolute")


def resolve_device(name: str) -> torch.device:
    """The torch device for a config value: ``auto`` is CUDA when available, else the CPU."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("device: cuda was asked for, but torch sees no CUDA device")
    return torch.device(name)


def set_tf32(enabled: bool) -> None:
    """Let float32 matrix products on CUDA use TF32 tensor cores (10-bit mantissa inputs, float32
    accumulation), or not (the default: full float32). No effect on the CPU."""
    torch.backends.cuda.matmul.allow_tf32 = enabled
    torch.backends.cudnn.allow_tf32 = enabled


class TrainingDivergedError(RuntimeError):
    """The training loss of at least one model became NaN or infinite."""


@dataclass(frozen=True, kw_only=True)
class Adam:
    """``torch.optim.Adam``: learning rate, (beta1, beta2), eps; no weight decay."""

    lr: float
    betas: tuple[float, float]
    eps: float


@dataclass(frozen=True, kw_only=True)
class SGD:
    """``torch.optim.SGD`` with (heavy-ball) momentum; no weight decay."""

    lr: float
    momentum: float


@dataclass(frozen=True, kw_only=True)
class TrainingSettings:
    """How an ensemble trains: optimiser, loss, mini-batches, length, snapshots, dropout scaling.

    Attributes
    ----------
    optimiser
        :class:`Adam` or :class:`SGD`. Both are elementwise, so one optimiser over the stacked
        parameters is exactly one optimiser per model.
    loss
        ``"cross_entropy"`` (mean over the batch, integer labels) or ``"absolute"`` (mean of
        ``|y - output|`` for a network with one output and real targets).
    batch_size
        Examples per step; the last batch of an epoch is smaller when it does not divide N.
    epochs, min_steps
        The length: ``max(epochs, ceil(min_steps / steps_per_epoch))`` epochs.
    snapshots
        Fractions of the length after which the parameters are kept (1.0 is always kept).
    rescale
        Inverted dropout: kept units scaled by 1/(1-p).
    """

    optimiser: Adam | SGD
    loss: str
    batch_size: int
    epochs: int
    min_steps: int
    snapshots: tuple[float, ...]
    rescale: bool

    def __post_init__(self) -> None:
        if self.loss not in LOSSES:
            raise ValueError(f"unknown loss {self.loss!r}; known: {LOSSES}")


@dataclass(frozen=True)
class Schedule:
    """How long a model of training-set size N trains.

    Attributes
    ----------
    epochs
        Epochs actually run: ``max(epochs, ceil(min_steps / steps_per_epoch))``.
    steps_per_epoch
        ``ceil(N / batch_size)`` (the last batch of an epoch may be smaller).
    snapshot_epochs
        ``{fraction: epoch}``: the epoch after which the parameters at each fraction are kept.
    """

    epochs: int
    steps_per_epoch: int
    snapshot_epochs: dict[float, int]

    @property
    def steps(self) -> int:
        return self.epochs * self.steps_per_epoch


def schedule(n_train: int, settings: TrainingSettings) -> Schedule:
    """The :class:`Schedule` of a model trained on ``n_train`` examples."""
    steps_per_epoch = math.ceil(n_train / settings.batch_size)
    epochs = max(settings.epochs, math.ceil(settings.min_steps / steps_per_epoch))
    fractions = sorted(set(settings.snapshots) | {1.0})
    return Schedule(epochs, steps_per_epoch, {f: max(1, round(f * epochs)) for f in fractions})


@dataclass(frozen=True)
class ModelSeeds:
    """Independent 63-bit seeds of one model, one per source of randomness."""

    init: int
    subset: int
    order: int
    dropout: int
    evaluation: int


def model_seeds(root: int, *key: float) -> ModelSeeds:
    """Seeds of the model named ``key`` (see :mod:`prunephase.core.seeds`) under the root seed.

    Two models share no seed, and a model's seeds do not depend on the grid it was run in.
    """
    return ModelSeeds(*seed_integers(root, *key, count=5))


def epoch_orders(order_seeds: torch.Tensor, epoch: int, n_train: int) -> torch.Tensor:
    """Every model's order of its training examples in ``epoch`` (from 0): positions into its
    subset, (M, n_train). Model k's order is the permutation of the row
    ``row(order_seed_k, epoch)`` (:func:`prunephase.nn.streams.permutations`)."""
    return permutations(row_keys(order_seeds, epoch), n_train)


def draw_subset(seed: int, n_train: int, n_total: int) -> torch.Tensor:
    """Indices (n_train,) of a model's training subset: a uniform draw without replacement."""
    if not 0 < n_train <= n_total:
        raise ValueError(f"training-set size {n_train} outside 1..{n_total}")
    generator = torch.Generator().manual_seed(seed)
    return torch.randperm(n_total, generator=generator)[:n_train]


def draw_subsets(seeds: Sequence[ModelSeeds], n_train: int, n_total: int) -> torch.Tensor:
    """Every model's training subset (:func:`draw_subset` of its subset seed), (M, n_train)."""
    return torch.stack([draw_subset(s.subset, n_train, n_total) for s in seeds])


def _optimiser(params: list[torch.Tensor], settings: Adam | SGD) -> torch.optim.Optimizer:
    if isinstance(settings, Adam):
        return torch.optim.Adam(
            params, lr=settings.lr, betas=tuple(settings.betas), eps=settings.eps, fused=True
        )
    return torch.optim.SGD(params, lr=settings.lr, momentum=settings.momentum)


def _batch_loss(logits: torch.Tensor, targets: torch.Tensor, loss: str) -> torch.Tensor:
    """Mean loss of each model over its batch: logits (M, B, C), targets (M, B) -> (M,)."""
    if loss == "absolute":
        return (targets - logits[..., 0]).abs().mean(dim=1)
    return (
        F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1), reduction="none")
        .view(logits.shape[0], -1)
        .mean(dim=1)
    )


@dataclass
class TrainedEnsemble:
    """Result of :func:`train_ensemble`.

    Attributes
    ----------
    snapshots
        ``{fraction: parameters}``, parameters on the CPU after ``schedule.snapshot_epochs[f]``.
    schedule
        The training length.
    train_loss
        Mean training loss (with dropout) per epoch and model, shape (epochs, M).
    """

    snapshots: dict[float, MLPEnsemble]
    schedule: Schedule
    train_loss: np.ndarray = field(repr=False)


def train_ensemble(
    x: torch.Tensor,
    y: torch.Tensor,
    subsets: torch.Tensor,
    p_train: Sequence[float],
    seeds: Sequence[ModelSeeds],
    network: Network,
    settings: TrainingSettings,
    progress: bool = False,
    on_epoch: Callable[[int, MLPEnsemble], None] | None = None,
) -> TrainedEnsemble:
    """Train M = len(p_train) networks at once, with per-model neuron dropout.

    Parameters
    ----------
    x
        All training inputs, shape (n_total, n_in), float32, on the training device.
    y
        Their targets, shape (n_total,): int64 class labels (cross-entropy) or float32 values
        (absolute loss), same device.
    subsets
        Each model's training examples, indices into ``x``, shape (M, n_train) (e.g.
        :func:`draw_subsets`).
    p_train
        Dropout rate of each model's hidden units, length M.
    seeds
        :class:`ModelSeeds` of each model (initialisation, batch order, dropout), length M.
    network
        What the networks are (sizes, activation, initialisation, biases).
    settings
        Optimiser, loss, batches and length.
    on_epoch
        Called as ``on_epoch(epoch, model)`` without gradients before training (epoch 0) and
        after every epoch: per-epoch measurements without keeping every snapshot.

    Raises
    ------
    TrainingDivergedError
        If a model's loss is NaN or infinite at the end of an epoch; names the models.
    """
    device = x.device
    n_models, n_train = subsets.shape
    plan = schedule(n_train, settings)
    model = init_ensemble([s.init for s in seeds], network, device)
    params = model.parameters() if network.bias else list(model.weights)
    for tensor in params:
        tensor.requires_grad_(True)
    optimiser = _optimiser(params, settings.optimiser)
    subsets = subsets.to(device)
    order_seeds = torch.tensor([s.order for s in seeds], dtype=torch.int64, device=device)
    dropout = DropoutStream(
        p_train, [s.dropout for s in seeds], model.hidden_sizes, settings.rescale, device
    )
    snapshot_at = {epoch: f for f, epoch in plan.snapshot_epochs.items()}
    snapshots: dict[float, MLPEnsemble] = {}
    losses = np.empty((plan.epochs, n_models))
    batch = settings.batch_size
    # inputs of a step, gathered into one reused buffer (a fresh 10-100 MB tensor per step costs
    # page faults on the CPU)
    gathered = torch.empty(n_models * batch, x.shape[1], device=device)
    epochs = tqdm(range(plan.epochs), desc=f"N={n_train}", disable=not progress, mininterval=10)
    if on_epoch is not None:
        with torch.no_grad():
            on_epoch(0, model)
    for epoch in epochs:
        order = torch.gather(subsets, 1, epoch_orders(order_seeds, epoch, n_train))
        epoch_loss = torch.zeros(n_models, device=device)
        for i, start in enumerate(range(0, n_train, batch)):
            index = order[:, start : start + batch]
            rows = index.numel()
            inputs = torch.index_select(x, 0, index.reshape(-1), out=gathered[:rows])
            keep = dropout(epoch * plan.steps_per_epoch + i, index.shape[1])
            logits = forward(model, inputs.view(n_models, index.shape[1], -1), keep)
            loss = _batch_loss(logits, y[index], settings.loss)
            optimiser.zero_grad(set_to_none=True)
            loss.sum().backward()
            optimiser.step()
            epoch_loss += loss.detach() * index.shape[1]
        losses[epoch] = (epoch_loss / n_train).cpu().numpy()
        if not np.isfinite(losses[epoch]).all():
            bad = np.flatnonzero(~np.isfinite(losses[epoch]))
            raise TrainingDivergedError(
                f"training loss is NaN or infinite in epoch {epoch + 1} for model(s) "
                + ", ".join(f"#{k} (p_train={p_train[k]})" for k in bad[:10])
                + f"; lr={settings.optimiser.lr}. No output was written."
            )
        if epoch + 1 in snapshot_at:
            snapshots[snapshot_at[epoch + 1]] = model.detached_copy().to("cpu")
        if on_epoch is not None:
            with torch.no_grad():
                on_epoch(epoch + 1, model)
    return TrainedEnsemble(snapshots, plan, losses)
