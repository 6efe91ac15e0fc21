"""Pruning the first hidden layer of a sigmoid MLP on MNIST by every method (paper C, real data).

The network is 784-500-500-10 at paper scale (``teacher_student.mnist.hidden``) with sigmoid hidden
units, Xavier-uniform weights and zero biases, trained by SGD with momentum on the mean
cross-entropy with the project's ensemble trainer (:func:`prunephase.nn.training.train_ensemble`:
every network of the study in one ensemble, each with its own seeds). A network stops at the first
epoch at which its accuracy on its training images reaches ``stop_train_accuracy``
(:func:`train_networks`). The first hidden layer of each (``W1`` (500, 784), ``b1``) is pruned at
matched parameter counts (:func:`~prunephase.teacher_student.pruning.mnist_budget`), with and
without reweighting, and the test error is measured.

Methods on MNIST:

- random node / DPP node / importance node: the DPP kernel is built from the first-layer
  pre-activations on training images, as an RBF kernel of the units' distances or as their
  second-moment matrix (the analogue of ``Q``); the importance of a unit is the Euclidean norm of
  its outgoing weights ``W2[:, j]``.
- random edge / importance edge: per unit, each weight kept with probability ``c = e / N`` / the
  ``e`` largest ``|w|``, with ``e`` matched to ``k`` kept nodes.
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
    mnist_budget,
    node_reweighting,
    node_subsets,
    random_edge_mask,
    rbf_kernel,
)
from prunephase.teacher_student.settings import MnistPruning, MnistTraining

log = logging.getLogger("prunephase")

#: identifies this study in the seed keys (paper C, MNIST part): network k trains with
#: ``model_seeds(seed, STUDY_MNIST, k)``, its pruning masks use the streams
#: ``(STUDY_MNIST, k, MASKS, m, kept units)`` (see :mod:`prunephase.core.seeds`)
STUDY_MNIST = 31
MASKS = 1

#: the DPP kernels of the MNIST networks' units
KERNELS = ("rbf", "linear")

TRAINING_COLUMNS = ["network", "epoch", "train_loss", "train_error", "test_error", "kept"]
PRUNING_COLUMNS = [
    "network", "method", "reweight", "kept_percent", "kept_units", "edges_per_unit",
    "params_kept", "params_fraction", "draw", "test_error", "test_error_unpruned",
]  # fmt: skip


def mnist_network(training: MnistTraining, n_in: int = 784, n_out: int = 10) -> Network:
    """The sigmoid MLP ``n_in -> hidden -> n_out``: Xavier-uniform weights, zero initial biases
    (trained)."""
    return Network(sizes=(n_in, *training.hidden, n_out), activation="sigmoid",
                   init="xavier_uniform", bias=True)  # fmt: skip


def training_settings(training: MnistTraining) -> TrainingSettings:
    """SGD with momentum on the mean cross-entropy, at most ``max_epochs`` full passes, no
    dropout."""
    return TrainingSettings(
        optimiser=SGD(lr=training.lr, momentum=training.momentum),
        loss="cross_entropy",
        batch_size=training.batch_size,
        epochs=training.max_epochs,
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


@torch.no_grad()
def training_fit(
    model: MLPEnsemble, x: torch.Tensor, y: torch.Tensor, subsets: torch.Tensor, chunk: int = 10000
) -> tuple[np.ndarray, np.ndarray]:
    """Mean cross-entropy and error rate of every network on its own training images.

    Parameters
    ----------
    x, y
        All training images (n_total, n_in) and labels, on the model's device.
    subsets
        Each network's training indices, (M, n_train), same device.

    Returns
    -------
    loss, error
        Shapes (M,) and (M,).
    """
    loss = torch.zeros(model.n_models, device=x.device, dtype=torch.float64)
    wrong = torch.zeros(model.n_models, device=x.device, dtype=torch.float64)
    for start in range(0, subsets.shape[1], chunk):
        index = subsets[:, start : start + chunk]
        logits = forward(model, x[index])
        loss += torch.nn.functional.cross_entropy(
            logits.transpose(1, 2), y[index], reduction="none"
        ).sum(dim=1, dtype=torch.float64)
        wrong += (logits.argmax(dim=2) != y[index]).sum(dim=1, dtype=torch.float64)
    n = subsets.shape[1]
    return (loss / n).cpu().numpy(), (wrong / n).cpu().numpy()


class _EveryNetworkStopped(Exception):
    """Raised by the epoch callback of :func:`train_networks` to end the ensemble's training."""


