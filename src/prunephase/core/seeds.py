"""Every random stream of the project, derived from the config's root seed by one rule.

A stream is named by a key: a tuple of numbers that says what it is for (a study's stream number,
an architecture, a training-set size, a run, ...). numpy's ``SeedSequence(root, spawn_key=key)``
mixes the key into the root seed, so streams with different keys are independent, and a stream
does not depend on which other streams a run draws (model k's seeds are the same in every grid
that holds model k).

Key elements are integers, used as they are, or rates (floats such as p_train), which enter as
``round(1e6 * rate)`` so that 0.1 and 0.1000000001 name the same stream.
"""

from __future__ import annotations

import numbers

import numpy as np

#: a rate enters a key in units of 1e-6
RATE_UNIT = 1_000_000


def _key_element(value: numbers.Real) -> int:
    if isinstance(value, bool):
        raise TypeError("a seed key element is an integer or a rate, not a bool")
    if isinstance(value, numbers.Integral):
        element = int(value)
    elif isinstance(value, numbers.Real):
        element = round(float(value) * RATE_UNIT)
    else:
        raise TypeError(f"a seed key element is an integer or a rate, got {value!r}")
    if element < 0:
        raise ValueError(f"seed key elements must not be negative, got {value!r}")
    return element


def seed_sequence(root: int, *key: numbers.Real) -> np.random.SeedSequence:
    """The stream named ``key`` under the root seed, as a numpy ``SeedSequence``.

    With no key this is ``SeedSequence(root)``, the stream ``np.random.default_rng(root)`` draws.
    """
    return np.random.SeedSequence(root, spawn_key=tuple(_key_element(k) for k in key))


def seed_integers(root: int, *key: numbers.Real, count: int = 1) -> list[int]:
    """``count`` independent 63-bit integers of the stream named ``key``: seeds of torch
    generators (which take a non-negative int64)."""
    state = seed_sequence(root, *key).generate_state(count, dtype=np.uint64)
    return [int(s) >> 1 for s in state]


def generator(root: int, *key: numbers.Real) -> np.random.Generator:
    """A numpy ``Generator`` on the stream named ``key``."""
    return np.random.default_rng(seed_sequence(root, *key))
