"""The loss-vs-N exponent alpha_CE and the phases it defines (paper A, Eq. CE).

<L_CE>(N) ~ N^(-alpha_CE): eumentia (alpha_CE > 0, the network learns), dementia (alpha_CE < 0, it
has forgotten), amentia (alpha_CE ~ 0, it cannot learn).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from prunephase.core.seeds import generator

PHASES = ("eumentia", "dementia", "amentia")

#: columns of :func:`alpha_ce_table`
ALPHA_COLUMNS = [
    "width", "depth", "train_fraction", "p_train", "p_eval", "alpha_ce", "alpha_ce_se",
    "alpha_ce_err", "log_prefactor", "n_sizes", "n_runs", "phase",
]  # fmt: skip


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


def classify(alpha: np.ndarray, err: np.ndarray, n_se: float, min_alpha: float) -> np.ndarray:
    """Phase of each point: the sign of alpha_CE where it is significant, else amentia.

    alpha is significant when ``|alpha| > n_se * err`` and ``|alpha| > min_alpha``.
    """
    alpha = np.asarray(alpha, dtype=float)
    significant = (np.abs(alpha) > n_se * np.asarray(err)) & (np.abs(alpha) > min_alpha)
    return np.where(significant, np.where(alpha > 0, "eumentia", "dementia"), "amentia")


def alpha_ce_table(
    runs: pd.DataFrame, *, n_bootstrap: int, n_se: float, min_alpha: float, seed: int
) -> pd.DataFrame:
    """alpha_CE with errors and the phase at every (architecture, snapshot, p_train, p_eval).

    Parameters
    ----------
    runs
        The per-run table (:func:`prunephase.dropout_phases.tables.per_run`): ``cross_entropy``
        per run.
    n_bootstrap
        Resamples for the error: runs are drawn with replacement, independently for every
        (N, p_train) (each a different set of trained networks) and shared across p_eval (the same
        networks); alpha is refitted to the resampled means. 0 uses the OLS error instead.
    n_se, min_alpha
        Thresholds of :func:`classify`.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`ALPHA_COLUMNS`; ``alpha_ce_err`` is the bootstrap standard deviation (or the
        OLS error), and it decides the phase.
    """
    rng = generator(seed)
    frames = []
    for (width, depth, fraction), group in runs.groupby(["width", "depth", "train_fraction"]):
        # cube[p_train, p_eval, N, run]
        cube = group.set_index(["p_train", "p_eval", "N", "run"])["cross_entropy"].unstack("run")
        p_train = cube.index.get_level_values("p_train").unique().sort_values()
        p_eval = cube.index.get_level_values("p_eval").unique().sort_values()
        sizes = cube.index.get_level_values("N").unique().sort_values()
        full = pd.MultiIndex.from_product([p_train, p_eval, sizes])
        values = cube.reindex(full).to_numpy().reshape(len(p_train), len(p_eval), len(sizes), -1)
        if np.isnan(values).any():
            raise ValueError(
                f"width={width} depth={depth}: the per-run table is incomplete "
                "(a run, size or dropout rate is missing somewhere in the grid)"
            )
        alpha, intercept, se = fit_power_law(sizes.to_numpy(), values.mean(axis=-1))
        n_runs = values.shape[-1]
        err = se
        if n_bootstrap > 0 and n_runs > 1:
            draws = np.empty((n_bootstrap, *alpha.shape))
            for b in range(n_bootstrap):
                pick = rng.integers(0, n_runs, size=(len(p_train), 1, len(sizes), n_runs))
                means = np.take_along_axis(values, pick, axis=-1).mean(axis=-1)
                draws[b] = fit_power_law(sizes.to_numpy(), means)[0]
            err = draws.std(axis=0, ddof=1)
        pt, pe = np.meshgrid(p_train, p_eval, indexing="ij")
        frames.append(
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
                    "n_sizes": len(sizes),
                    "n_runs": n_runs,
                    "phase": classify(alpha, err, n_se, min_alpha).ravel(),
                }
            )
        )
    return pd.concat(frames, ignore_index=True)[ALPHA_COLUMNS]