def train_networks(
    x: torch.Tensor,
    y: torch.Tensor,
    x_test: torch.Tensor,
    y_test: torch.Tensor,
    training: MnistTraining,
    seed: int,
) -> tuple[MLPEnsemble, pd.DataFrame, np.ndarray]:
    """Train the ``training.seeds`` networks as one ensemble (:func:`~prunephase.nn.training.
    train_ensemble`), each until its accuracy on its training images reaches
    ``stop_train_accuracy`` or ``max_epochs`` have passed.

    Network k has the seeds ``model_seeds(seed, STUDY_MNIST, k)``: its initialisation, its
    training subset of ``n_train`` images (a uniform draw, in random order) and its batch order.
    After every epoch the epoch callback measures every network on its training images and the
    test images, and keeps a network's parameters from the first epoch at which it reaches the
    accuracy: its later epochs (it goes on training inside the ensemble) change nothing that is
    kept. The ensemble stops when every network has stopped (the callback raises) or after
    ``max_epochs``. The measurement costs a forward pass over the training images per epoch,
    about a third of an epoch's arithmetic.

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
        The kept networks, on the CPU.
    history
        Columns ``network, epoch``, ``train_loss`` and ``train_error`` (mean cross-entropy and
        error rate on the network's training images after the epoch), ``test_error``, ``kept``
        (true at the epoch whose parameters the network keeps); one row per network and epoch
        trained, epoch 0 the initial network.
    subsets
        Each network's training-image indices in their random order, shape (M, n_train).
    """
    seeds = [model_seeds(seed, STUDY_MNIST, k) for k in range(training.seeds)]
    subsets = draw_subsets(seeds, training.n_train, len(x))
    on_device = subsets.to(x.device)
    rows: list[tuple] = []
    stopped = np.zeros(training.seeds, dtype=bool)
    kept: list[MLPEnsemble] = []

    def record(epoch: int, model: MLPEnsemble) -> None:
        loss, error = training_fit(model, x, y, on_device)
        test = error_rates(model, x_test, y_test)
        running = torch.from_numpy(~stopped).to(x.device)
        if not kept:
            kept.append(model.detached_copy())
        for dst, src in zip(kept[0].parameters(), model.parameters(), strict=True):
            dst[running] = src[running]
        # a network stops once, at its first epoch at or above the accuracy; epoch 0 is the start
        newly = ~stopped & (1.0 - error >= training.stop_train_accuracy) & (epoch > 0)
        final = epoch == training.max_epochs
        for k in range(training.seeds):
            rows.append(
                (k, epoch, loss[k], error[k], test[k], bool(newly[k] or (final and not stopped[k])))
            )
        stopped[newly] = True
        log.info(
            "epoch %d: train error %s, test error %s, stopped %s", epoch,
            np.array2string(error, precision=4), np.array2string(test, precision=4),
            np.flatnonzero(stopped).tolist(),
        )  # fmt: skip
        if stopped.all():
            raise _EveryNetworkStopped

    try:
        train_ensemble(
            x, y, subsets, [0.0] * training.seeds, seeds, mnist_network(training, x.shape[1]),
            training_settings(training), progress=True, on_epoch=record,
        )  # fmt: skip
    except _EveryNetworkStopped:
        pass
    history = pd.DataFrame(rows, columns=TRAINING_COLUMNS).sort_values(
        ["network", "epoch"], ignore_index=True
    )
    return kept[0].to("cpu"), history, subsets.numpy()


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


