"""Fit of a data collapse: global search, local refinement, contour errors and bootstrap."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from scipy import ndimage
from scipy.optimize import differential_evolution, minimize

from .ansatz import Ansatz
from .data import CollapseData
from .quality import collapse_chi2

CONTOUR_FACTOR = 1.3
#: the largest step in p_c of the grid behind the errors
P_C_STEP = 0.005
_CHUNK = 2048  # parameter sets per vectorised chi2 evaluation (bounds the memory to a few MB)


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
        Per fitted parameter, the extent of the error region (the connected region
        ``chi2_nu <= contour_factor * chi2_nu`` around the minimum on the fixed grid, and the
        minimum itself): its projection onto that parameter's axis.
    at_bound : dict[str, bool]
        Whether that region reaches a bound of the parameter (the contour is open there and the
        error is a lower limit).
    axes : dict[str, ndarray]
        The fixed grid: its values of each fitted parameter, in the ansatz's order.
    grid_chi2 : ndarray
        ``chi2_nu`` on the grid, one axis per fitted parameter (shape of the ``axes``).
    region : ndarray of bool
        The error region on the grid (same shape).
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
    axes: dict[str, NDArray[np.float64]]
    grid_chi2: NDArray[np.float64]
    region: NDArray[np.bool_]
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

    def profile(self, *names: str) -> pd.DataFrame:
        """``chi2_nu`` over the grid of the parameters ``names``, minimised over the others.

        Returns
        -------
        DataFrame
            One row per grid point of ``names``: a column per name, ``chi2_nu`` (the lowest over
            the other fitted parameters' grid values) and ``inside`` (the projection of the error
            region). With two names this is the chi2 map of a figure.
        """
        unknown = [n for n in names if n not in self.axes]
        if unknown or not names:
            raise ValueError(f"profile: {unknown or 'no names'}; the grid has {list(self.axes)}")
        fitted = list(self.axes)
        others = tuple(j for j, n in enumerate(fitted) if n not in names)
        kept = [n for n in fitted if n in names]  # the remaining axes, in the ansatz's order
        order = [kept.index(n) for n in names]
        chi = (self.grid_chi2.min(axis=others) if others else self.grid_chi2).transpose(order)
        inside = (self.region.any(axis=others) if others else self.region).transpose(order)
        mesh = np.meshgrid(*(self.axes[n] for n in names), indexing="ij")
        columns = {n: m.ravel() for n, m in zip(names, mesh, strict=True)}
        return pd.DataFrame(columns).assign(chi2_nu=chi.ravel(), inside=inside.ravel())

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


def grid_axes(
    ansatz: Ansatz, p_c_step: float = P_C_STEP, grid_points: int | None = None
) -> dict[str, NDArray[np.float64]]:
    """The fixed grid of the error region: one axis per fitted parameter, over its bounds.

    ``p_c`` has steps of at most ``p_c_step``; every other parameter ``grid_points`` values
    (default 81 with one other fitted parameter, 25 with two, 11 with three), geometrically
    spaced for a scale (``N_0``), evenly otherwise.
    """
    if p_c_step <= 0:
        raise ValueError(f"p_c_step must be positive, got {p_c_step}")
    others = [k for k in ansatz.fitted if k != "p_c"]
    n_other = grid_points or {0: 1, 1: 81, 2: 25}.get(len(others), 11)
    axes = {}
    for name, (low, high) in ansatz.bounds.items():
        if name == "p_c":
            axes[name] = np.linspace(low, high, int(np.ceil((high - low) / p_c_step - 1e-9)) + 1)
        elif name in ansatz.scales and low > 0:
            axes[name] = np.geomspace(low, high, n_other)
        else:
            axes[name] = np.linspace(low, high, n_other)
    return axes


def fit_collapse(
    data: CollapseData,
    ansatz: Ansatz,
    *,
    seed: int | np.random.SeedSequence = 0,
    n_bootstrap: int = 0,
    contour_factor: float = CONTOUR_FACTOR,
    p_c_step: float = P_C_STEP,
    grid_points: int | None = None,
    starts: Sequence[Mapping[str, float]] = (),
) -> CollapseFit:
    """Fit the collapse of ``data`` under ``ansatz`` by minimising ``chi2_nu``.

    1. Global search: differential evolution within the bounds of the fitted parameters.
    2. Local refinement: Nelder-Mead (with bounds) from the global optimum and from every point
       of ``starts``; the lowest is kept.
    3. A fixed grid over the bounds (:func:`grid_axes`): its lowest point is refined too, and
       replaces the optimum if lower (the landscape has jumps). The error region is the set of
       grid points with ``chi2_nu <= contour_factor * min chi2_nu`` connected (sides, edges and
       corners) to the grid point nearest the optimum; its extent along each parameter gives
       ``lower``/``upper``. Where no grid point around the optimum is that low (a minimum
       narrower than the grid), the region is the one around the grid's own minimum, at
       ``contour_factor`` times the grid's minimum.
    4. Optionally, ``n_bootstrap`` resamples over runs, each fitted from the lowest point of a
       coarse version of the grid and from the optimum of the full sample (Nelder-Mead from
       both, the lower kept).

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
    p_c_step, grid_points : float, int
        The grid (:func:`grid_axes`).
    starts : sequence of mappings, optional
        Further starting points of the local refinement (a value per fitted parameter).

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
    axes = grid_axes(ansatz, p_c_step, grid_points)
    mesh = np.stack(np.meshgrid(*axes.values(), indexing="ij"), axis=-1)
    shape = mesh.shape[:-1]
    grid_chi = objective(mesh.reshape(-1, len(axes))).reshape(shape)
    lowest = np.unravel_index(np.argmin(grid_chi), shape)
    candidate, chi = _polish(objective, bounds, mesh[lowest], float(grid_chi[lowest]))
    if chi < chi_best:
        best, chi_best = candidate, chi
    region = _error_region(grid_chi, axes, best, contour_factor * chi_best)
    if not region.any():
        region = _error_region(
            grid_chi, axes, mesh[lowest], contour_factor * float(grid_chi[lowest])
        )
    names = ansatz.fitted
    level = contour_factor * chi_best
    lower, upper, at_bound = {}, {}, {}
    for j, name in enumerate(names):
        low, high, touches = _region_extent(grid_chi, region, axes[name], j, level)
        lower[name], upper[name] = float(min(low, best[j])), float(max(high, best[j]))
        at_bound[name] = touches
    boot = (_bootstrap(data, ansatz, n_bootstrap, boot_seq, best, p_c_step) if n_bootstrap
            else None)  # fmt: skip
    params = {**ansatz.fixed, **dict(zip(names, map(float, best), strict=True))}
    return CollapseFit(
        ansatz=ansatz,
        params={key: params[key] for key in ansatz.defaults},
        chi2_nu=float(chi_best),
        n_points=data.n_points,
        lower=lower,
        upper=upper,
        at_bound=at_bound,
        axes=axes,
        grid_chi2=grid_chi,
        region=region,
        bootstrap=boot,
        contour_factor=contour_factor,
    )


