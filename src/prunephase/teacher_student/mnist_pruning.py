"""Pruning the first hidden layer of a sigmoid MLP on MNIST by every method (paper C, real data).

The network is 784-500-500-10 at paper scale (``teacher_student.mnist.hidden``) with sigmoid hidden
units, Xavier-uniform weights and zero biases, trained by SGD with momentum on the mean
cross-entropy with the project's ensemble trainer (:func:`prunephase.nn.training.train_ensemble`:
every network of the study in one ensemble, each with its own seeds). The first hidden layer of
each (``W1`` (500, 784), ``b1``) is pruned at matched first-layer parameter counts (see
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
from prunephase.core.seeds import generator
from prunephase.mnist import MNIST, flatten_inputs, inputs
from prunephase.nn.ensemble import MLPEnsemble, Network, forward
from prunephase.nn.training import (
    SGD,
    TrainingSettings,
    draw_subsets,
    model_seeds,
    train_ensemble,
)
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
from prunephase.teacher_student.settings import MnistPruning, MnistTraining

log = logging.getLogger("prunephase")

#: identifies this study in the seed keys (paper C, MNIST part): network k trains with
#: ``model_seeds(seed, STUDY_MNIST, k)``, its pruning masks use the streams
#: ``(STUDY_MNIST, k, MASKS, m, kept units)`` (see :mod:`prunephase.core.seeds`)
STUDY_MNIST = 31
MASKS = 1

TRAINING_COLUMNS = ["network", "epoch", "train_loss", "test_error"]
PRUNING_COLUMNS = [
    "network", "method", "reweight", "kept_units", "edges_per_unit", "params_kept",
    "params_fraction", "draw", "test_error", "test_error_unpruned",
]  # fmt: skip


def mnist_network(training: MnistTraining, n_in: int = 784, n_out: int = 10) -> Network:
    """The sigmoid MLP ``n_in -> hidden -> n_out``: Xavier-uniform weights, zero initial biases
    (trained)."""
    return Network(sizes=(n_in, *training.hidden, n_out), activation="sigmoid",
                   init="xavier_uniform", bias=True)  # fmt: skip


def training_settings(training: MnistTraining) -> TrainingSettings:
    """SGD with momentum on the mean cross-entropy, ``epochs`` full passes, no dropout."""
    return TrainingSettings(
        optimiser=SGD(lr=training.lr, momentum=training.momentum),
        loss="cross_entropy",
        batch_size=training.batch_size,
        epochs=training.epochs,
        min_steps=0,
        snapshots=(1.0,),
        rescale=True,  # no dropout: without effect
    )


@torch.no_grad()
def error_rates(model: MLPEnsemble, x: torch.Tensor, y: torch.Tensor) -> np.ndarray:
    """Fraction of misclassified images of every network, shape (M,); ``x`` (T, n_in), ``y``
    (T,) on the model's device."""
    logits = forward(model, x.expand(model.n_models, -1, -1))
    return (logits.argmax(dim=2) != y).float().mean(dim=1).cpu().numpy()


def train_networks(
    x: torch.Tensor,
    y: torch.Tensor,
    x_test: torch.Tensor,
    y_test: torch.Tensor,
    training: MnistTraining,
    seed: int,
) -> tuple[MLPEnsemble, pd.DataFrame, np.ndarray]:
    """Train the ``training.seeds`` networks as one ensemble (:func:`~prunephase.nn.training.
    train_ensemble`), measuring the test error after every epoch.

    Network k has the seeds ``model_seeds(seed, STUDY_MNIST, k)``: its initialisation, its
    training subset of ``n_train`` images (a uniform draw, in random order) and its batch order.

    Parameters
    ----------
    x, y
        All training images (60000, 784) float32 and labels (60000,) int64, on the training
        device.
    x_test, y_test
        Test images (T, 784) and labels (T,), same device.

    Returns
    -------
    model
        The trained networks, on the CPU.
    history
        Columns ``network, epoch, train_loss`` (mean cross-entropy over the epoch's images, NaN at
        epoch 0) and ``test_error`` (fraction misclassified), one row per network and epoch,
        epoch 0 the initial network.
    subsets
        Each network's training-image indices in their random order, shape (M, n_train).
    """
    seeds = [model_seeds(seed, STUDY_MNIST, k) for k in range(training.seeds)]
    subsets = draw_subsets(seeds, training.n_train, len(x))
    errors: list[np.ndarray] = []

    def record(epoch: int, model: MLPEnsemble) -> None:
        errors.append(error_rates(model, x_test, y_test))
        log.info("epoch %d: test error %s", epoch, np.array2string(errors[-1], precision=4))

    trained = train_ensemble(
        x, y, subsets, [0.0] * training.seeds, seeds, mnist_network(training, x.shape[1]),
        training_settings(training), progress=True, on_epoch=record,
    )  # fmt: skip
    losses = np.vstack([np.full(training.seeds, np.nan), trained.train_loss])  # (epochs + 1, M)
    epochs, nets = np.meshgrid(np.arange(len(errors)), np.arange(training.seeds), indexing="ij")
    history = pd.DataFrame(
        {
            "network": nets.ravel(),
            "epoch": epochs.ravel(),
            "train_loss": losses.ravel(),
            "test_error": np.stack(errors).ravel(),
        }
    ).sort_values(["network", "epoch"], ignore_index=True)
    return trained.snapshots[1.0], history, subsets.numpy()


