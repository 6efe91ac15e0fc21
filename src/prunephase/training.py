"""Batched ensemble training: every (p_train, run) model of a shard trained as one computation.

Each model has its own seeds (initialisation, training subset, mini-batch order, dropout masks), so
model k's trajectory does not depend on which other models share its ensemble: it is the same
network that :mod:`prunephase.reference` trains alone with ``torch.nn`` (tested).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from prunephase.models import MLPEnsemble, forward, init_ensemble

log = logging.getLogger("prunephase")

#: glibc's malloc returns every freed block above its mmap threshold (at most 32 MB by default) to
#: the operating system and page-faults it back on the next allocation. A training step allocates
#: several 10-200 MB tensors (activations, gradients), so on the CPU that costs about a third of the
#: matrix-product time of a 200-model shard (one core: 55 vs 82 GFLOP/s). These thresholds keep
#: such blocks in the heap. They act only when set before the process starts: the workflow sets
#: them for its jobs (rules/common.smk), the benchmark re-executes itself with them.
CPU_ALLOCATOR_ENV = {"MALLOC_MMAP_THRESHOLD_": str(2**32), "MALLOC_TRIM_THRESHOLD_": str(2**36)}


def resolve_device(name: str = "auto") -> torch.device:
    """The torch device for a config value: ``auto`` is CUDA when available, else the CPU."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("device: cuda was asked for, but torch sees no CUDA device")
    return torch.device(name)


class TrainingDivergedError(RuntimeError):
    """The training loss of at least one model became NaN or infinite."""


@dataclass(frozen=True)
class TrainingSettings:
    """Adam on the mean cross-entropy of mini-batches; lengths in epochs and optimiser steps."""

    lr: float = 1e-3
    betas: tuple[float, float] = (0.9, 0.999)
    eps: float = 1e-8
    batch_size: int = 128
    epochs: int = 100
    min_steps: int = 4000
    snapshots: tuple[float, ...] = (1.0,)
    rescale: bool = True


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


def model_seeds(
    root: int, width: int, depth: int, n_train: int, p_train: float, run: int
) -> ModelSeeds:
    """Seeds of the model (architecture, N, p_train, run), derived from the root seed.

    numpy's SeedSequence mixes the identifying integers into independent streams, so two models
    share no seed, and a model's seeds do not depend on the grid it was run in.
    """
    key = (width, depth, n_train, round(p_train * 1_000_000), run)
    state = np.random.SeedSequence(root, spawn_key=key).generate_state(5, dtype=np.uint64)
    return ModelSeeds(*(int(s) >> 1 for s in state))


def draw_subset(seed: int, n_train: int, n_total: int) -> torch.Tensor:
    """Indices (n_train,) of a model's training subset: a uniform draw without replacement."""
    if not 0 < n_train <= n_total:
        raise ValueError(f"training-set size {n_train} outside 1..{n_total}")
    generator = torch.Generator().manual_seed(seed)
    return torch.randperm(n_total, generator=generator)[:n_train]


