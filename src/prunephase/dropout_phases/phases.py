"""The loss-vs-N exponent alpha_CE, the phases it defines, and where it changes sign (paper A).

<L_CE>(N) ~ N^(-alpha_CE): eumentia (alpha_CE > 0, the network learns), dementia (alpha_CE < 0, it
has forgotten), amentia (the network cannot learn). A network that did not learn is amentia at
every p_eval, whatever the sign of a small alpha_CE; a point whose alpha_CE is not significant
although its network learnt is neither phase: it lies on the boundary between eumentia and
dementia, where the N dependence changes sign.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from prunephase.core.seeds import generator
from prunephase.scaling import nearest_sign_change, sign_change

#: the phases, and the label of a learnt network without a significant N dependence
PHASES = ("eumentia", "dementia", "amentia")
BOUNDARY = "boundary"
LABELS = (*PHASES, BOUNDARY)

#: columns of the alpha_CE table
ALPHA_COLUMNS = [
    "width", "depth", "train_fraction", "p_train", "p_eval", "alpha_ce", "alpha_ce_se",
    "alpha_ce_err", "log_prefactor", "alpha_local", "alpha_local_err", "n_sizes", "n_runs",
    "acc_unpruned", "learnt", "phase",
]  # fmt: skip

#: columns of the crossing table
CROSSING_COLUMNS = [
    "width", "depth", "train_fraction", "p_train", "transition", "p_cross", "p_cross_err",
    "found",
]  # fmt: skip


@dataclass(frozen=True, kw_only=True)
class PhaseRule:
    """When a point counts as eumentia, dementia, amentia or boundary.

    Attributes
    ----------
    n_se, min_alpha
        alpha_CE is significant when ``|alpha| > n_se * err`` and ``|alpha| > min_alpha``.
    amentia_accuracy
        A network learnt when its unpruned test accuracy at the largest N is at least this and
        its alpha_CE at p_eval = 0 is significant.
    """

    n_se: float
    min_alpha: float
    amentia_accuracy: float

    def significant(self, alpha: np.ndarray, err: np.ndarray) -> np.ndarray:
        alpha = np.asarray(alpha, dtype=float)
        return (np.abs(alpha) > self.n_se * np.asarray(err)) & (np.abs(alpha) > self.min_alpha)


def fit_power_law(n: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Least-squares fit of ``log y = c - alpha log n`` along the last axis.

    Parameters
    ----------
    n
        Sizes, shape (S,), positive.
    y
        Values, shape (..., S), positive.

    Returns
    -------
    alpha, c, alpha_se
        Each of shape (...): exponent, log prefactor, and the ordinary-least-squares standard error
        of alpha (NaN when S < 3).
    """
    log_n = np.log(np.asarray(n, dtype=float))
    log_y = np.log(np.asarray(y, dtype=float))
    if log_n.size < 2:
        raise ValueError("a power-law fit needs at least two sizes N")
    centred = log_n - log_n.mean()
    sxx = (centred**2).sum()
    slope = ((log_y - log_y.mean(axis=-1, keepdims=True)) * centred).sum(axis=-1) / sxx
    intercept = log_y.mean(axis=-1) - slope * log_n.mean()
    dof = log_n.size - 2
    if dof > 0:
        resid = log_y - (intercept[..., None] + slope[..., None] * log_n)
        se = np.sqrt((resid**2).sum(axis=-1) / dof / sxx)
    else:
        se = np.full(slope.shape, np.nan)
    return -slope, intercept, se


def classify(alpha: np.ndarray, err: np.ndarray, learnt: np.ndarray, rule: PhaseRule) -> np.ndarray:
    """The label of each point: amentia where the network did not learn, else the sign of a
    significant alpha_CE, else boundary.

    Parameters
    ----------
    alpha, err, learnt
        Arrays of one shape: alpha_CE, its error, and whether the point's network learnt.
    """
    sign = np.where(np.asarray(alpha) > 0, "eumentia", "dementia")
    return np.where(
        np.asarray(learnt), np.where(rule.significant(alpha, err), sign, BOUNDARY), "amentia"
    )