@dataclass(frozen=True)
class Layers:
    """Weights of one trained network in float64: ``W[l]`` (n_out, n_in), ``b[l]`` (n_out,)."""

    W: list[np.ndarray]
    b: list[np.ndarray]


def save_networks(model: MLPEnsemble, subsets: np.ndarray, path) -> None:
    """Write every network's weights and training-subset indices to one ``.npz`` file, atomically.

    Arrays (leading axis: the network): ``W{l}`` (M, n_out, n_in) and ``b{l}`` (M, n_out) float32,
    as trained, and ``subset`` (M, n_train).
    """
    model = model.to("cpu")
    arrays = {f"W{i}": w.transpose(1, 2).numpy() for i, w in enumerate(model.weights)}
    arrays |= {f"b{i}": b.numpy() for i, b in enumerate(model.biases)}
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        np.savez(fh, subset=subsets, **arrays)


def load_network(path, network: int) -> tuple[Layers, np.ndarray]:
    """Network ``network`` of what :func:`save_networks` wrote: its weights (float64) and its
    training-subset indices (n_train,)."""
    with np.load(path) as archive:
        n = sum(name.startswith("W") for name in archive.files)
        if not 0 <= network < len(archive["subset"]):
            raise IndexError(f"{path} holds {len(archive['subset'])} networks, not #{network}")
        layers = Layers(
            [archive[f"W{i}"][network].astype(np.float64) for i in range(n)],
            [archive[f"b{i}"][network].astype(np.float64) for i in range(n)],
        )
        return layers, archive["subset"][network]


def prune_network(
    mnist: MNIST, path, network: int, pruning: MnistPruning, seed: int
) -> pd.DataFrame:
    """:func:`prune_mnist` of network ``network`` of the file ``path`` (:func:`save_networks`).

    The fit images are the first ``fit_samples`` of the network's training subset, in its order;
    fit and test images are scaled as in training, in float64.
    """
    layers, subset = load_network(path, network)
    x_fit = flatten_inputs(
        mnist.train_images[subset[: pruning.fit_samples]],
        pruning.input_scaling,
        reference=mnist.train_images,
    )
    x_test, y_test = inputs(mnist, "test", pruning.input_scaling)
    return prune_mnist(
        layers, x_fit.astype(np.float64), x_test.astype(np.float64), y_test, pruning, seed,
        network,
    )  # fmt: skip


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
    pruning: MnistPruning,
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
    pruning
        ``kept_percent``: percentages of first-layer parameters to keep, each giving
        ``k = round(p K / 100)`` kept units and the matched ``e`` weights per unit; ``draws``
        averaged for random and DPP methods (importance methods are deterministic); the relative
        ``ridge`` of the edge-reweighting regression; the relative ``dpp_jitter`` of the DPP
        kernel's diagonal. (``fit_samples`` and ``input_scaling`` made ``x_fit``.)
    seed, network
        Root seed and network number; the draws of method ``m`` at ``k`` kept units come from
        the stream ``(STUDY_MNIST, network, MASKS, m, k)``.

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
    kernel = dpp_kernel(pre_fit.T @ pre_fit / len(x_fit), pruning.dpp_jitter)
    act_mean = act_fit.mean(0)
    act_cov = np.cov(act_fit, rowvar=False)
    x_mean = x_fit.mean(0)
    x_cov = np.cov(x_fit, rowvar=False)
    importance = np.linalg.norm(W2, axis=0)
    h1_test = _sigmoid(x_test @ W1.T + b1)
    unpruned = _head_error(layers, h1_test, W2, b2, y_test)
    total = node_parameter_count(K, N)

    rows = []
    for percent in pruning.kept_percent:
        k = int(min(K, max(1, round(percent * K / 100))))
        e = matched_edges_per_unit(k, K, N)
        for m, method in enumerate(METHODS):
            rng = generator(seed, STUDY_MNIST, network, MASKS, m, k)
            if method in NODE_METHODS:
                params = node_parameter_count(k, N)
                for d, kept in enumerate(
                    node_subsets(method, kernel, importance, k, pruning.draws, rng)
                ):
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
                n_draws = pruning.draws if method == "random_edge" else 1
                for d in range(n_draws):
                    if method == "random_edge":
                        mask = random_edge_mask(W1.shape, e / N, rng)
                    else:
                        mask = importance_edge_mask(W1, e)
                    for reweight in (False, True):
                        W1k = edge_reweighting(W1, mask, x_cov if reweight else None, pruning.ridge)
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
    "EDGE_METHODS", "PRUNING_COLUMNS", "STUDY_MNIST", "TRAINING_COLUMNS", "Layers",
    "error_rates", "load_network", "mnist_network", "prune_mnist", "prune_network",
    "save_networks", "train_networks", "training_settings",
]  # fmt: skip
