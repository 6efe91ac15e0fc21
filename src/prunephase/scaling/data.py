"""The input of a collapse: one observable per (p, N) point with its standard error.

A :class:`CollapseData` is built either from means and standard errors
(:meth:`CollapseData.from_means`) or from per-run values (:meth:`CollapseData.from_runs`), which
also allow the bootstrap over runs. Degenerate input (NaN, a single size, a constant observable,
too few points, zero errors) stops with a ``ValueError`` that names the problem.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

MIN_POINTS_PER_SIZE = 3


@dataclass(frozen=True, eq=False)
class CollapseData:
    """Points ``(p, N, y, dy)`` of a finite-size-scaling collapse, sorted by ``N`` then ``p``.

    Attributes
    ----------
    p : ndarray, shape (n,)
        Control parameter (here ``p_eval``).
    size : ndarray, shape (n,)
        System size (here the training-set size ``N``).
    y : ndarray, shape (n,)
        Observable (here ``<L_CE>``), the mean over runs.
    dy : ndarray, shape (n,)
        Standard error of ``y`` (over runs).
    runs : tuple of ndarray or None
        Per-run values, one array of shape ``(n_runs_N, n_p_N)`` per distinct size in increasing
        order, whose columns are the points of that size in order; ``None`` if built from means.
    """

    p: NDArray[np.float64]
    size: NDArray[np.float64]
    y: NDArray[np.float64]
    dy: NDArray[np.float64]
    runs: tuple[NDArray[np.float64], ...] | None = None

    @property
    def n_points(self) -> int:
        """Number of points."""
        return int(self.p.size)

    @property
    def sizes(self) -> NDArray[np.float64]:
        """The distinct sizes, increasing."""
        return np.unique(self.size)

    @classmethod
    def from_means(cls, p: ArrayLike, size: ArrayLike, y: ArrayLike, dy: ArrayLike) -> CollapseData:
        """Points from means ``y`` and standard errors ``dy``, one per ``(p, N)``.

        Parameters
        ----------
        p, size, y, dy : array_like, shape (n,)

        Raises
        ------
        ValueError
            On NaN or infinite values, non-positive sizes or errors, duplicate ``(p, N)`` points,
            fewer than two sizes, fewer than three points of a size, or a constant ``y``.
        """
        given = {"p": p, "N": size, "y": y, "dy": dy}
        arrays = {name: _column(name, values) for name, values in given.items()}
        lengths = {name: a.size for name, a in arrays.items()}
        if len(set(lengths.values())) != 1:
            raise ValueError(f"collapse data: p, N, y, dy differ in length: {lengths}")
        if np.any(arrays["N"] <= 0):
            raise ValueError("collapse data: sizes N must be positive")
        if np.any(arrays["dy"] <= 0):
            bad = np.flatnonzero(arrays["dy"] <= 0)
            raise ValueError(
                f"collapse data: {bad.size} standard error(s) dy <= 0, e.g. at "
                f"(p, N) = ({arrays['p'][bad[0]]:g}, {arrays['N'][bad[0]]:g}); "
                "a point needs a positive error to enter chi2"
            )
        order = np.lexsort((arrays["p"], arrays["N"]))
        data = cls(*(arrays[k][order] for k in "p N y dy".split()))
        _check_shape(data)
        return data

    @classmethod
    def from_runs(
        cls, p: ArrayLike, size: ArrayLike, run: ArrayLike, value: ArrayLike
    ) -> CollapseData:
        """Points from per-run values (long format, one row per ``(p, N, run)``).

        The mean over runs gives ``y`` and ``std(ddof=1) / sqrt(n_runs)`` gives ``dy``. A run is
        one trained network: its values at all ``p`` of a size are kept together, so a bootstrap
        resample (:meth:`resample`) draws whole runs.

        Parameters
        ----------
        p, size, value : array_like, shape (n_rows,)
        run : array_like, shape (n_rows,)
            Run label (any hashable values); labels are only compared within one size.

        Raises
        ------
        ValueError
            As :meth:`from_means`, and if a ``(p, N, run)`` is repeated, a run lacks some ``p`` of
            its size, or a size has fewer than two runs.
        """
        columns = {
            "p": _column("p", p),
            "N": _column("N", size),
            "run": np.asarray(run).ravel(),
            "value": _column("value", value),
        }
        lengths = {name: a.size for name, a in columns.items()}
        if len(set(lengths.values())) != 1:
            raise ValueError(f"collapse data: p, N, run, value differ in length: {lengths}")
        frame = pd.DataFrame(columns)
        if frame.duplicated(["p", "N", "run"]).any():
            raise ValueError("collapse data: repeated (p, N, run) rows")
        blocks = []
        for n_value, group in frame.groupby("N", sort=True):
            table = group.pivot(index="run", columns="p", values="value")
            if table.isna().any().any():
                raise ValueError(
                    f"collapse data: at N = {n_value:g} some runs lack some p values "
                    "(every run must cover every p of its size)"
                )
            if len(table) < 2:
                raise ValueError(
                    f"collapse data: N = {n_value:g} has {len(table)} run(s); a standard error "
                    "over runs needs at least two"
                )
            blocks.append((n_value, table.columns.to_numpy(float), table.to_numpy(float)))
        p_all = np.concatenate([cols for _, cols, _ in blocks])
        n_all = np.concatenate([np.full(cols.size, n) for n, cols, _ in blocks])
        runs = tuple(values for _, _, values in blocks)
        y = np.concatenate([v.mean(axis=0) for v in runs])
        dy = np.concatenate([v.std(axis=0, ddof=1) / np.sqrt(v.shape[0]) for v in runs])
        means = cls.from_means(p_all, n_all, y, dy)  # validates; order is already (N, p)
        return cls(means.p, means.size, means.y, means.dy, runs)

    @classmethod
    def from_frame(
        cls,
        frame: pd.DataFrame,
        *,
        p: str = "p_eval",
        size: str = "N",
        value: str = "L_CE",
        error: str | None = None,
        run: str | None = None,
    ) -> CollapseData:
        """Points from a table: per-run values if ``run`` names a column, else means and errors.

        Parameters
        ----------
        frame : DataFrame
            One row per point (``error`` given) or per ``(p, N, run)`` (``run`` given).
        p, size, value, error, run : str
            Column names. Exactly one of ``error`` and ``run`` must be given.
        """
        if (error is None) == (run is None):
            raise ValueError("collapse data: give exactly one of error= (means) and run= (runs)")
        missing = [c for c in (p, size, value, error, run) if c is not None and c not in frame]
        if missing:
            raise ValueError(f"collapse data: missing column(s) {missing}; have {list(frame)}")
        if run is not None:
            return cls.from_runs(frame[p], frame[size], frame[run], frame[value])
        return cls.from_means(frame[p], frame[size], frame[value], frame[error])

    def resample(self, rng: np.random.Generator) -> CollapseData:
        """A bootstrap resample over runs: per size, draw its runs with replacement.

        The means ``y`` are recomputed from the drawn runs; the errors ``dy`` stay those of the
        full sample, because with a few runs a resample often repeats one run and its own standard
        error would vanish.

        Raises
        ------
        ValueError
            If the data were built from means (no runs to resample).
        """
        if self.runs is None:
            raise ValueError("bootstrap over runs needs per-run values (CollapseData.from_runs)")
        y = np.concatenate(
            [v[rng.integers(0, v.shape[0], size=v.shape[0])].mean(axis=0) for v in self.runs]
        )
        return CollapseData(self.p, self.size, y, self.dy, self.runs)

    def within(self, low: float, high: float) -> CollapseData:
        """The points with ``low <= p <= high`` (a fit window), runs kept for the bootstrap.

        Raises
        ------
        ValueError
            As :meth:`from_means` when too few points remain (fewer than three ``p`` at a size).
        """
        tol = 1e-9 * max(1.0, abs(low), abs(high))  # grid values such as 0.45 + 0.15
        keep = (self.p >= low - tol) & (self.p <= high + tol)
        window = CollapseData.from_means(self.p[keep], self.size[keep], self.y[keep], self.dy[keep])
        if self.runs is None:
            return window
        runs = tuple(
            values[:, keep[self.size == n]] for n, values in zip(self.sizes, self.runs, strict=True)
        )
        return CollapseData(window.p, window.size, window.y, window.dy, runs)

    def to_frame(self) -> pd.DataFrame:
        """The points as a table with columns ``p, N, y, dy``."""
        return pd.DataFrame({"p": self.p, "N": self.size, "y": self.y, "dy": self.dy})


def _column(name: str, values: ArrayLike) -> NDArray[np.float64]:
    array = np.asarray(values, dtype=float).ravel()
    bad = ~np.isfinite(array)
    if bad.any():
        raise ValueError(
            f"collapse data: {name} has {bad.sum()} NaN or infinite value(s) "
            f"(first at index {np.flatnonzero(bad)[0]})"
        )
    return array


def _check_shape(data: CollapseData) -> None:
    keys = pd.MultiIndex.from_arrays([data.p, data.size])
    if keys.has_duplicates:
        p_dup, n_dup = keys[keys.duplicated()][0]
        raise ValueError(f"collapse data: repeated point (p, N) = ({p_dup:g}, {n_dup:g})")
    sizes, counts = np.unique(data.size, return_counts=True)
    if sizes.size < 2:
        raise ValueError(
            f"collapse data: only one size N = {sizes[0]:g}; a collapse needs at least two"
            if sizes.size
            else "collapse data: no points"
        )
    if np.any(counts < MIN_POINTS_PER_SIZE):
        few = sizes[counts < MIN_POINTS_PER_SIZE]
        raise ValueError(
            f"collapse data: too few points at N = {few.tolist()}: each size needs at least "
            f"{MIN_POINTS_PER_SIZE} values of p"
        )
    if np.ptp(data.y) == 0:
        raise ValueError(
            f"collapse data: y is constant ({data.y[0]:g}); there is nothing to collapse"
        )
