"""The Binder cumulant of a sampled quantity (here the test accuracy over masks and runs)."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray


def binder_cumulant(samples: ArrayLike, axis: int | None = -1) -> NDArray[np.float64] | float:
    """Binder cumulant ``U = 1 - <dA**4> / (3 <dA**2>**2)`` with ``dA = A - <A>``.

    ``<.>`` is the plain mean over the samples (no small-sample correction), so ``U`` is 0 for a
    Gaussian variable, 2/3 for a symmetric two-point variable and 2/5 for a uniform one; it is
    bounded by ``U <= 2/3``.

    Parameters
    ----------
    samples : array_like
        Samples of ``A`` (e.g. accuracies of every mask and run at one ``(N, p_train,
        p_eval)``) along ``axis``; other axes index independent groups.
    axis : int or None
        Axis of the samples; ``None`` uses all values as one sample.

    Returns
    -------
    float or ndarray
        ``U`` per group (the input shape without ``axis``).

    Raises
    ------
    ValueError
        If a value is NaN or infinite, there are fewer than two samples, or a group has zero
        variance (``U`` is then undefined).
    """
    a = np.asarray(samples, dtype=float)
    if axis is None:
        a, axis = a.ravel(), -1
    if not np.all(np.isfinite(a)):
        raise ValueError(f"binder cumulant: {np.sum(~np.isfinite(a))} NaN or infinite sample(s)")
    if a.ndim == 0 or a.shape[axis] < 2:
        raise ValueError("binder cumulant: needs at least two samples along the axis")
    deviation = a - a.mean(axis=axis, keepdims=True)
    second = np.mean(deviation**2, axis=axis)
    fourth = np.mean(deviation**4, axis=axis)
    constant = second <= 0
    if np.any(constant):
        raise ValueError(
            f"binder cumulant: {np.sum(constant)} group(s) with zero variance (U undefined)"
        )
    u = 1.0 - fourth / (3.0 * second**2)
    return float(u) if np.ndim(u) == 0 else u


def binder_over_runs(
    samples: ArrayLike, n_bootstrap: int, rng: np.random.Generator
) -> tuple[float, float, int]:
    """The Binder cumulant of each run over its own samples, averaged over runs.

    Each run (e.g. one trained network) has its own distribution of the samples (its accuracy
    over random pruning masks); ``U`` is computed per run and averaged, so the spread between
    runs does not enter. A run whose samples are all equal (e.g. no pruning) has no ``U`` and is
    left out.

    Parameters
    ----------
    samples : array_like, shape (n_runs, n_samples)
    n_bootstrap : int
        Resamples of the runs (with replacement) for the error; 0 for none.
    rng : numpy.random.Generator

    Returns
    -------
    mean, error, n_runs
        The mean ``U`` over the runs that have one (NaN if none), the standard deviation of that
        mean over bootstrap resamples (NaN with fewer than two such runs or no bootstrap), and
        the number of runs that entered.
    """
    a = np.asarray(samples, dtype=float)
    if a.ndim != 2 or a.shape[1] < 2:
        raise ValueError("binder over runs: samples must have shape (n_runs, n_samples >= 2)")
    varying = np.ptp(a, axis=1) > 0
    if not varying.any():
        return float("nan"), float("nan"), 0
    u = np.atleast_1d(binder_cumulant(a[varying], axis=1))
    if u.size < 2 or n_bootstrap < 2:
        return float(u.mean()), float("nan"), int(u.size)
    means = u[rng.integers(0, u.size, size=(n_bootstrap, u.size))].mean(axis=1)
    return float(u.mean()), float(means.std(ddof=1)), int(u.size)
