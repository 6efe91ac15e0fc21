"""Goodness of a data collapse: the chi2 of each point against its neighbours' interpolation."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray


def collapse_chi2(
    x: ArrayLike, y: ArrayLike, dy: ArrayLike, n_fitted: int = 0
) -> NDArray[np.float64] | float:
    """Reduced chi2 of a collapse, ``chi2_nu = chi2 / max(1, n - n_fitted)``.

    All points are sorted by the scaling variable ``x``. Each interior point ``i`` (neither the
    first nor the last) is compared with the straight line through its two neighbours,

        ybar_i = w_- y_{i-1} + w_+ y_{i+1},
        w_- = (x_{i+1} - x_i) / (x_{i+1} - x_{i-1}),  w_+ = (x_i - x_{i-1}) / (x_{i+1} - x_{i-1}),

    with the variance of the difference ``sbar_i**2 = dy_i**2 + (w_- dy_{i-1})**2 +
    (w_+ dy_{i+1})**2``, and ``chi2 = sum_i (y_i - ybar_i)**2 / sbar_i**2``. Where the three
    ``x`` coincide (``p = p_c`` at every size), ``w_- = w_+ = 1/2``. Ties are broken by the input
    order (stable sort), so the result is deterministic.

    Parameters
    ----------
    x, y, dy : array_like, shape (n,) or (m, n)
        Scaling variable, scaled observable and its standard error; a leading axis holds ``m``
        parameter sets evaluated at once (arrays broadcast against each other).
    n_fitted : int
        Number of fitted parameters, subtracted from the number of points ``n``.

    Returns
    -------
    float or ndarray, shape (m,)
        ``chi2_nu``, one per parameter set.
    """
    x, y, dy = np.broadcast_arrays(
        np.asarray(x, dtype=float), np.asarray(y, dtype=float), np.asarray(dy, dtype=float)
    )
    single = x.ndim == 1
    x, y, dy = (np.atleast_2d(a) for a in (x, y, dy))
    n = x.shape[-1]
    if n < 3:
        raise ValueError(f"collapse chi2: needs at least 3 points, got {n}")
    order = np.argsort(x, axis=-1, kind="stable")
    xs, ys, ds = (np.take_along_axis(a, order, axis=-1) for a in (x, y, dy))
    left, mid, right = xs[:, :-2], xs[:, 1:-1], xs[:, 2:]
    span = right - left
    w_plus = np.divide(mid - left, span, out=np.full_like(span, 0.5), where=span > 0)
    w_minus = 1.0 - w_plus
    ybar = w_minus * ys[:, :-2] + w_plus * ys[:, 2:]
    var = ds[:, 1:-1] ** 2 + (w_minus * ds[:, :-2]) ** 2 + (w_plus * ds[:, 2:]) ** 2
    chi2 = np.sum((ys[:, 1:-1] - ybar) ** 2 / var, axis=-1) / max(1, n - n_fitted)
    return float(chi2[0]) if single else chi2
