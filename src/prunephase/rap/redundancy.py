"""Supplement of paper B: an MLP trained on MNIST keeps its test error while most connections go.

Networks are trained with the project's ensemble trainer (no dropout), then a fraction of the
connections of every layer is removed, either uniformly at random or the smallest in magnitude,
and the test error of the pruned network is measured. The weights are not retrained.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np
import pandas as pd
import torch

from prunephase.core.seeds import seed_integers
from prunephase.mnist import MNIST, inputs
from prunephase.nn.ensemble import MLPEnsemble, Network, forward, layer_sizes
from prunephase.nn.training import Adam, TrainingSettings, draw_subsets, model_seeds, train_ensemble
from prunephase.rap.settings import Redundancy

log = logging.getLogger("prunephase")

METHODS = ("random", "magnitude")

#: the stream of these networks under the root seed (see :mod:`prunephase.core.seeds`)
REDUNDANCY = 6
#: the stream of the random removals (network r: ``(REDUNDANCY_MASKS, r)``)
REDUNDANCY_MASKS = 7

#: columns of :func:`redundancy_curve`
REDUNDANCY_COLUMNS = ["run", "method", "fraction_removed", "draw", "test_error"]


def train_networks(
    x: torch.Tensor, y: torch.Tensor, *, seed: int, settings: Redundancy
) -> MLPEnsemble:
    """Train ``settings.runs`` ReLU networks 784 -> width^depth -> 10 on MNIST with Adam, no
    dropout.

    Network r has the seeds of the stream ``(REDUNDANCY, r)``: its own initialisation
    (``torch.nn.Linear``'s), training subset of ``settings.n_train`` images and batch order.

    Parameters
    ----------
    x, y
        The training images (60000, 784), float32, and labels (60000,), int64, on one device.

    Returns
    -------
    MLPEnsemble
        The trained networks, on the device of ``x``.
    """
    seeds = [model_seeds(seed, REDUNDANCY, run) for run in range(settings.runs)]
    network = Network(sizes=tuple(layer_sizes(settings.width, settings.depth)), activation="relu",
                      init="torch", bias=True)  # fmt: skip
    training = TrainingSettings(
        optimiser=Adam(lr=settings.lr, betas=settings.betas, eps=settings.eps),
        loss="cross_entropy",
        batch_size=settings.batch_size,
        epochs=settings.epochs,
        min_steps=0,
        snapshots=(1.0,),
        rescale=False,  # no dropout: nothing to rescale
    )
    subsets = draw_subsets(seeds, settings.n_train, len(x))
    p_train = [0.0] * settings.runs
    trained = train_ensemble(x, y, subsets, p_train, seeds, network, training, progress=True)
    return trained.snapshots[1.0].to(x.device)


def connection_mask(
    weight: torch.Tensor, fraction: float, method: str, generator: torch.Generator
) -> torch.Tensor:
    """A 0/1 mask of one weight matrix that removes ``round(fraction * size)`` connections.

    Parameters
    ----------
    weight
        One network's weight matrix, any shape.
    method
        ``"random"``: a uniform choice of connections; ``"magnitude"``: the smallest |w| (ties
        broken by position).
    """
    n_remove = round(fraction * weight.numel())
    if method == "random":
        order = torch.randperm(weight.numel(), generator=generator)
    elif method == "magnitude":
        order = torch.argsort(weight.abs().flatten().cpu(), stable=True)
    else:
        raise ValueError(f"unknown pruning method {method!r}; known: {METHODS}")
    mask = torch.ones(weight.numel())
    mask[order[:n_remove]] = 0.0
    return mask.view_as(weight).to(weight.device)


def redundancy_curve(
    model: MLPEnsemble,
    x: torch.Tensor,
    y: torch.Tensor,
    *,
    fractions: Sequence[float],
    draws: int,
    seed: int,
) -> pd.DataFrame:
    """Test error of every network of ``model`` with a fraction of its connections removed.

    The same fraction is removed from every layer (biases are kept). Random removal is repeated
    ``draws`` times, network r's removals drawn from the stream ``(REDUNDANCY_MASKS, r)`` of the
    root seed ``seed``; magnitude removal is deterministic and done once.

    Parameters
    ----------
    model
        M trained networks.
    x, y
        Test inputs (T, n_in) and labels (T,).
    fractions
        Fractions of connections removed, each in [0, 1].

    Returns
    -------
    pandas.DataFrame
        Columns :data:`REDUNDANCY_COLUMNS`; ``test_error`` is the fraction of misclassified test
        images.
    """
    rows = []
    for run in range(model.n_models):
        generator = torch.Generator().manual_seed(seed_integers(seed, REDUNDANCY_MASKS, run)[0])
        single = model.select(run)
        for method in METHODS:
            for fraction in fractions:
                for draw in range(draws if method == "random" else 1):
                    pruned = MLPEnsemble(
                        [
                            w * connection_mask(w[0], fraction, method, generator)
                            for w in single.weights
                        ],
                        single.biases,
                        single.activation,
                    )
                    with torch.no_grad():
                        logits = forward(pruned, x.unsqueeze(0))[0]
                    error = (logits.argmax(dim=1) != y).float().mean().item()
                    rows.append((run, method, float(fraction), draw, error))
    return pd.DataFrame(rows, columns=REDUNDANCY_COLUMNS)


def tolerated_fraction(curve: pd.DataFrame, unpruned_error: float, slack: float) -> pd.Series:
    """Per method, the largest fraction removed at which the mean error stays within
    ``unpruned_error + slack``."""
    mean = curve.groupby(["method", "fraction_removed"])["test_error"].mean().reset_index()
    ok = mean[mean["test_error"] <= unpruned_error + slack]
    return ok.groupby("method")["fraction_removed"].max().reindex(list(METHODS), fill_value=np.nan)


def mnist_redundancy(
    mnist: MNIST, *, seed: int, device: torch.device, settings: Redundancy
) -> pd.DataFrame:
    """The supplement's table: train the networks (:func:`train_networks`) on standardised
    MNIST, then remove connections (:func:`redundancy_curve`) and measure on the test set.

    Returns
    -------
    pandas.DataFrame
        :func:`redundancy_curve`'s.
    """
    x, y, x_test, y_test = (
        torch.from_numpy(a).to(device)
        for split in ("train", "test")
        for a in inputs(mnist, split, "standardise")
    )
    model = train_networks(x, y, seed=seed, settings=settings)
    curve = redundancy_curve(
        model, x_test, y_test, fractions=settings.fractions, draws=settings.draws, seed=seed
    )
    log.info("\n%s", curve.groupby(["method", "fraction_removed"])["test_error"].mean())
    return curve
