"""Plain ``torch.nn`` training of one network at a time: the reference the ensemble is checked
against, and the naive baseline of the benchmark.

Written the way one would without the ensemble: ``nn.Linear`` layers, ``torch.optim``, and either
explicitly seeded dropout masks (to reproduce a model of the ensemble exactly) or ``nn.Dropout``
with a ``DataLoader`` (the naive loop of the benchmark).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from prunephase.nn.ensemble import Network
from prunephase.nn.streams import int16_draws_numpy, row_keys_numpy, words_numpy
from prunephase.nn.training import SGD, Adam, ModelSeeds, TrainingSettings, schedule

_ACTIVATIONS = {"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid}


class ReferenceMLP(nn.Module):
    """Fully-connected layers with dropout on the hidden post-activations.

    ``forward(x, keep)`` multiplies the post-activations of hidden layer l by ``keep[l]`` when
    given; otherwise ``self.dropout`` (an ``nn.Dropout``, or identity) is applied.
    """

    def __init__(self, network: Network, p_dropout: float = 0.0):
        super().__init__()
        sizes = network.sizes
        self.linears = nn.ModuleList(
            nn.Linear(a, b, bias=network.bias) for a, b in zip(sizes, sizes[1:])
        )
        self.activation = _ACTIVATIONS[network.activation]()
        self.dropout = nn.Dropout(p_dropout)

    def forward(self, x: torch.Tensor, keep: Sequence[torch.Tensor] | None = None) -> torch.Tensor:
        *hidden, last = self.linears
        for layer, linear in enumerate(hidden):
            x = self.activation(linear(x))
            x = x * keep[layer] if keep is not None else self.dropout(x)
        return last(x)


def build_reference(seed: int, network: Network) -> ReferenceMLP:
    """The network ``torch.nn`` builds from ``seed``: ``nn.Linear``'s default init after
    ``torch.manual_seed(seed)``, or ``nn.init.xavier_uniform_`` (zero biases) with a generator
    seeded with ``seed``."""
    torch.manual_seed(seed)
    model = ReferenceMLP(network)
    if network.init == "xavier_uniform":
        generator = torch.Generator().manual_seed(seed)
        for linear in model.linears:
            nn.init.xavier_uniform_(linear.weight, generator=generator)
            if linear.bias is not None:
                nn.init.zeros_(linear.bias)
    return model


def _optimiser(model: nn.Module, settings: Adam | SGD) -> torch.optim.Optimizer:
    if isinstance(settings, Adam):
        return torch.optim.Adam(
            model.parameters(), lr=settings.lr, betas=tuple(settings.betas), eps=settings.eps
        )
    return torch.optim.SGD(model.parameters(), lr=settings.lr, momentum=settings.momentum)


def _loss(output: torch.Tensor, target: torch.Tensor, loss: str) -> torch.Tensor:
    if loss == "absolute":
        return (target - output[:, 0]).abs().mean()
    return F.cross_entropy(output, target)


def train_reference(
    x: torch.Tensor,
    y: torch.Tensor,
    subset: torch.Tensor,
    p_train: float,
    seeds: ModelSeeds,
    network: Network,
    settings: TrainingSettings,
    epochs: int | None = None,
) -> ReferenceMLP:
    """Train one network as the ensemble trains model k, with plain ``torch.nn`` code.

    Same training examples ``subset``, and the same random numbers, computed for this one model
    from the definition of the counter-based streams (numpy uint64 arithmetic,
    :mod:`prunephase.nn.streams`): in epoch e the examples are taken in the order of the words of
    ``row(seeds.order, e)``, and at step s (counted over the whole run) the dropout draws are the
    int16 draws of ``row(seeds.dropout, s)``. So the result must equal model k of the ensemble up
    to floating-point rounding.
    """
    model = build_reference(seeds.init, network)
    optimiser = _optimiser(model, settings.optimiser)
    n_train = len(subset)
    hidden = list(network.sizes[1:-1])
    n_epochs = schedule(n_train, settings).epochs if epochs is None else epochs
    step = 0
    for epoch in range(n_epochs):
        sort_keys = words_numpy(row_keys_numpy(seeds.order, epoch), n_train).view(np.int64)
        order = subset[torch.from_numpy(np.argsort(sort_keys, kind="stable"))]
        for start in range(0, n_train, settings.batch_size):
            index = order[start : start + settings.batch_size]
            keep = None
            if p_train > 0:
                n = len(index) * sum(hidden)
                draws = int16_draws_numpy(row_keys_numpy(seeds.dropout, step), n)
                threshold = round(p_train * 65536) - 32768
                factor = torch.from_numpy(draws >= threshold).float().view(len(index), -1)
                if settings.rescale:
                    factor = factor / (1 - p_train)
                keep = torch.split(factor, hidden, dim=1)
            loss = _loss(model(x[index], keep), y[index], settings.loss)
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            step += 1
    return model


def train_naive(
    x: torch.Tensor,
    y: torch.Tensor,
    p_train: float,
    seed: int,
    network: Network,
    n_train: int,
    settings: TrainingSettings,
    epochs: int,
) -> ReferenceMLP:
    """The textbook loop: ``nn.Dropout``, a shuffling ``DataLoader``, a ``torch.optim`` optimiser.

    The benchmark's baseline: statistically the same training as the ensemble's, one model at a
    time (its random numbers come from torch's global generator, so it is not the same draw).
    """
    generator = torch.Generator().manual_seed(seed)
    subset = torch.randperm(len(x), generator=generator)[:n_train]
    torch.manual_seed(seed)
    model = ReferenceMLP(network, p_dropout=p_train).to(x.device)
    model.train()
    optimiser = _optimiser(model, settings.optimiser)
    loader = DataLoader(
        TensorDataset(x[subset.to(x.device)], y[subset.to(x.device)]),
        batch_size=settings.batch_size,
        shuffle=True,
        generator=generator,
    )
    for _ in range(epochs):
        for xb, yb in loader:
            loss = _loss(model(xb), yb, settings.loss)
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
    return model