def window_ansatz(ansatz: Ansatz, low: float, high: float) -> Ansatz:
    """``ansatz`` with a fitted ``p_c`` bounded to the window ``[low, high]`` (within its own
    bounds): a critical point outside the data of the fit means nothing."""
    if "p_c" not in ansatz.bounds:
        return ansatz
    b_low, b_high = ansatz.bounds["p_c"]
    if max(low, b_low) >= min(high, b_high):
        raise ValueError(
            f"window [{low:g}, {high:g}] lies outside the p_c bounds {[b_low, b_high]}"
        )
    return ansatz.replace(p_c=(max(low, b_low), min(high, b_high)))


def fit_in_window(
    data: CollapseData, ansatz: Ansatz, centre: float, half_width: float, **options: Any
) -> CollapseFit:
    """:func:`fit_collapse` of the points with ``|p - centre| <= half_width``, ``p_c`` bounded to
    that window (:func:`window_ansatz`); ``options`` go to :func:`fit_collapse`."""
    if not half_width > 0:
        raise ValueError(f"half_width must be positive, got {half_width}")
    low, high = centre - half_width, centre + half_width
    return fit_collapse(data.within(low, high), window_ansatz(ansatz, low, high), **options)


def _region_extent(
    grid_chi: NDArray[np.float64],
    region: NDArray[np.bool_],
    axis_values: NDArray[np.float64],
    axis: int,
    level: float,
) -> tuple[float, float, bool]:
    """The extent of ``region`` along one axis, to where ``chi2_nu`` reaches ``level``.

    Between a grid point of the region and its neighbour outside it, chi2_nu is interpolated
    linearly (as a contour line is drawn), so the extent is not limited to grid steps. Returns
    (lower, upper, whether the region reaches the first or last grid value).
    """
    chi = np.moveaxis(grid_chi, axis, 0)
    inside = np.moveaxis(region, axis, 0)
    x = axis_values.reshape((-1,) + (1,) * (chi.ndim - 1))
    x = np.broadcast_to(x, chi.shape)
    touches = bool(inside[0].any() or inside[-1].any())
    lows, highs = [x[0][inside[0]], x[-1][inside[-1]]], [x[0][inside[0]], x[-1][inside[-1]]]
    # region points whose neighbour below (above) along the axis is outside the region
    edge_low = inside[1:] & ~inside[:-1]
    edge_high = inside[:-1] & ~inside[1:]
    for edge, here, there, xh, xt, out in (
        (edge_low, chi[1:], chi[:-1], x[1:], x[:-1], lows),
        (edge_high, chi[:-1], chi[1:], x[:-1], x[1:], highs),
    ):
        c_in, c_out = here[edge], there[edge]
        share = np.clip((level - c_in) / np.where(c_out > c_in, c_out - c_in, np.inf), 0, 1)
        out.append(xh[edge] + share * (xt[edge] - xh[edge]))
    lows, highs = np.concatenate(lows), np.concatenate(highs)
    inside_x = x[inside]
    return (float(min(lows.min(initial=np.inf), inside_x.min())),
            float(max(highs.max(initial=-np.inf), inside_x.max())), touches)  # fmt: skip


