"""Fit of a data collapse: global search, local refinement, contour errors and bootstrap."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from scipy.optimize import differential_evolution, minimize

from .ansatz import Ansatz
from .data import CollapseData
from .quality import collapse_chi2

CONTOUR_FACTOR = 1.3
_CHUNK = 2048  # parameter sets per vectorised chi2 evaluation (bounds the memory to a few MB)
_SWEEP_ROUNDS = 8


def chi2_nu(data: CollapseData, ansatz: Ansatz, params: Mapping[str, float]) -> float:
    """``chi2_nu`` of the collapse of ``data`` under ``ansatz`` at the parameters ``params``.

    Parameters
    ----------
    data : CollapseData
    ansatz : Ansatz
    params : mapping
        Values of the fitted parameters of ``ansatz`` (fixed ones may be given and must then
        agree); ``n_fitted`` in ``chi2_nu`` is the number of fitted parameters of ``ansatz``.
    """
    return float(_objective(data, ansatz)(_free_vector(ansatz, params)[None, :])[0])


def scaled_points(data: CollapseData, ansatz: Ansatz, params: Mapping[str, float]) -> pd.DataFrame:
    """The collapsed points, for a figure.

    Returns
    -------
    DataFrame
        One row per point, sorted by ``x``, columns: ``p``, ``N``, ``y``, ``dy`` (input),
        ``x`` (scaling variable), ``y_scaled`` (``N**-Delta * y``), ``dy_scaled``.
    """
    theta = ansatz.parameters(_free_vector(ansatz, params))
    ansatz.check_sizes(data.size)
    x, y_scaled, dy_scaled = ansatz.scale(data.p, data.size, data.y, data.dy, theta)
    frame = data.to_frame().assign(x=x, y_scaled=y_scaled, dy_scaled=dy_scaled)
    return frame.sort_values("x", kind="stable", ignore_index=True)


@dataclass(frozen=True, eq=False)
class CollapseFit:
    """Result of :func:`fit_collapse`.

    Attributes
    ----------
    ansatz : Ansatz
    params : dict[str, float]
        Every parameter of the ansatz: the best fitted values and the fixed ones.
    chi2_nu : float
        Minimum of ``chi2_nu``.
    n_points : int
        Number of points of the collapse.
    lower, upper : dict[str, float]
        Per fitted parameter, the extent of the region ``chi2_nu <= contour_factor * chi2_nu``
        on the final sweep grid (the projection of the contour onto that parameter's axis).
    at_bound : dict[str, bool]
        Whether that region reaches a bound of the parameter (the contour is open there and the
        error is a lower limit).
    sweep : DataFrame
        The final sweep grid: one column per fitted parameter, ``chi2_nu`` and ``inside``
        (within the contour). For two fitted parameters this is the chi2 map of a figure.
    bootstrap : DataFrame or None
        One row per bootstrap resample over runs (``resample``, the fitted parameters,
        ``chi2_nu``), or ``None`` without bootstrap.
    contour_factor : float
        The factor of the contour (1.3).
    """

    ansatz: Ansatz
    params: dict[str, float]
    chi2_nu: float
    n_points: int
    lower: dict[str, float]
    upper: dict[str, float]
    at_bound: dict[str, bool]
    sweep: pd.DataFrame
    bootstrap: pd.DataFrame | None
    contour_factor: float = CONTOUR_FACTOR

    @property
    def errors(self) -> dict[str, float]:
        """Contour error per fitted parameter: half the extent, ``(upper - lower) / 2``."""
        return {k: (self.upper[k] - self.lower[k]) / 2 for k in self.ansatz.fitted}

    @property
    def bootstrap_errors(self) -> dict[str, float]:
        """Bootstrap error per fitted parameter: the standard deviation over resamples (NaN
        without bootstrap)."""
        if self.bootstrap is None:
            return {k: float("nan") for k in self.ansatz.fitted}
        return {k: float(self.bootstrap[k].std(ddof=1)) for k in self.ansatz.fitted}

    def to_record(self) -> dict[str, Any]:
        """A flat row for a results table.

        Keys: ``ansatz``, ``chi2_nu``, ``n_points``; per fitted parameter ``<name>``,
        ``<name>_err`` (contour half-width), ``<name>_lower``, ``<name>_upper``,
        ``<name>_at_bound``, ``<name>_boot_err``; per fixed parameter ``<name>``.
        """
        record: dict[str, Any] = {"ansatz": self.ansatz.name}
        boot = self.bootstrap_errors
        for key, value in self.params.items():
            record[key] = value
            if key in self.ansatz.bounds:
                record[f"{key}_err"] = self.errors[key]
                record[f"{key}_lower"] = self.lower[key]
                record[f"{key}_upper"] = self.upper[key]
                record[f"{key}_at_bound"] = self.at_bound[key]
                record[f"{key}_boot_err"] = boot[key]
        record["chi2_nu"] = self.chi2_nu
        record["n_points"] = self.n_points
        return record


def fit_collapse(
    data: CollapseData,
    ansatz: Ansatz,
    *,
    seed: int | np.random.SeedSequence = 0,
    n_bootstrap: int = 0,
    contour_factor: float = CONTOUR_FACTOR,
    grid_points: int | None = None,
    starts: Sequence[Mapping[str, float]] = (),
) -> CollapseFit:
    """Fit the collapse of ``data`` under ``ansatz`` by minimising ``chi2_nu``.

    1. Global search: differential evolution within the bounds of the fitted parameters.
    2. Local refinement: Nelder-Mead (with bounds) from the global optimum.
    3. Errors: a grid sweep around the optimum, widened while the region
       ``chi2_nu <= contour_factor * min chi2_nu`` touches the grid's edge and narrowed while it
       is coarsely resolved; the region's extent along each parameter gives ``lower``/``upper``.
       A lower grid point than the refined optimum replaces it (the landscape is not smooth).
    4. Optionally, ``n_bootstrap`` resamples over runs, each fitted by steps 1-2.

    Parameters
    ----------
    data : CollapseData
    ansatz : Ansatz
        Must have at least one fitted parameter.
    seed : int or SeedSequence
        Seed of the global search and the bootstrap; the same seed gives the same result.
    n_bootstrap : int
        Number of bootstrap resamples (0: none, else at least 2). Needs ``data`` built from
        per-run values.
    contour_factor : float
        The contour is ``contour_factor * min chi2_nu`` (the paper's 1.3).
    grid_points : int, optional
        Points per axis of the sweep grid; default 201 for one fitted parameter, 41 for two and
        about ``1681**(1/k)`` (at least 7) for ``k`` parameters.
    starts : sequence of mappings, optional
        Further starting points of the local refinement (a value per fitted parameter, e.g. the
        minimum of a :func:`chi2_map`); the lowest of these refinements and the global search's
        is kept, so a landscape with jumps cannot hide a minimum that a grid has found.

    Raises
    ------
    ValueError
        If the ansatz has no fitted parameter, does not fit the sizes (``N_0 >= min N``), there
        are not more points than fitted parameters, or the bootstrap is asked for without runs.
    """
    _check_fit(data, ansatz)
    if contour_factor <= 1:
        raise ValueError(f"contour_factor must be > 1, got {contour_factor}")
    if n_bootstrap < 0 or n_bootstrap == 1:
        raise ValueError(f"n_bootstrap must be 0 (none) or at least 2, got {n_bootstrap}")
    if n_bootstrap and data.runs is None:
        raise ValueError("bootstrap over runs needs per-run values (CollapseData.from_runs)")
    seq = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
    fit_seq, boot_seq = seq.spawn(2)
    objective = _objective(data, ansatz)
    bounds = np.array(list(ansatz.bounds.values()))
    best, chi_best = _minimise(objective, bounds, np.random.default_rng(fit_seq))
    for start in starts:
        x0 = _free_vector(ansatz, start)
        candidate, chi = _polish(objective, bounds, x0, float(objective(x0[None, :])[0]))
        if chi < chi_best:
            best, chi_best = candidate, chi
    k = bounds.shape[0]
    n_axis = grid_points or (201 if k == 1 else max(7, round(1681 ** (1 / k))))
    best, chi_best, lower, upper, sweep = _sweep_contour(
        objective, bounds, best, chi_best, contour_factor, n_axis
    )
    names = ansatz.fitted
    span = bounds[:, 1] - bounds[:, 0]
    at_bound = {
        name: bool(lower[j] <= bounds[j, 0] + 1e-9 * span[j])
        or bool(upper[j] >= bounds[j, 1] - 1e-9 * span[j])
        for j, name in enumerate(names)
    }
    sweep_frame = pd.DataFrame(sweep[0], columns=list(names)).assign(
        chi2_nu=sweep[1], inside=sweep[1] <= contour_factor * chi_best
    )
    boot = _bootstrap(data, ansatz, n_bootstrap, boot_seq) if n_bootstrap else None
    params = {**ansatz.fixed, **dict(zip(names, map(float, best), strict=True))}
    return CollapseFit(
        ansatz=ansatz,
        params={key: params[key] for key in ansatz.defaults},
        chi2_nu=float(chi_best),
        n_points=data.n_points,
        lower=dict(zip(names, map(float, lower), strict=True)),
        upper=dict(zip(names, map(float, upper), strict=True)),
        at_bound=at_bound,
        sweep=sweep_frame,
        bootstrap=boot,
        contour_factor=contour_factor,
    )


def bootstrap_collapse(
    data: CollapseData,
    ansatz: Ansatz,
    n_resamples: int,
    *,
    seed: int | np.random.SeedSequence = 0,
) -> pd.DataFrame:
    """Fit ``n_resamples`` bootstrap resamples over runs (see :meth:`CollapseData.resample`).

    Returns
    -------
    DataFrame
        One row per resample: ``resample`` (0-based), one column per fitted parameter,
        ``chi2_nu``. The standard deviation of a column is the bootstrap error.
    """
    _check_fit(data, ansatz)
    if n_resamples < 2:
        raise ValueError(f"bootstrap needs at least 2 resamples, got {n_resamples}")
    seq = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
    return _bootstrap(data, ansatz, n_resamples, seq)


def chi2_map(
    data: CollapseData,
    ansatz: Ansatz,
    axes: Mapping[str, ArrayLike],
    params: Mapping[str, float] | None = None,
) -> pd.DataFrame:
    """``chi2_nu`` on the grid spanned by ``axes``, as a tidy table (e.g. over ``sigma, p_c``).

    Parameters
    ----------
    data : CollapseData
    ansatz : Ansatz
    axes : mapping
        Grid values per fitted parameter to vary, e.g. ``{"sigma": ..., "p_c": ...}``.
    params : mapping, optional
        Values of the other fitted parameters (required if there are any).

    Returns
    -------
    DataFrame
        One row per grid point: one column per axis, then ``chi2_nu`` (with ``n_fitted`` the
        number of fitted parameters of ``ansatz``).
    """
    unknown = [name for name in axes if name not in ansatz.bounds]
    if unknown:
        raise ValueError(f"chi2 map: {unknown} are not fitted parameters of {ansatz!r}")
    params = dict(params or {})
    missing = [n for n in ansatz.fitted if n not in axes and n not in params]
    if missing:
        raise ValueError(f"chi2 map: give values of the other fitted parameter(s) {missing}")
    _check_fit(data, ansatz)
    values = [np.asarray(v, dtype=float).ravel() for v in axes.values()]
    mesh = [m.ravel() for m in np.meshgrid(*values, indexing="ij")]
    columns = dict(zip(axes, mesh, strict=True))
    free = np.column_stack(
        [columns[n] if n in columns else np.full(mesh[0].size, params[n]) for n in ansatz.fitted]
    )
    return pd.DataFrame(columns).assign(chi2_nu=_objective(data, ansatz)(free))


def _check_fit(data: CollapseData, ansatz: Ansatz) -> None:
    if not ansatz.bounds:
        raise ValueError(f"{ansatz!r} has no fitted parameter")
    ansatz.check_sizes(data.size)
    if data.n_points <= len(ansatz.bounds) + 2:
        raise ValueError(
            f"collapse fit: {data.n_points} points are too few for "
            f"{len(ansatz.bounds)} fitted parameter(s)"
        )


def _free_vector(ansatz: Ansatz, params: Mapping[str, float]) -> NDArray[np.float64]:
    missing = [name for name in ansatz.fitted if name not in params]
    unknown = [name for name in params if name not in ansatz.defaults]
    clash = [n for n in params if n in ansatz.fixed and params[n] != ansatz.fixed[n]]
    if missing or unknown or clash:
        raise ValueError(
            f"parameters for {ansatz!r}: missing {missing}, unknown {unknown}, "
            f"differing from the fixed value {clash}"
        )
    return np.array([params[name] for name in ansatz.fitted], dtype=float)


def _objective(
    data: CollapseData, ansatz: Ansatz
) -> Callable[[NDArray[np.float64]], NDArray[np.float64]]:
    """``chi2_nu`` of a batch of fitted-parameter vectors, shape (m, k) -> (m,)."""
    ansatz.check_sizes(data.size)
    k = len(ansatz.bounds)

    def objective(free: NDArray[np.float64]) -> NDArray[np.float64]:
        free = np.atleast_2d(free)
        out = np.empty(free.shape[0])
        for start in range(0, free.shape[0], _CHUNK):
            theta = ansatz.parameters(free[start : start + _CHUNK])
            x, y, dy = ansatz.scale(data.p, data.size, data.y, data.dy, theta)
            out[start : start + _CHUNK] = collapse_chi2(np.atleast_2d(x), y, dy, k)
        return out

    return objective


def _minimise(
    objective: Callable[[NDArray[np.float64]], NDArray[np.float64]],
    bounds: NDArray[np.float64],
    rng: np.random.Generator,
) -> tuple[NDArray[np.float64], float]:
    """Global search (differential evolution) then Nelder-Mead; returns (best, chi2_nu)."""
    result = differential_evolution(
        lambda free: objective(free.T),  # vectorised: free has shape (k, population)
        bounds,
        rng=rng,  # SciPy >= 1.15
        vectorized=True,
        updating="deferred",
        polish=False,
        init="sobol",
    )
    return _polish(objective, bounds, result.x, float(result.fun))


def _polish(
    objective: Callable[[NDArray[np.float64]], NDArray[np.float64]],
    bounds: NDArray[np.float64],
    start: NDArray[np.float64],
    start_value: float,
) -> tuple[NDArray[np.float64], float]:
    local = minimize(
        lambda free: objective(free[None, :])[0],
        start,
        method="Nelder-Mead",
        bounds=bounds,
        options={"xatol": 1e-6, "fatol": 1e-9, "maxfev": 4000},
    )
    if local.fun < start_value:
        return np.asarray(local.x, dtype=float), float(local.fun)
    return np.asarray(start, dtype=float), start_value


def _sweep_contour(
    objective: Callable[[NDArray[np.float64]], NDArray[np.float64]],
    bounds: NDArray[np.float64],
    best: NDArray[np.float64],
    chi_best: float,
    factor: float,
    n_axis: int,
) -> tuple[
    NDArray[np.float64],
    float,
    NDArray[np.float64],
    NDArray[np.float64],
    tuple[NDArray[np.float64], NDArray[np.float64]],
]:
    """Grid sweep of the contour region; returns (best, chi_best, lower, upper, (grid, chi2))."""
    low_bound, high_bound = bounds[:, 0], bounds[:, 1]
    window_lo = np.maximum(low_bound, best - 0.1 * (high_bound - low_bound))
    window_hi = np.minimum(high_bound, best + 0.1 * (high_bound - low_bound))
    for _ in range(_SWEEP_ROUNDS):
        axes = [np.linspace(lo, hi, n_axis) for lo, hi in zip(window_lo, window_hi, strict=True)]
        grid = np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1).reshape(-1, bounds.shape[0])
        chi = objective(grid)
        if chi.min() < chi_best:
            best, chi_best = _polish(objective, bounds, grid[chi.argmin()], float(chi.min()))
        inside = grid[chi <= factor * chi_best]
        region_lo = np.minimum(inside.min(axis=0, initial=np.inf), best)
        region_hi = np.maximum(inside.max(axis=0, initial=-np.inf), best)
        width = window_hi - window_lo
        step = width / (n_axis - 1)
        new_lo, new_hi = window_lo.copy(), window_hi.copy()
        open_lo = (region_lo <= window_lo) & (window_lo > low_bound)
        open_hi = (region_hi >= window_hi) & (window_hi < high_bound)
        new_lo[open_lo] = np.maximum(low_bound, window_lo - width)[open_lo]
        new_hi[open_hi] = np.minimum(high_bound, window_hi + width)[open_hi]
        # a region much narrower than the window is resolved by few grid points: zoom in
        extent = region_hi - region_lo
        coarse = ~open_lo & ~open_hi & (extent < 0.25 * width)
        margin = 0.5 * extent + step
        new_lo[coarse] = np.maximum(low_bound, region_lo - margin)[coarse]
        new_hi[coarse] = np.minimum(high_bound, region_hi + margin)[coarse]
        if np.array_equal(new_lo, window_lo) and np.array_equal(new_hi, window_hi):
            break
        window_lo, window_hi = new_lo, new_hi
    return best, chi_best, region_lo, region_hi, (grid, chi)


def _bootstrap(
    data: CollapseData, ansatz: Ansatz, n_resamples: int, seq: np.random.SeedSequence
) -> pd.DataFrame:
    bounds = np.array(list(ansatz.bounds.values()))
    rows = []
    for index, child in enumerate(seq.spawn(n_resamples)):
        resample_rng, fit_rng = (np.random.default_rng(s) for s in child.spawn(2))
        best, chi = _minimise(_objective(data.resample(resample_rng), ansatz), bounds, fit_rng)
        rows.append([index, *best, chi])
    return pd.DataFrame(rows, columns=["resample", *ansatz.fitted, "chi2_nu"])
