"""Neuron dropout: per-model masks of hidden units, drawn as int16 numbers against a threshold.

A dropout decision needs far fewer than 32 random bits: a unit is kept when a uniform int16 draw
reaches the threshold of its rate, so a rate p is realised as round(65536 p) / 65536 (0.1 ->
0.1000061). Each model draws from its own generator, so its masks do not depend on which other
models share its ensemble.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import torch


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
