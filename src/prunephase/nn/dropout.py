"""Neuron dropout: masks of hidden units from counter-based int16 draws against a threshold.

A dropout decision needs far fewer than 32 random bits: a unit is kept when a uniform int16 draw
(:mod:`prunephase.nn.streams`) reaches the threshold ``round(65536 p) - 32768`` of its rate, so a
rate p is realised exactly as round(65536 p) / 65536 (0.1 -> 0.1000061, within 2^-17 of p).

In training, model k's draws of step s are the row ``row(dropout seed of k, s)``: one batched
computation gives every model's masks of a step, and model k's masks do not depend on which other
models share its ensemble.
"""

from __future__ import annotations

from collections.abc import Sequence

import numba
import numpy as np
import torch

from prunephase.nn.streams import GOLDEN, int16_draws, mix64_scalar, row_keys


def keep_threshold(p: torch.Tensor) -> torch.Tensor:
    """The int16 threshold of a drop probability: a unit is kept iff its draw ``>= threshold``.

    P(kept) = 1 - round(65536 p) / 65536: the rate is p to within 2^-17 (e.g. 0.1 -> 0.1000061).
    """
    return (torch.round(p * 65536) - 32768).to(torch.int16)


def keep_scale(p: torch.Tensor, rescale: bool) -> torch.Tensor:
    """The factor of a kept unit, float32: 1/(1-p) for inverted dropout (``rescale``), else 1."""
    return (1.0 / (1.0 - p) if rescale else torch.ones_like(p)).to(torch.float32)


def factors_from_draws(
    u: torch.Tensor, threshold: torch.Tensor, scale: torch.Tensor
) -> torch.Tensor:
    """Dropout factors from int16 draws: 0 for a dropped unit, ``scale`` for a kept one.

    Parameters
    ----------
    u
        int16 draws, any shape (..., n).
    threshold, scale
        :func:`keep_threshold` and :func:`keep_scale` of the rates, broadcastable against ``u``
        (e.g. (M, 1): one rate per row).
    """
    return (u >= threshold) * scale


#: words per work item of the CPU kernel (a few kB of output: cache-resident, enough to share)
_BLOCK = 1024


@numba.njit(parallel=True, cache=True)
def _keep_factors_cpu(rows, thresholds, scales, out):  # pragma: no cover - compiled
    n_rows, n = out.shape
    n_words = (n + 3) // 4
    blocks = (n_words + _BLOCK - 1) // _BLOCK
    for item in numba.prange(n_rows * blocks):
        r, b = item // blocks, item % blocks
        row, threshold, scale = rows[r], thresholds[r], scales[r]
        for j in range(b * _BLOCK, min(n_words, (b + 1) * _BLOCK)):
            w = mix64_scalar(row + np.uint64(j + 1) * np.uint64(GOLDEN))
            for i in range(min(4, n - 4 * j)):
                draw = np.int16(np.uint16((w >> np.uint64(16 * i)) & np.uint64(0xFFFF)))
                out[r, 4 * j + i] = scale if draw >= threshold else np.float32(0.0)


def keep_factors(
    rows: torch.Tensor, n: int, threshold: torch.Tensor, scale: torch.Tensor
) -> torch.Tensor:
    """Dropout factors of ``n`` units for each row key: :func:`factors_from_draws` of
    ``int16_draws(rows, n)``.

    Parameters
    ----------
    rows
        Row keys (R,), int64 (:func:`prunephase.nn.streams.row_keys`).
    n
        Units per row.
    threshold, scale
        :func:`keep_threshold` (int16) and :func:`keep_scale` (float32) of each row's rate, (R,).

    Returns
    -------
    torch.Tensor
        (R, n) float32 on the device of ``rows``.

    On the CPU one compiled pass (hash, threshold, scale) writes the factors: the tensor
    operations read and write the words a dozen times, and at a training step's size that memory
    traffic costs several times the draws themselves. Elsewhere, tensor operations (the same bits,
    tested).
    """
    if rows.device.type != "cpu":
        return factors_from_draws(int16_draws(rows, n), threshold[:, None], scale[:, None])
    out = torch.empty(len(rows), n, dtype=torch.float32)
    threads = numba.get_num_threads()
    numba.set_num_threads(min(torch.get_num_threads(), numba.config.NUMBA_NUM_THREADS))
    # one call, named in torch.profiler's record like an operator of torch
    try:
        with torch.profiler.record_function("prunephase::keep_factors"):
            _keep_factors_cpu(
                rows.numpy().view(np.uint64), threshold.numpy(), scale.numpy(), out.numpy()
            )
    finally:
        numba.set_num_threads(threads)
    return out


class DropoutStream:
    """Per-model dropout masks of the hidden layers, step by step.

    At training step s (counted from 0 over the whole run), model k's factors are
    ``keep_factors(row(dropout_seed_k, s), batch * sum(hidden_sizes), p_k)``, row-major
    (batch, units), the layers in order along the units. Every model draws (a model with p = 0
    keeps every unit whatever its draws), in one computation for the ensemble; if no model drops,
    nothing is drawn.
    """

    def __init__(
        self,
        p: Sequence[float],
        seeds: Sequence[int],
        hidden_sizes: Sequence[int],
        rescale: bool,
        device: torch.device,
    ) -> None:
        rates = torch.tensor(p, dtype=torch.float32, device=device)
        self.threshold, self.scale = keep_threshold(rates), keep_scale(rates, rescale)
        self.seeds = torch.tensor(seeds, dtype=torch.int64, device=device)
        self.hidden_sizes = list(hidden_sizes)
        self.active = any(pk > 0 for pk in p)

    def __call__(self, step: int, batch: int) -> list[torch.Tensor | None]:
        """Dropout factors per hidden layer, each (M, batch, n_l), or None if no model drops."""
        if not self.active:
            return [None] * len(self.hidden_sizes)
        units = sum(self.hidden_sizes)
        rows = row_keys(self.seeds, step)
        factors = keep_factors(rows, batch * units, self.threshold, self.scale)
        return list(torch.split(factors.view(-1, batch, units), self.hidden_sizes, dim=2))
