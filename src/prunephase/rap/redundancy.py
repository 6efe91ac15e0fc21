"""Supplement of paper B: an MLP trained on MNIST keeps its test error while most connections go.

Networks are trained with the project's ensemble trainer (no dropout), then a fraction of the
connections of every layer is removed, either uniformly at random or the smallest in magnitude,
and the test error of the pruned network is measured. The weights are not retrained.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import torch

from prunephase.nn.ensemble import MLPEnsemble, Network, forward, layer_sizes
from prunephase.nn.training import Adam, TrainingSettings, draw_subsets, model_seeds, train_ensemble

METHODS = ("random", "magnitude")

#: the stream of these networks under the root seed (see :mod:`prunephase.core.seeds`)
REDUNDANCY = 6

#: columns of :func:`redundancy_curve`
REDUNDANCY_COLUMNS = ["run", "method", "fraction_removed", "draw", "test_error"]


def train_networks(
    x: torch.Tensor,
    y: torch.Tensor,
    *,
    seed: int,
    runs: int,
    width: int,
    depth: int,
    n_train: int,
    lr: float,
    betas: tuple[float, float],
    eps: float,
    batch_size: int,
    epochs: int,
) -> MLPEnsemble:
    """Train ``runs`` ReLU networks 784 -> width^depth -> 10 on MNIST with Adam, no dropout.

    Network r has the seeds of the stream ``(REDUNDANCY, r)``: its own initialisation
    (``torch.nn.Linear``'s), training subset of ``n_train`` images and batch order.

    Returns
    -------
    MLPEnsemble
        The trained networks, on the device of ``x``.
    """
    seeds = [model_seeds(seed, REDUNDANCY, run) for run in range(runs)]
    network = Network(sizes=tuple(layer_sizes(width, depth)), activation="relu", init="torch",
                      bias=True)  # fmt: skip
    training = TrainingSettings(
        optimiser=Adam(lr=lr, betas=tuple(betas), eps=eps),
        loss="cross_entropy",
        batch_size=batch_size,
        epochs=epochs,
        min_steps=0,
        snapshots=(1.0,),
        rescale=True,
    )
    subsets = draw_subsets(seeds, n_train, len(x))
    trained = train_ensemble(x, y, subsets, [0.0] * runs, seeds, network, training, progress=True)
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
    fractions: Sequence[float],
    draws: int,
    seed: int,
) -> pd.DataFrame:
    """Test error of every network of ``model`` with a fraction of its connections removed.

    The same fraction is removed from every layer (biases are kept). Random removal is repeated
    ``draws`` times; magnitude removal is deterministic and done once.

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
    generator = torch.Generator().manual_seed(seed)
    rows = []
    for run in range(model.n_models):
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