def uniform_int16(n: int, generator: torch.Generator) -> torch.Tensor:
    """``n`` uniform draws on the 65536 values of int16: four per 64-bit number of ``generator``.

    A float ``torch.rand`` costs one generator call per value; a dropout decision needs far fewer
    than 32 random bits, and this is several times cheaper.
    """
    words = torch.empty((n + 3) // 4, dtype=torch.int64, device=generator.device)
    return words.random_(-(2**63), None, generator=generator).view(torch.int16)[:n]


def keep_threshold(p: torch.Tensor) -> torch.Tensor:
    """The int16 threshold of a drop probability: a unit is kept iff its draw ``>= threshold``.

    P(kept) = 1 - round(65536 p) / 65536: the rate is p to within 2^-17 (e.g. 0.1 -> 0.1000061).
    """
    return (torch.round(p * 65536) - 32768).to(torch.int16)


def keep_factors(u: torch.Tensor, p: torch.Tensor, rescale: bool) -> torch.Tensor:
    """Dropout factors from int16 draws: 0 for a dropped unit, 1/(1-p) (or 1) for a kept one.

    Parameters
    ----------
    u
        Draws of :func:`uniform_int16`, any shape (..., n).
    p
        Drop probabilities, float, broadcastable against ``u`` (e.g. (M, 1, 1): one per model).
    rescale
        Inverted dropout (scale kept units by 1/(1-p)) or plain masking.
    """
    scale = 1.0 / (1.0 - p) if rescale else torch.ones_like(p)
    return (u >= keep_threshold(p)) * scale


class DropoutStream:
    """Per-model dropout masks for the hidden layers, drawn from each model's own generator.

    At every step, model k with p_k > 0 draws ``uniform_int16(batch * sum(hidden_sizes))`` from
    its generator (one call; row-major (batch, units), layers in order along the units); a model
    with p_k = 0 draws nothing. This is the stream the ``torch.nn`` reference reproduces, one model
    at a time.
    """

    def __init__(
        self,
        p: Sequence[float],
        seeds: Sequence[int],
        hidden_sizes: Sequence[int],
        rescale: bool,
        device: torch.device,
    ) -> None:
        self.p = torch.tensor(p, dtype=torch.float32, device=device).view(-1, 1, 1)
        self.hidden_sizes = list(hidden_sizes)
        self.rescale = rescale
        self.active = [k for k, pk in enumerate(p) if pk > 0]
        self.generators = {
            k: torch.Generator(device=device).manual_seed(seeds[k]) for k in self.active
        }
        # A CPU generator fills its tensor on one core: split the models over the cores (each
        # still draws from its own generator, so the numbers do not change).
        workers = torch.get_num_threads() if device.type == "cpu" else 1
        self._groups = [self.active[i::workers] for i in range(workers) if self.active[i::workers]]
        self._pool = ThreadPoolExecutor(len(self._groups)) if len(self._groups) > 1 else None

    def _draw(self, words: torch.Tensor, models: Sequence[int]) -> None:
        for k in models:
            words[k].random_(-(2**63), None, generator=self.generators[k])

    def __call__(self, batch: int) -> list[torch.Tensor | None]:
        """Dropout factors per hidden layer, each (M, batch, n_l), or None if no model drops."""
        if not self.active:
            return [None] * len(self.hidden_sizes)
        units = sum(self.hidden_sizes)
        n = batch * units
        # uniform_int16's layout, one row per model; rows of p = 0 models stay uninitialised:
        # their threshold keeps every value
        words = torch.empty(self.p.shape[0], (n + 3) // 4, dtype=torch.int64, device=self.p.device)
        if self._pool is None:
            self._draw(words, self.active)
        else:
            list(self._pool.map(lambda group: self._draw(words, group), self._groups))
        u = words.view(torch.int16)[:, :n].unflatten(1, (batch, units))
        factors = keep_factors(u, self.p, self.rescale)
        return list(torch.split(factors, self.hidden_sizes, dim=2))

    def close(self) -> None:
        """Stop the drawing threads."""
        if self._pool is not None:
            self._pool.shutdown()


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
    p_train: Sequence[float],
    seeds: Sequence[ModelSeeds],
    sizes: Sequence[int],
    n_train: int,
    settings: TrainingSettings,
    activation: str = "relu",
    progress: bool = False,
) -> TrainedEnsemble:
    """Train M = len(p_train) networks at once with Adam and per-model neuron dropout.

    Parameters
    ----------
    x
        All training inputs, shape (n_total, n_in), float32, on the training device.
    y
        Their labels, shape (n_total,), int64, same device.
    p_train
        Dropout rate of each model, length M.
    seeds
        :class:`ModelSeeds` of each model, length M.
    sizes
        Layer sizes (n_in, n_1, ..., n_out).
    n_train
        Training examples per model; model k uses the subset :func:`draw_subset` gives.
    settings
        Optimiser and length settings.

    Raises
    ------
    TrainingDivergedError
        If a model's loss is NaN or infinite at the end of an epoch; names the models.
    """
    device = x.device
    n_models = len(p_train)
    plan = schedule(n_train, settings)
    model = init_ensemble([s.init for s in seeds], sizes, activation, device)
    params = model.parameters()
    for tensor in params:
        tensor.requires_grad_(True)
    # Adam is elementwise, so one optimiser over stacked tensors is exactly Adam per model.
    optimiser = torch.optim.Adam(
        params, lr=settings.lr, betas=tuple(settings.betas), eps=settings.eps, fused=True
    )
    subsets = torch.stack([draw_subset(s.subset, n_train, len(x)) for s in seeds]).to(device)
    order_generators = [torch.Generator(device=device).manual_seed(s.order) for s in seeds]
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
    try:
        for epoch in epochs:
            order = torch.stack(
                [
                    subsets[k][torch.randperm(n_train, generator=g, device=device)]
                    for k, g in enumerate(order_generators)
                ]
            )
            epoch_loss = torch.zeros(n_models, device=device)
            for start in range(0, n_train, batch):
                index = order[:, start : start + batch]
                rows = index.numel()
                inputs = torch.index_select(x, 0, index.reshape(-1), out=gathered[:rows])
                logits = forward(
                    model, inputs.view(n_models, index.shape[1], -1), dropout(index.shape[1])
                )
                loss = (
                    F.cross_entropy(
                        logits.reshape(-1, logits.shape[-1]), y[index].reshape(-1), reduction="none"
                    )
                    .view(n_models, -1)
                    .mean(dim=1)
                )
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
                    + f"; lr={settings.lr}. No output was written."
                )
            if epoch + 1 in snapshot_at:
                snapshots[snapshot_at[epoch + 1]] = model.detached_copy().to("cpu")
    finally:
        dropout.close()
    return TrainedEnsemble(snapshots, plan, losses)
