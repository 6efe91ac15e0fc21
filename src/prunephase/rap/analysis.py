"""Summaries of the RAP tables that the notebooks state as numbers."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd


def paired_difference(
    frame: pd.DataFrame,
    a: str,
    b: str,
    by: Sequence[str] = ("q",),
    se: str | None = None,
    n_se: float = 3.0,
) -> pd.DataFrame:
    """Disorder average of the per-instance difference ``a - b`` (e.g. MC minus BP energy).

    Both quantities are measured on the same instances, so the difference is free of the
    instance-to-instance spread of each. If ``se`` names a column with the statistical error of
    ``a`` on each instance (the Monte Carlo error; ``b`` is deterministic), the error of the mean
    difference is that error propagated, sqrt(sum se_k^2) / K: "agreement within the Monte Carlo
    error". Otherwise it is the standard error of the differences over instances.

    Returns
    -------
    DataFrame
        Columns ``by``, ``diff`` (mean of a - b), ``diff_se`` (its error as above),
        ``spread_se`` (standard error of the differences over instances), ``z`` (diff / diff_se),
        ``agree`` (|diff| <= n_se * diff_se, or diff == 0 exactly), ``instances`` (those with
        both values; a group with none is left out).
    """
    values = frame[list(by)].assign(diff=frame[a] - frame[b])
    values = values[values["diff"].notna()]  # an instance without b (no exact solution) drops out
    values["var"] = frame[se] ** 2 if se is not None else np.nan
    grouped = values.groupby(list(by), sort=True)
    out = pd.DataFrame({"diff": grouped["diff"].mean(), "instances": grouped.size()})
    out["spread_se"] = grouped["diff"].sem()
    if se is not None:
        out["diff_se"] = np.sqrt(grouped["var"].sum()) / out["instances"]
    else:
        out["diff_se"] = out["spread_se"]
    with np.errstate(divide="ignore", invalid="ignore"):
        out["z"] = out["diff"] / out["diff_se"]
    out["agree"] = (out["diff"].abs() <= n_se * out["diff_se"]) | (out["diff"] == 0)
    return out.reset_index()[[*by, "diff", "diff_se", "spread_se", "z", "agree", "instances"]]


def complete_mean(grouped):
    """The mean of each group of a pandas groupby (Series or DataFrame), NaN for a column in a
    group where some row (instance) lacks the value, so that a curve never averages different
    subsets of instances at different points (the exact solution is missing where a component is
    too large to sum, :mod:`prunephase.rap.exact`)."""
    return grouped.mean().where(grouped.count().eq(grouped.size(), axis=0))


def instance_mean(frame: pd.DataFrame, by: Sequence[str]) -> pd.DataFrame:
    """Mean over the rows (instances) of every numeric column, grouped by ``by``
    (:func:`complete_mean`: NaN where some instance lacks the value).

    Returns
    -------
    DataFrame
        Columns ``by``, then the numeric columns of ``frame`` other than ``by``, one row per group.
    """
    numeric = [c for c in frame.select_dtypes(["number", "bool"]).columns if c not in by]
    return complete_mean(frame.groupby(list(by), sort=True)[numeric]).reset_index()


def phase_region(ordered_fraction: pd.Series) -> pd.Series:
    """'ordered' (every instance ordered), 'paramagnetic' (none) or 'transition' (some)."""
    region = np.where(ordered_fraction >= 1.0, "ordered", "transition")
    return pd.Series(
        np.where(ordered_fraction <= 0.0, "paramagnetic", region), ordered_fraction.index
    )


def critical_summary(critical: pd.DataFrame, by: Sequence[str] = ("p2", "beta")) -> pd.DataFrame:
    """Disorder average of the transition columns, per group ``by``.

    Returns
    -------
    DataFrame
        Columns ``by``, then mean and ``_se`` (standard error over instances) of ``q_c``,
        ``q_c_gauge``, ``q_spinodal``, ``s_jump``, ``s_jump_gauge``, ``e_jump``, ``alpha_c``;
        ``all_ordered_at_q_min`` (every instance ordered at the lower end of the bracket),
        ``not_converged`` (sum) and ``instances``.
    """
    cols = ["q_c", "q_c_gauge", "q_spinodal", "s_jump", "s_jump_gauge", "e_jump", "alpha_c"]
    grouped = critical.groupby(list(by), sort=True)
    out = grouped[cols].mean()
    out = out.join(grouped[cols].sem().add_suffix("_se"))
    out["all_ordered_at_q_min"] = grouped["ordered_at_q_min"].all()
    out["not_converged"] = grouped["not_converged"].sum()
    out["instances"] = grouped.size()
    return out.reset_index()


def power_law(n: np.ndarray, y: np.ndarray, y_se: np.ndarray) -> dict[str, float]:
    """Weighted least-squares fit of ln y = ln A - nu ln n (y > 0, errors y_se on y).

    Returns
    -------
    dict
        ``nu`` and ``nu_se``, ``amplitude`` (A), ``chi2_nu`` (chi^2 per degree of freedom; NaN
        with two points), ``points``.
    """
    n, y, y_se = (np.asarray(v, dtype=float) for v in (n, y, y_se))
    keep = (y > 0) & np.isfinite(y) & (y_se > 0)
    n, y, y_se = n[keep], y[keep], y_se[keep]
    if n.size < 2:
        raise ValueError("a power law needs at least two widths with a positive value")
    ln_y, w = np.log(y), (y / y_se) ** 2  # the error of ln y is y_se / y
    design = np.stack([np.ones_like(n), -np.log(n)], axis=1)
    cov = np.linalg.inv(design.T @ (design * w[:, None]))
    coef = cov @ design.T @ (w * ln_y)
    residual = ln_y - design @ coef
    dof = n.size - 2
    return {
        "nu": float(coef[1]),
        "nu_se": float(np.sqrt(cov[1, 1])),
        "amplitude": float(np.exp(coef[0])),
        "chi2_nu": float(np.sum(w * residual**2) / dof) if dof else float("nan"),
        "points": int(n.size),
    }


def gap_statistics(table: pd.DataFrame, value: str = "q_c", exponent: float = 0.0) -> pd.DataFrame:
    """Mean and error of x = N^a (1 - q) per width N, for a q found by bisection.

    The error combines the standard error over instances with the resolution of the bisection:
    each q lies somewhere in its final bracket [``{value}_lo``, ``{value}_hi``] (a uniform
    error, variance width^2 / 12), so a width whose instances all end in the same bracket still
    has an error. Without the bracket columns only the spread over instances counts.

    Returns
    -------
    DataFrame
        Indexed by ``n``: ``mean``, ``se``, ``instances``.
    """
    scale = table["n"] ** exponent
    x = scale * (1.0 - table[value])
    lo, hi = f"{value}_lo", f"{value}_hi"
    width = scale * (table[hi] - table[lo]) if {lo, hi} <= set(table.columns) else 0.0 * x
    stats = x.groupby(table["n"]).agg(["mean", "sem", "count"])
    resolution = width.groupby(table["n"]).mean() / np.sqrt(12.0)
    se = np.sqrt(stats["sem"].fillna(0.0) ** 2 + resolution**2)
    return pd.DataFrame({"mean": stats["mean"], "se": se, "instances": stats["count"]})


def scaling_variable_drift(
    table: pd.DataFrame, exponents: Sequence[float], value: str = "q_c"
) -> pd.DataFrame:
    """How well x = N^a (1 - q_c) stays put across widths, for each candidate exponent a.

    Returns
    -------
    DataFrame
        One row per exponent: ``exponent``, ``slope`` and ``slope_se`` (of ln mean x against
        ln N: zero when x is the scaling variable), ``x_min``, ``x_max`` (the extreme means over
        widths).
    """
    rows = []
    for a in exponents:
        stats = gap_statistics(table, value, a)
        fit = power_law(stats.index.to_numpy(), stats["mean"], stats["se"])
        rows.append(
            {
                "exponent": a,
                "slope": -fit["nu"],
                "slope_se": fit["nu_se"],
                "x_min": stats["mean"].min(),
                "x_max": stats["mean"].max(),
            }
        )
    return pd.DataFrame(rows)


def monotone_fraction(summary: pd.DataFrame, value: str, along: str, within: str) -> float:
    """Fraction of consecutive steps along ``along`` (fixed ``within``) where ``value`` rises."""
    ups = []
    for _, group in summary.sort_values(along).groupby(within):
        steps = np.diff(group[value].to_numpy())
        ups.extend(steps > 0)
    return float(np.mean(ups)) if ups else float("nan")
