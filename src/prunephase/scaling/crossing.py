"""The model-free estimate of a transition: where the size dependence of an observable changes sign.

If ``y(p, N) ~ N**(-a(p))`` with ``a > 0`` on one side of a transition and ``a < 0`` on the other,
the curves ``y(p, N)`` of different sizes cross where ``a`` crosses zero. That point needs no
scaling ansatz; a data collapse is then fitted in a window around it
(:func:`prunephase.scaling.fit.fit_collapse`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .data import CollapseData


def _interpolated_zero(p: NDArray[np.float64], values: NDArray[np.float64], j: int) -> float:
    """The zero of the line through (p_j, v_j) and (p_{j+1}, v_{j+1}), v_j > 0 >= v_{j+1}."""
    drop = values[j] - values[j + 1]
    return float(p[j] + values[j] / drop * (p[j + 1] - p[j]))


def sign_change(p: ArrayLike, values: ArrayLike, significant: ArrayLike) -> float:
    """Where ``values`` fall from significantly positive to significantly negative, interpolated.

    The first significantly negative point that has a significantly positive point before it
    marks the transition; between the last such positive point and it, the zero of ``values`` is
    interpolated linearly between the last point with ``values > 0`` and the next one.

    Parameters
    ----------
    p : array_like, shape (P,)
        Control parameter, increasing.
    values : array_like, shape (P,)
        The exponent ``a(p)`` (e.g. alpha_CE).
    significant : array_like of bool, shape (P,)
        Where the sign of ``values`` is significant.

    Returns
    -------
    float
        The crossing, or NaN where ``values`` do not fall significantly from + to -.
    """
    p, values = np.asarray(p, dtype=float), np.asarray(values, dtype=float)
    significant = np.asarray(significant, dtype=bool)
    positive = significant & (values > 0)
    for i in np.flatnonzero(significant & (values < 0)):
        before = np.flatnonzero(positive[:i])
        if before.size:
            j = max(k for k in range(before[-1], i) if values[k] > 0)
            return _interpolated_zero(p, values, j)
    return float("nan")


def nearest_sign_change(p: ArrayLike, values: ArrayLike, near: float) -> float:
    """Of every fall of ``values`` from > 0 to <= 0 along ``p``, the interpolated zero nearest to
    ``near`` (NaN if there is none): the crossing of a bootstrap resample, whose significance is
    not known, matched to the estimate of the full sample."""
    p, values = np.asarray(p, dtype=float), np.asarray(values, dtype=float)
    falls = np.flatnonzero((values[:-1] > 0) & (values[1:] <= 0))
    if falls.size == 0:
        return float("nan")
    zeros = np.array([_interpolated_zero(p, values, j) for j in falls])
    return float(zeros[np.argmin(np.abs(zeros - near))])


def size_exponents(data: CollapseData) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """The exponent ``a(p)`` of ``y ~ N**-a`` at every ``p``: least squares of ``log y`` on
    ``log N`` over the sizes.

    Returns
    -------
    p, a : ndarray, shape (P,)
        The ``p`` values (every size must have the same ones) and the exponents.

    Raises
    ------
    ValueError
        If the sizes do not share their ``p`` values, or a value is not positive.
    """
    return _exponents(data, data.y)


def _exponents(data: CollapseData, y: NDArray[np.float64]):
    sizes = data.sizes
    p = data.p[data.size == sizes[0]]
    if any(not np.array_equal(data.p[data.size == n], p) for n in sizes[1:]):
        raise ValueError("size exponents: every size must have the same p values")
    if np.any(y <= 0):
        raise ValueError("size exponents: a power law in N needs positive values")
    log_n = np.log(sizes) - np.log(sizes).mean()
    log_y = np.log(y).reshape(sizes.size, p.size)  # points are ordered by (N, p)
    slope = log_n @ (log_y - log_y.mean(axis=0)) / (log_n @ log_n)
    return p, -slope


@dataclass(frozen=True)
class Crossing:
    """The crossing estimate of :func:`crossing_estimate`.

    Attributes
    ----------
    p_cross : float
        The interpolated zero of the exponent (NaN: no significant sign change).
    error : float
        Standard deviation over the bootstrap resamples that have a crossing.
    found : float
        Fraction of the resamples with a crossing.
    exponent, exponent_err : ndarray, shape (P,)
        The exponent at every ``p`` and its bootstrap standard deviation.
    p : ndarray, shape (P,)
    """

    p_cross: float
    error: float
    found: float
    p: NDArray[np.float64]
    exponent: NDArray[np.float64]
    exponent_err: NDArray[np.float64]


def crossing_estimate(
    data: CollapseData,
    *,
    n_bootstrap: int,
    n_se: float,
    min_exponent: float,
    seed: int | np.random.SeedSequence = 0,
) -> Crossing:
    """The crossing of the size exponents with a bootstrap error over runs.

    The exponent at ``p`` is significant when ``|a| > n_se * err`` and ``|a| > min_exponent``,
    ``err`` the bootstrap standard deviation (runs of a size drawn with replacement, all ``p`` of a
    run together: :meth:`CollapseData.resample`).

    Raises
    ------
    ValueError
        Without per-run values, or with fewer than 2 resamples.
    """
    if n_bootstrap < 2:
        raise ValueError(
            f"crossing estimate: needs at least 2 bootstrap resamples, got {n_bootstrap}"
        )
    rng = np.random.default_rng(seed)
    p, exponent = size_exponents(data)
    draws = np.array([_exponents(data, data.resample(rng).y)[1] for _ in range(n_bootstrap)])
    err = draws.std(axis=0, ddof=1)
    significant = (np.abs(exponent) > n_se * err) & (np.abs(exponent) > min_exponent)
    p_cross = sign_change(p, exponent, significant)
    if np.isnan(p_cross):
        return Crossing(p_cross, float("nan"), 0.0, p, exponent, err)
    found = np.array([nearest_sign_change(p, d, p_cross) for d in draws])
    found = found[np.isfinite(found)]
    error = float(found.std(ddof=1)) if found.size > 1 else float("nan")
    return Crossing(p_cross, error, found.size / n_bootstrap, p, exponent, err)
