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
        ``agree`` (|diff| <= n_se * diff_se, or diff == 0 exactly), ``instances``.
    """
    values = frame[list(by)].assign(diff=frame[a] - frame[b])
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


def phase_region(ordered_fraction: pd.Series) -> pd.Series:
    """'ordered' (every instance ordered), 'paramagnetic' (none) or 'transition' (some)."""
    region = np.where(ordered_fraction >= 1.0, "ordered", "transition")
    return pd.Series(
        np.where(ordered_fraction <= 0.0, "paramagnetic", region), ordered_fraction.index
    )


def critical_summary(critical: pd.DataFrame) -> pd.DataFrame:
    """Disorder average of q_c, the spinodal and the jumps, per (p2, beta).

    Returns
    -------
    DataFrame
        Columns ``p2``, ``beta``, then mean and ``_se`` (standard error over instances) of
        ``q_c``, ``q_spinodal``, ``s_jump``, ``e_jump``, ``alpha_c``; ``all_ordered_at_q_min``
        (every instance ordered at the lower end of the bracket) and ``not_converged`` (sum).
    """
    cols = ["q_c", "q_spinodal", "s_jump", "e_jump", "alpha_c"]
    grouped = critical.groupby(["p2", "beta"], sort=True)
    out = grouped[cols].mean()
    out = out.join(grouped[cols].sem().add_suffix("_se"))
    out["all_ordered_at_q_min"] = grouped["ordered_at_q_min"].all()
    out["not_converged"] = grouped["not_converged"].sum()
    return out.reset_index()


def monotone_fraction(summary: pd.DataFrame, value: str, along: str, within: str) -> float:
    """Fraction of consecutive steps along ``along`` (fixed ``within``) where ``value`` rises."""
    ups = []
    for _, group in summary.sort_values(along).groupby(within):
        steps = np.diff(group[value].to_numpy())
        ups.extend(steps > 0)
    return float(np.mean(ups)) if ups else float("nan")
