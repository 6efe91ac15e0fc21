"""Fully-connected networks as ensembles: every parameter carries a leading model dimension.

Model k of an ensemble of M networks with layer sizes (n_0, n_1, ..., n_L+1) has weights
``weights[l][k]`` of shape (n_l, n_l+1) (stored input-major, so a forward pass is ``x @ W``) and
biases ``biases[l][k]`` of shape (n_l+1,). A batch of inputs of shape (M, B, n_0) then flows through
batched matrix products, one computation for all M networks.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch

ACTIVATIONS: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "relu": torch.relu,
    "tanh": torch.tanh,
    "sigmoid": torch.sigmoid,
}
#: the same, in place (evaluation needs no autograd, and fresh large tensors cost page faults)
INPLACE_ACTIVATIONS: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "relu": torch.relu_,
    "tanh": torch.tanh_,
    "sigmoid": torch.sigmoid_,
}
#: initialisations of :func:`init_ensemble`
INITS = ("torch", "xavier_uniform")


@dataclass(frozen=True, kw_only=True)
class Network:
    """What every network of an ensemble is.

    Attributes
    ----------
    sizes
        Layer sizes (n_in, n_1, ..., n_out).
    activation
        Hidden-layer nonlinearity, a key of :data:`ACTIVATIONS`.
    init
        ``"torch"``: ``torch.nn.Linear``'s default (weights and biases uniform on
        +-1/sqrt(fan_in)); ``"xavier_uniform"``: weights uniform on +-sqrt(6 / (fan_in +
        fan_out)), biases zero.
    bias
        Whether the layers have (trained) biases; without, the biases are zero and stay zero.
    """

    sizes: tuple[int, ...]
    activation: str
    init: str
    bias: bool

    def __post_init__(self) -> None:
        if self.activation not in ACTIVATIONS:
            known = sorted(ACTIVATIONS)
            raise ValueError(f"unknown activation {self.activation!r}; known: {known}")
        if self.init not in INITS:
            raise ValueError(f"unknown initialisation {self.init!r}; known: {INITS}")
        if len(self.sizes) < 2:
            raise ValueError(f"a network needs an input and an output size, got {self.sizes}")


def layer_sizes(width: int, depth: int, n_in: int = 784, n_out: int = 10) -> list[int]:
    """Sizes (n_in, width, ..., width, n_out) of a network with ``depth`` hidden layers."""
    return [n_in, *([width] * depth), n_out]


@dataclass
class MLPEnsemble:
    """Stacked parameters of M fully-connected networks that share their layer sizes.

    Attributes
    ----------
    weights
        One tensor per layer, shape (M, n_in, n_out).
    biases
        One tensor per layer, shape (M, n_out).
    activation
        Name of the hidden-layer nonlinearity (a key of :data:`ACTIVATIONS`).
    """

    weights: list[torch.Tensor]
    biases: list[torch.Tensor]
    activation: str = "relu"

    @property
    def n_models(self) -> int:
        return self.weights[0].shape[0]

    @property
    def hidden_sizes(self) -> list[int]:
        return [w.shape[2] for w in self.weights[:-1]]

    def parameters(self) -> list[torch.Tensor]:
        return [*self.weights, *self.biases]

    def select(self, k: int) -> MLPEnsemble:
        """Model k alone, as an ensemble of one (views, no copy)."""
        return MLPEnsemble(
            [w[k : k + 1] for w in self.weights],
            [b[k : k + 1] for b in self.biases],
            self.activation,
        )

    def to(self, device: torch.device | str) -> MLPEnsemble:
        return MLPEnsemble(
            [w.to(device) for w in self.weights],
            [b.to(device) for b in self.biases],
            self.activation,
        )

    def detached_copy(self) -> MLPEnsemble:
        return MLPEnsemble(
            [w.detach().clone() for w in self.weights],
            [b.detach().clone() for b in self.biases],
            self.activation,
        )


def init_ensemble(
    seeds: Sequence[int], network: Network, device: torch.device | str = "cpu"
) -> MLPEnsemble:
    """Initialise M networks, network k from its own seed, as ``torch.nn`` would.

    ``init="torch"``: ``nn.Linear.reset_parameters`` draws the weight (out, in) and then the bias
    (if any), both uniform on (-1/sqrt(n_in), 1/sqrt(n_in)) (Kaiming-uniform with a = sqrt(5)).
    This draws the same numbers in the same order from a CPU generator seeded with ``seeds[k]``,
    so model k equals the ``nn.Sequential`` of ``nn.Linear`` layers built right after
    ``torch.manual_seed(seeds[k])``. ``init="xavier_uniform"``: ``nn.init.xavier_uniform_`` on
    each weight (out, in) in turn with that generator, biases zero.

    Returns
    -------
    MLPEnsemble
        float32 parameters on ``device``, with ``requires_grad`` off.
    """
    sizes = network.sizes
    weights = [torch.empty(len(seeds), n_in, n_out) for n_in, n_out in zip(sizes, sizes[1:])]
    biases = [torch.zeros(len(seeds), n_out) for n_out in sizes[1:]]
    for k, seed in enumerate(seeds):
        generator = torch.Generator().manual_seed(int(seed))
        for weight, bias in zip(weights, biases):
            fan_in, fan_out = weight.shape[1], weight.shape[2]
            if network.init == "torch":
                bound = 1.0 / math.sqrt(fan_in)
            else:
                bound = math.sqrt(6.0 / (fan_in + fan_out))
            drawn = torch.empty(fan_out, fan_in).uniform_(-bound, bound, generator=generator)
            weight[k] = drawn.T
            if network.bias and network.init == "torch":
                bias[k].uniform_(-bound, bound, generator=generator)
    return MLPEnsemble(weights, biases, network.activation).to(device)


def forward(
    model: MLPEnsemble, x: torch.Tensor, keep: Sequence[torch.Tensor | None] | None = None
) -> torch.Tensor:
    """Logits of every network of the ensemble.

    Parameters
    ----------
    model
        M networks with L hidden layers.
    x
        Inputs, shape (M, B, n_in): one batch per network.
    keep
        Per hidden layer, a dropout factor multiplied onto the post-activations, shape
        (M, B, n_l) (0 for a dropped unit, 1 or 1/(1-p) for a kept one), or None for no dropout.

    Returns
    -------
    torch.Tensor
        Logits, shape (M, B, n_out).
    """
    act = ACTIVATIONS[model.activation]
    h = x
    n_hidden = len(model.weights) - 1
    for layer, (weight, bias) in enumerate(zip(model.weights, model.biases)):
        h = torch.baddbmm(bias.unsqueeze(1), h, weight)
        if layer < n_hidden:
            h = act(h)
            if keep is not None and keep[layer] is not None:
                h = h * keep[layer]
    return h


def pre_activations(model: MLPEnsemble, x: torch.Tensor) -> list[torch.Tensor]:
    """The pre-activations of every layer without dropout, each (M, B, n_l); the last are the
    logits. ``x`` is (M, B, n_in)."""
    act = ACTIVATIONS[model.activation]
    h, out = x, []
    for weight, bias in zip(model.weights, model.biases):
        h = torch.baddbmm(bias.unsqueeze(1), h, weight)
        out.append(h)
        h = act(h)
    return out
