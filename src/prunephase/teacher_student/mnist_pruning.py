"""Pruning the first hidden layer of a sigmoid MLP on MNIST by every method (paper C, real data).

The network is 784-500-500-10 with sigmoid hidden units, Xavier-uniform weights and zero biases,
trained by SGD with momentum on the mean cross-entropy. Its first hidden layer (``W1`` (500, 784),
``b1``) is pruned at matched first-layer parameter counts (see
:mod:`prunephase.teacher_student.pruning`), with and without reweighting, and the test error is
measured.

Methods on MNIST:

- random node / DPP node / importance node: the DPP kernel is the second-moment matrix of the
  first-layer pre-activations on training images (the analogue of ``Q``); the importance of a unit
  is the Euclidean norm of its outgoing weights ``W2[:, j]``.
- random edge / importance edge: per unit, each weight kept with probability ``c`` / the largest
  ``|w|``, with ``c`` matched to ``k`` kept nodes.
- node reweighting: least-squares fit (with intercept) of each removed unit's activation by the
  kept activations on training images, folded into ``W2`` and ``b2``; edge reweighting:
  least-squares fit of the removed part of each pre-activation by the kept inputs (input
  covariance of training images, small ridge), folded into the kept weights and ``b1``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

from prunephase.core.io import atomic_path
from prunephase.teacher_student.pruning import (
    EDGE_METHODS,
    METHODS,
    NODE_METHODS,
    dpp_kernel,
    edge_reweighting,
    importance_edge_mask,
    matched_edges_per_unit,
    node_parameter_count,
    node_reweighting,
    node_subsets,
    random_edge_mask,
)

log = logging.getLogger("prunephase")

#: identifies this study in the seed sequences (paper C, MNIST part)
STUDY = 31

TRAINING_COLUMNS = ["network", "epoch", "train_loss", "test_error"]
PRUNING_COLUMNS = [
    "network", "method", "reweight", "kept_units", "edges_per_unit", "params_kept",
    "params_fraction", "draw", "test_error", "test_error_unpruned",
]  # fmt: skip


@dataclass(frozen=True)
class TrainingConfig:
    """SGD settings of the MNIST network (``teacher_student.mnist`` config section)."""

    hidden: tuple[int, ...] = (500, 500)
    lr: float = 1e-3
    momentum: float = 0.9
    batch_size: int = 1000
    epochs: int = 10
    n_train: int = 60000


def build_mlp(sizes: list[int], seed: int) -> torch.nn.Sequential:
    """Sigmoid MLP with layer sizes ``sizes`` (e.g. [784, 500, 500, 10]), Xavier-uniform weights and
    zero biases."""
    generator = torch.Generator().manual_seed(seed)
    layers: list[torch.nn.Module] = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        linear = torch.nn.Linear(n_in, n_out)
        torch.nn.init.xavier_uniform_(linear.weight, generator=generator)
        torch.nn.init.zeros_(linear.bias)
        layers.append(linear)
        if i < len(sizes) - 2:
            layers.append(torch.nn.Sigmoid())
    return torch.nn.Sequential(*layers)


def train_mlp(
    x_train: np.ndarray,
    y_train: np.ndarray,
    x_test: np.ndarray,
    y_test: np.ndarray,
    config: TrainingConfig,
    seed: int,
    network: int,
) -> tuple[torch.nn.Sequential, pd.DataFrame, np.ndarray]:
    """Train network number ``network``; its training subset (``n_train`` images), initialisation
    and batch order derive from ``(seed, STUDY, network)``.

    Returns
    -------
    model
        The trained network.
    history
        Columns ``network, epoch, train_loss`` (mean cross-entropy over the epoch's batches) and
        ``test_error`` (fraction misclassified), one row per epoch plus epoch 0 (initial).
    subset
        Indices of the training images used, in a random order (shape (n_train,)).
    """
    seeds = np.random.SeedSequence([seed, STUDY, network]).generate_state(3)
    rng = np.random.default_rng(seeds[0])
    subset = rng.permutation(len(x_train))[: config.n_train]
    x = torch.as_tensor(x_train[subset], dtype=torch.float32)
    y = torch.as_tensor(y_train[subset], dtype=torch.long)
    model = build_mlp([x.shape[1], *config.hidden, 10], int(seeds[1]))
    optimiser = torch.optim.SGD(model.parameters(), lr=config.lr, momentum=config.momentum)
    order = torch.Generator().manual_seed(int(seeds[2]))
    history = [(network, 0, float("nan"), _error(model, x_test, y_test))]
    for epoch in range(1, config.epochs + 1):
        losses = []
        for batch in torch.randperm(len(x), generator=order).split(config.batch_size):
            optimiser.zero_grad()
            loss = torch.nn.functional.cross_entropy(model(x[batch]), y[batch])
            loss.backward()
            optimiser.step()
            losses.append(loss.item())
        history.append((network, epoch, float(np.mean(losses)), _error(model, x_test, y_test)))
        log.info("network %d epoch %d: loss %.4f, test error %.4f", *history[-1])
    return model, pd.DataFrame(history, columns=TRAINING_COLUMNS), subset


@torch.no_grad()
def _error(model: torch.nn.Module, x: np.ndarray, y: np.ndarray) -> float:
    logits = model(torch.as_tensor(x, dtype=torch.float32))
    return float((logits.argmax(1).numpy() != y).mean())


@dataclass(frozen=True)
class Layers:
    """Weights of the trained network in float64: ``W[l]`` (n_out, n_in), ``b[l]`` (n_out,)."""

    W: list[np.ndarray]
    b: list[np.ndarray]

    @classmethod
    def from_model(cls, model: torch.nn.Sequential) -> Layers:
        linears = [m for m in model if isinstance(m, torch.nn.Linear)]
        return cls(
            [m.weight.detach().double().numpy() for m in linears],
            [m.bias.detach().double().numpy() for m in linears],
        )


def save_network(layers: Layers, subset: np.ndarray, path) -> None:
    """Write the weights and the training-subset indices to an ``.npz`` file, atomically."""
    arrays = {f"W{i}": W for i, W in enumerate(layers.W)} | {
        f"b{i}": b for i, b in enumerate(layers.b)
    }
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        np.savez(fh, subset=subset, **arrays)


def load_network(path) -> tuple[Layers, np.ndarray]:
    """Read what :func:`save_network` wrote: the weights and the training-subset indices."""
    with np.load(path) as archive:
        n = sum(name.startswith("W") for name in archive.files)
        layers = Layers([archive[f"W{i}"] for i in range(n)], [archive[f"b{i}"] for i in range(n)])
        return layers, archive["subset"]


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


def _head_error(
    layers: Layers, h1: np.ndarray, W2: np.ndarray, b2: np.ndarray, y: np.ndarray
) -> float:
    """Test error given first-hidden-layer activations ``h1`` (n, k) and second-layer weights."""
    h = _sigmoid(h1 @ W2.T + b2)
    for W, b in zip(layers.W[2:], layers.b[2:], strict=True):
        h = h @ W.T + b if W is layers.W[-1] else _sigmoid(h @ W.T + b)
    return float((h.argmax(1) != y).mean())


def prune_mnist(
    layers: Layers,
    x_fit: np.ndarray,
    x_test: np.ndarray,
    y_test: np.ndarray,
    kept_percent: list[float],
    draws: int,
    ridge: float,
    dpp_jitter: float,
    seed: int,
    network: int,
) -> pd.DataFrame:
    """Test error after pruning the first hidden layer by every method, with and without
    reweighting.

    Parameters
    ----------
    layers
        Trained weights (first layer ``W[0]`` of shape (K, N)).
    x_fit
        Training images (n, N) for the DPP kernel, the importance-free statistics and reweighting.
    x_test, y_test
        Test images (n_test, N) and labels (n_test,).
    kept_percent
        Percentages of first-layer parameters to keep; each gives ``k = round(p K / 100)`` kept
        units and the matched ``e`` weights per unit.
    draws
        Draws averaged for random and DPP methods (importance methods are deterministic).
    ridge
        Relative ridge of the edge-reweighting regression.
    dpp_jitter
        Relative jitter added to the DPP kernel's diagonal.
    seed, network
        Root seed and network number; the draws derive from
        ``(seed, STUDY, network, 1, method, k)``.

    Returns
    -------
    pd.DataFrame
        One row per (method, reweight, kept_units, draw): ``network, method, reweight, kept_units,
        edges_per_unit, params_kept`` (first-layer weights and biases kept), ``params_fraction``,
        ``draw``, ``test_error``, ``test_error_unpruned``.
    """
    W1, b1 = layers.W[0], layers.b[0]
    W2, b2 = layers.W[1], layers.b[1]
    K, N = W1.shape
    pre_fit = x_fit @ W1.T + b1
    act_fit = _sigmoid(pre_fit)
    kernel = dpp_kernel(pre_fit.T @ pre_fit / len(x_fit), dpp_jitter)
    act_mean = act_fit.mean(0)
    act_cov = np.cov(act_fit, rowvar=False)
    x_mean = x_fit.mean(0)
    x_cov = np.cov(x_fit, rowvar=False)
    importance = np.linalg.norm(W2, axis=0)
    h1_test = _sigmoid(x_test @ W1.T + b1)
    unpruned = _head_error(layers, h1_test, W2, b2, y_test)
    total = node_parameter_count(K, N)

    rows = []
    for percent in kept_percent:
        k = int(min(K, max(1, round(percent * K / 100))))
        e = matched_edges_per_unit(k, K, N)
        for m, method in enumerate(METHODS):
            rng = np.random.default_rng(np.random.SeedSequence([seed, STUDY, network, 1, m, k]))
            if method in NODE_METHODS:
                params = node_parameter_count(k, N)
                for d, kept in enumerate(node_subsets(method, kernel, importance, k, draws, rng)):
                    for reweight in (False, True):
                        if reweight:
                            A = node_reweighting(act_cov, kept)
                            W2k = W2 @ A.T
                            b2k = b2 + W2 @ act_mean - W2k @ act_mean[kept]
                        else:
                            W2k, b2k = W2[:, kept], b2
                        err = _head_error(layers, h1_test[:, kept], W2k, b2k, y_test)
                        rows.append(
                            (
                                network,
                                method,
                                reweight,
                                k,
                                N,
                                params,
                                params / total,
                                d,
                                err,
                                unpruned,
                            )
                        )
            else:
                params = K * e + K
                n_draws = draws if method == "random_edge" else 1
                for d in range(n_draws):
                    if method == "random_edge":
                        mask = random_edge_mask(W1.shape, e / N, rng)
                    else:
                        mask = importance_edge_mask(W1, e)
                    for reweight in (False, True):
                        W1k = edge_reweighting(W1, mask, x_cov if reweight else None, ridge)
                        b1k = b1 + (W1 - W1k) @ x_mean if reweight else b1
                        h1 = _sigmoid(x_test @ W1k.T + b1k)
                        err = _head_error(layers, h1, W2, b2, y_test)
                        rows.append(
                            (
                                network,
                                method,
                                reweight,
                                k,
                                e,
                                params,
                                params / total,
                                d,
                                err,
                                unpruned,
                            )
                        )
            log.info("%s k=%d (%.0f%%) done", method, k, percent)
    return pd.DataFrame(rows, columns=PRUNING_COLUMNS)


__all__ = [
    "EDGE_METHODS", "PRUNING_COLUMNS", "TRAINING_COLUMNS", "Layers", "TrainingConfig",
    "build_mlp", "load_network", "prune_mnist", "save_network", "train_mlp",
]  # fmt: skip