def _error_region(
    grid_chi: NDArray[np.float64],
    axes: Mapping[str, NDArray[np.float64]],
    centre: NDArray[np.float64],
    level: float,
) -> NDArray[np.bool_]:
    """Grid points with ``chi2_nu <= level`` connected to the grid point nearest ``centre``
    (empty if that point is above the level)."""
    nearest = tuple(
        int(np.argmin(np.abs(axis - c))) for axis, c in zip(axes.values(), centre, strict=True)
    )
    below = grid_chi <= level
    if not below[nearest]:
        return np.zeros_like(below)
    labels, _ = ndimage.label(below, structure=np.ones((3,) * below.ndim, dtype=bool))
    return labels == labels[nearest]


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


def _coarse_grid(
    axes: Mapping[str, NDArray[np.float64]], budget: int = 1000
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Every few values of each axis, about ``budget`` parameter sets in all: the sets, shape
    (m, k), and the step of each axis, shape (k,)."""
    per_axis = budget ** (1 / len(axes))
    picked = [a[:: max(1, math.ceil(len(a) / per_axis))] for a in axes.values()]
    steps = np.array([np.ptp(a) / max(1, len(a) - 1) for a in picked])
    mesh = np.stack(np.meshgrid(*picked, indexing="ij"), axis=-1).reshape(-1, len(axes))
    return mesh, steps


def _zoom(
    objective: Callable[[NDArray[np.float64]], NDArray[np.float64]],
    bounds: NDArray[np.float64],
    centre: NDArray[np.float64],
    value: float,
    steps: NDArray[np.float64],
    rounds: int = 5,
    points: int = 7,
) -> tuple[NDArray[np.float64], float]:
    """A vectorised local refinement: a ``points``-per-axis grid of half-width ``steps`` around
    the best point so far, shrunk threefold each round (no per-point Python calls, unlike a
    simplex)."""
    offsets = np.stack(np.meshgrid(*([np.linspace(-1, 1, points)] * len(centre)), indexing="ij"),
                       axis=-1).reshape(-1, len(centre))  # fmt: skip
    for _ in range(rounds):
        trial = np.clip(centre + offsets * steps, bounds[:, 0], bounds[:, 1])
        values = objective(trial)
        j = int(np.argmin(values))
        if values[j] < value:
            centre, value = trial[j], float(values[j])
        steps = steps / 3
    return centre, value


def _bootstrap(
    data: CollapseData,
    ansatz: Ansatz,
    n_resamples: int,
    seq: np.random.SeedSequence,
    start: NDArray[np.float64] | None = None,
    p_c_step: float = P_C_STEP,
) -> pd.DataFrame:
    """Refit resamples over runs: the lowest of a coarse grid over the bounds and of ``start``
    (the optimum of the full sample), refined by :func:`_zoom`. The grid is global, as the
    search of the full sample is, at a fraction of its cost."""
    bounds = np.array(list(ansatz.bounds.values()))
    coarse, steps = _coarse_grid(grid_axes(ansatz, p_c_step))
    if start is not None:
        coarse = np.vstack([coarse, start])
    rows = []
    for index, child in enumerate(seq.spawn(n_resamples)):
        objective = _objective(data.resample(np.random.default_rng(child)), ansatz)
        values = objective(coarse)
        lowest = int(np.argmin(values))
        best, chi = _zoom(objective, bounds, coarse[lowest], float(values[lowest]), steps)
        rows.append([index, *best, chi])
    return pd.DataFrame(rows, columns=["resample", *ansatz.fitted, "chi2_nu"])