def _bootstrap_alpha(
    values: np.ndarray, sizes: np.ndarray, n_bootstrap: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Resamples of the runs: alpha_CE over all sizes, and the resampled means.

    ``values[p_train, p_eval, N, run]``; runs are drawn independently for every (p_train, N), a
    different set of networks each, and shared across p_eval (the same networks). Returns the
    exponents, shape (n_bootstrap, p_train, p_eval), and the means over the drawn runs, shape
    (n_bootstrap, p_train, p_eval, N).
    """
    n_p, _, n_sizes, n_runs = values.shape
    whole, resampled = [], []
    for _ in range(n_bootstrap):
        pick = rng.integers(0, n_runs, size=(n_p, 1, n_sizes, n_runs))
        means = np.take_along_axis(values, pick, axis=-1).mean(axis=-1)
        whole.append(fit_power_law(sizes, means)[0])
        resampled.append(means)
    return np.array(whole), np.array(resampled)


def alpha_ce_tables(
    runs: pd.DataFrame, *, n_bootstrap: int, local_sizes: int, rule: PhaseRule, seed: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """alpha_CE with errors, the label of every point, and the crossing at every p_train.

    Parameters
    ----------
    runs
        The per-run table (:func:`prunephase.dropout_phases.tables.per_run`): ``cross_entropy``
        and ``accuracy`` per run, for every (architecture, snapshot, N, p_train, p_eval).
    n_bootstrap
        Resamples of the runs (at least 2): drawn with replacement, independently for every
        (N, p_train) (each a different set of trained networks) and shared across p_eval (the
        same networks); the exponents and crossings are recomputed from the resampled means.
    local_sizes
        The local exponent ``alpha_local`` is the fit over this many largest N (at least 2).
    rule
        The thresholds of :func:`classify`.
    seed
        Root seed of the resamples.

    Returns
    -------
    alpha : pandas.DataFrame
        One row per (architecture, snapshot, p_train, p_eval), columns :data:`ALPHA_COLUMNS`:
        ``alpha_ce`` (over all N) with its OLS error ``alpha_ce_se`` and bootstrap error
        ``alpha_ce_err`` (it decides the label), ``alpha_local`` and ``alpha_local_err`` (the
        largest ``local_sizes`` N), ``acc_unpruned`` (mean test accuracy at p_eval = 0 and the
        largest N), ``learnt`` (see :class:`PhaseRule`) and ``phase`` (:data:`LABELS`).
    crossings : pandas.DataFrame
        One row per (architecture, snapshot, p_train), columns :data:`CROSSING_COLUMNS`:
        ``transition`` where alpha_CE falls significantly from + to - along p_eval, ``p_cross``
        the interpolated zero (:func:`prunephase.scaling.sign_change`), ``p_cross_err`` the
        standard deviation over the resamples that have a zero near it, ``found`` their
        fraction (NaN without a transition).
    """
    if n_bootstrap < 2:
        raise ValueError(f"alpha_CE: needs at least 2 bootstrap resamples, got {n_bootstrap}")
    rng = generator(seed)
    alpha_frames, crossing_rows = [], []
    keys = ["width", "depth", "train_fraction"]
    for (width, depth, fraction), group in runs.groupby(keys):
        values, accuracy, (p_train, p_eval, sizes) = _cubes(group, width, depth)
        if local_sizes > len(sizes):
            raise ValueError(
                f"local_sizes = {local_sizes} exceeds the {len(sizes)} training-set sizes"
            )
        if p_eval[0] != 0:
            raise ValueError("the p_eval grid must contain 0 (the unpruned networks)")
        alpha, intercept, se = fit_power_law(sizes, values.mean(axis=-1))
        local = slice(len(sizes) - local_sizes, None)
        alpha_local = fit_power_law(sizes[local], values.mean(axis=-1)[..., local])[0]
        whole, means = _bootstrap_alpha(values, sizes, n_bootstrap, rng)
        err = whole.std(axis=0, ddof=1)
        local_err = fit_power_law(sizes[local], means[..., local])[0].std(axis=0, ddof=1)
        acc0 = accuracy.mean(axis=-1)[:, 0, -1]  # p_eval = 0, largest N
        learnt = (acc0 >= rule.amentia_accuracy) & rule.significant(alpha[:, 0], err[:, 0])
        phase = classify(alpha, err, np.broadcast_to(learnt[:, None], alpha.shape), rule)
        pt, pe = np.meshgrid(p_train, p_eval, indexing="ij")
        alpha_frames.append(
            pd.DataFrame(
                {
                    "width": width,
                    "depth": depth,
                    "train_fraction": fraction,
                    "p_train": pt.ravel(),
                    "p_eval": pe.ravel(),
                    "alpha_ce": alpha.ravel(),
                    "alpha_ce_se": se.ravel(),
                    "alpha_ce_err": err.ravel(),
                    "log_prefactor": intercept.ravel(),
                    "alpha_local": alpha_local.ravel(),
                    "alpha_local_err": local_err.ravel(),
                    "n_sizes": len(sizes),
                    "n_runs": values.shape[-1],
                    "acc_unpruned": np.repeat(acc0, len(p_eval)),
                    "learnt": np.repeat(learnt, len(p_eval)),
                    "phase": phase.ravel(),
                }  # fmt: skip
            )
        )
        significant = rule.significant(alpha, err)
        for i, p in enumerate(p_train):
            p_cross = sign_change(p_eval, alpha[i], significant[i])
            error = found = np.nan
            if np.isfinite(p_cross):
                near = np.array([nearest_sign_change(p_eval, w[i], p_cross) for w in whole])
                near = near[np.isfinite(near)]
                found = near.size / n_bootstrap
                error = near.std(ddof=1) if near.size > 1 else np.nan
            crossing_rows.append(
                (width, depth, fraction, p, bool(np.isfinite(p_cross)), p_cross, error, found)
            )
    alpha_table = pd.concat(alpha_frames, ignore_index=True)[ALPHA_COLUMNS]
    return alpha_table, pd.DataFrame(crossing_rows, columns=CROSSING_COLUMNS)


def _cubes(group: pd.DataFrame, width: int, depth: int):
    """``cross_entropy`` and ``accuracy`` as arrays [p_train, p_eval, N, run], and the grids."""
    indexed = group.set_index(["p_train", "p_eval", "N", "run"])
    p_train, p_eval, sizes = (
        indexed.index.get_level_values(k).unique().sort_values().to_numpy()
        for k in ("p_train", "p_eval", "N")
    )
    full = pd.MultiIndex.from_product([p_train, p_eval, sizes])
    cubes = []
    for column in ("cross_entropy", "accuracy"):
        table = indexed[column].unstack("run").reindex(full)
        cube = table.to_numpy().reshape(len(p_train), len(p_eval), len(sizes), -1)
        if np.isnan(cube).any():
            raise ValueError(
                f"width={width} depth={depth}: the per-run table is incomplete "
                "(a run, size or dropout rate is missing somewhere in the grid)"
            )
        cubes.append(cube)
    return cubes[0], cubes[1], (p_train, p_eval, sizes.astype(float))
