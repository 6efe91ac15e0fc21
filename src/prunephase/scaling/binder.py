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
