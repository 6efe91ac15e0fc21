"""Counter-based random numbers: every draw is a hash of a seed and its position.

One definition serves the dropout masks of training, the batch orders and the evaluation masks:

    row(seed, counter)  = mix64(seed + (counter + 1) * GOLDEN)            one 64-bit key per row
    word(row, j)        = mix64(row + (j + 1) * GOLDEN),  j = 0, 1, ...   the row's 64-bit words

all arithmetic modulo 2^64, where ``GOLDEN = 0x9E3779B97F4A7C15`` and ``mix64`` is the SplitMix64
finaliser (``z ^= z >> 30; z *= 0xBF58476D1CE4E5B9; z ^= z >> 27; z *= 0x94D049BB133111EB;
z ^= z >> 31``, logical shifts). A row is what one model needs at once: its dropout draws of one
training step (counter = the step), its batch order of one epoch (counter = the epoch), one
evaluation mask (counter = the mask). The words of a row are SplitMix64's output sequence started
from the row key, so a row of words is a well-tested generator, and rows of different seeds or
counters start at independent, hashed points of it.

Because a number depends only on (seed, counter, j), the rows of every model of an ensemble are
computed in one batched operation, and model k's numbers do not depend on which models share its
ensemble. The same bits come from three implementations (tested against each other and against
SplitMix64's published outputs): :func:`words` in torch tensor operations (any device; int64
arithmetic wraps modulo 2^64), :func:`words_numpy` (numpy uint64, the plain definition, which the
one-model-at-a-time reference uses) and :func:`mix64_scalar` for compiled CPU kernels
(:func:`prunephase.nn.dropout.keep_factors`).

A word holds four int16 draws: its 16-bit pieces from the least significant up, read as signed
(:func:`int16_draws`; a dropout decision needs no more bits).
"""

from __future__ import annotations

import numba
import numpy as np
import torch

GOLDEN = 0x9E3779B97F4A7C15
_M1, _M2 = 0xBF58476D1CE4E5B9, 0x94D049BB133111EB
_MASK64 = (1 << 64) - 1


def _signed(value: int) -> int:
    """The int64 with the bits of the unsigned 64-bit ``value``."""
    return value - (1 << 64) if value >= 1 << 63 else value


GOLDEN_I64, _M1_I64, _M2_I64 = _signed(GOLDEN), _signed(_M1), _signed(_M2)


# --- the definition, in plain integers and numpy -------------------------------------------------


def mix64_int(z: int) -> int:
    """SplitMix64's finaliser of one Python integer (the definition, for tests)."""
    z &= _MASK64
    z = ((z ^ (z >> 30)) * _M1) & _MASK64
    z = ((z ^ (z >> 27)) * _M2) & _MASK64
    return z ^ (z >> 31)


def _mix64_numpy(z: np.ndarray) -> np.ndarray:
    z = (z ^ (z >> np.uint64(30))) * np.uint64(_M1)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(_M2)
    return z ^ (z >> np.uint64(31))


def row_keys_numpy(seeds, counters) -> np.ndarray:
    """``row(seed, counter)`` of broadcastable seeds and counters, as uint64."""
    with np.errstate(over="ignore"):
        seeds = np.asarray(seeds).astype(np.uint64)
        counters = np.asarray(counters).astype(np.uint64)
        return _mix64_numpy(seeds + (counters + np.uint64(1)) * np.uint64(GOLDEN))


def words_numpy(rows, n_words: int) -> np.ndarray:
    """The first ``n_words`` words of each row key: shape (*rows.shape, n_words), uint64."""
    with np.errstate(over="ignore"):
        rows = np.asarray(rows).astype(np.uint64)[..., None]
        j = np.arange(1, n_words + 1, dtype=np.uint64)
        return _mix64_numpy(rows + j * np.uint64(GOLDEN))


def int16_draws_numpy(rows, n: int) -> np.ndarray:
    """``n`` int16 draws of each row (four per word, low bits first): (*rows.shape, n)."""
    w = words_numpy(rows, (n + 3) // 4)
    pieces = (w[..., None] >> (np.arange(4, dtype=np.uint64) * np.uint64(16))) & np.uint64(0xFFFF)
    return pieces.astype(np.uint16).view(np.int16).reshape(*w.shape[:-1], -1)[..., :n]


# --- torch tensor operations (any device) --------------------------------------------------------


def _shift_right(z: torch.Tensor, s: int, out: torch.Tensor) -> torch.Tensor:
    """Logical right shift of int64 bits (torch's ``>>`` on int64 is arithmetic)."""
    torch.bitwise_right_shift(z, s, out=out)
    return out.bitwise_and_((1 << (64 - s)) - 1)


def mix64_(z: torch.Tensor) -> torch.Tensor:
    """SplitMix64's finaliser of int64 bits, in place (the multiplications wrap modulo 2^64)."""
    t = torch.empty_like(z)
    z.bitwise_xor_(_shift_right(z, 30, t)).mul_(_M1_I64)
    z.bitwise_xor_(_shift_right(z, 27, t)).mul_(_M2_I64)
    return z.bitwise_xor_(_shift_right(z, 31, t))


def row_keys(seeds: torch.Tensor, counter: int | torch.Tensor) -> torch.Tensor:
    """``row(seed, counter)`` of int64 seeds (any shape) and a counter (an int, or an int64
    tensor broadcastable against the seeds)."""
    if isinstance(counter, torch.Tensor):
        offset = (counter + 1) * GOLDEN_I64  # wraps modulo 2^64
    else:
        offset = _signed(((counter + 1) * GOLDEN) & _MASK64)
    return mix64_(seeds.to(torch.int64) + offset)


def words(rows: torch.Tensor, n_words: int) -> torch.Tensor:
    """The first ``n_words`` words of each row key: (*rows.shape, n_words), int64 bits."""
    j = torch.arange(1, n_words + 1, dtype=torch.int64, device=rows.device) * GOLDEN_I64
    return mix64_(rows[..., None] + j)


def int16_draws(rows: torch.Tensor, n: int) -> torch.Tensor:
    """``n`` int16 draws of each row: (*rows.shape, n) (a view of little-endian words)."""
    return words(rows, (n + 3) // 4).view(torch.int16)[..., :n]


def permutations(rows: torch.Tensor, n: int) -> torch.Tensor:
    """A uniform random permutation of 0..n-1 per row key: the order of the row's first n words
    (ties, of probability ~n^2 / 2^65, by position). Shape (*rows.shape, n), int64."""
    return torch.argsort(words(rows, n), dim=-1, stable=True)


@numba.njit(cache=True, inline="always")
def mix64_scalar(z):
    """SplitMix64's finaliser of one uint64, for compiled kernels."""
    z = (z ^ (z >> np.uint64(30))) * np.uint64(_M1)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(_M2)
    return z ^ (z >> np.uint64(31))