def mnist_dpp_kernel(pre_activations: np.ndarray, pruning: MnistPruning) -> np.ndarray:
    """The DPP kernel of the first-layer units from their pre-activations on the fit images.

    ``rbf``: :func:`~prunephase.teacher_student.pruning.rbf_kernel` with ``rbf_gamma``;
    ``linear``: the second-moment matrix (:func:`~prunephase.teacher_student.pruning.dpp_kernel`).
    Either with ``dpp_jitter`` times the mean diagonal added to the diagonal.

    Parameters
    ----------
    pre_activations
        Shape (n, K).

    Returns
    -------
    np.ndarray
        Shape (K, K).
    """
    if pruning.dpp_kernel == "rbf":
        return rbf_kernel(pre_activations, pruning.rbf_gamma, pruning.dpp_jitter)
    if pruning.dpp_kernel == "linear":
        second = pre_activations.T @ pre_activations / len(pre_activations)
        return dpp_kernel(second, pruning.dpp_jitter)
    raise ValueError(f"unknown DPP kernel {pruning.dpp_kernel!r}; known: {KERNELS}")


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
        Trained weights (first layer ``W[0]`` of shape (K, N), second ``W[1]`` (H2, K)).
    x_fit
        Training images (n, N) for the DPP kernel and the reweighting fits.
    x_test, y_test
        Test images (n_test, N) and labels (n_test,).
    pruning
        ``budget`` and ``kept_percent``: the budgets, each giving ``k`` kept units and ``e``
        weights per unit (:func:`~prunephase.teacher_student.pruning.mnist_budget`); ``draws``
        averaged for random and DPP methods (importance methods are deterministic); the relative
        ``ridge`` of the edge-reweighting regression; the DPP kernel (:func:`mnist_dpp_kernel`).
        (``fit_samples`` and ``input_scaling`` made ``x_fit``.)
    seed, network
        Root seed and network number; the draws of method ``m`` at ``k`` kept units come from
        the stream ``(STUDY_MNIST, network, MASKS, m, k)``.

    Returns
    -------
    pd.DataFrame
        One row per (method, reweight, kept_percent, draw): ``network, method, reweight,
        kept_percent, kept_units, edges_per_unit, params_kept`` (parameters of the budget kept),
        ``params_fraction``, ``draw``, ``test_error``, ``test_error_unpruned``.
    """
    W1, b1 = layers.W[0], layers.b[0]
    W2, b2 = layers.W[1], layers.b[1]
    K, N = W1.shape
    pre_fit = x_fit @ W1.T + b1
    act_fit = _sigmoid(pre_fit)
    kernel = mnist_dpp_kernel(pre_fit, pruning)
    off = kernel[~np.eye(K, dtype=bool)]
    log.info(
        "DPP kernel (%s): mean diagonal %.4g, off-diagonal mean %.4g, largest %.4g",
        pruning.dpp_kernel, np.diag(kernel).mean(), off.mean(), off.max(),
    )  # fmt: skip
    act_mean = act_fit.mean(0)
    act_cov = np.cov(act_fit, rowvar=False)
    x_mean = x_fit.mean(0)
    x_cov = np.cov(x_fit, rowvar=False)
    importance = np.linalg.norm(W2, axis=0)
    h1_test = _sigmoid(x_test @ W1.T + b1)
    unpruned = _head_error(layers, h1_test, W2, b2, y_test)

    rows = []
    for percent in pruning.kept_percent:
        k, e, node_params, edge_params, total = mnist_budget(
            percent, K, N, W2.shape[0], pruning.budget
        )
        budget = (percent, k)
        for m, method in enumerate(METHODS):
            rng = generator(seed, STUDY_MNIST, network, MASKS, m, k)
            if method in NODE_METHODS:
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
                            (network, method, reweight, *budget, N, node_params,
                             node_params / total, d, err, unpruned)
                        )  # fmt: skip
            else:
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
                            (network, method, reweight, *budget, e, edge_params,
                             edge_params / total, d, err, unpruned)
                        )  # fmt: skip
            log.info("%s at %g%% (k=%d, e=%d) done", method, percent, k, e)
    return pd.DataFrame(rows, columns=PRUNING_COLUMNS)


__all__ = [
    "EDGE_METHODS", "KERNELS", "PRUNING_COLUMNS", "STUDY_MNIST", "TRAINING_COLUMNS", "Layers",
    "error_rates", "load_network", "mnist_dpp_kernel", "mnist_network", "prune_mnist",
    "prune_network", "save_networks", "train_networks", "training_fit", "training_settings",
]  # fmt: skip
