"""Aggregation of per-mask evaluations into per-run and summary tables.

<.> is the mean over runs and masks. Masks of one run share the run's network, so they are not
independent of it: the standard error is taken over the run means.
"""

from __future__ import annotations

import pandas as pd

#: a point of the sweep
POINT = ["width", "depth", "N", "train_fraction", "p_train", "p_eval"]

#: columns of :func:`summarise`
SUMMARY_COLUMNS = [
    *POINT, "acc_mean", "acc_sem", "ce_mean", "ce_sem", "n_runs", "n_masks",
]  # fmt: skip


def per_run(per_mask: pd.DataFrame) -> pd.DataFrame:
    """Mean accuracy and cross-entropy of each run (trained network) over its masks.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`POINT` + ``run``, ``accuracy``, ``cross_entropy``, ``n_masks``.
    """
    return (
        per_mask.groupby([*POINT, "run"], sort=True)
        .agg(
            accuracy=("accuracy", "mean"),
            cross_entropy=("cross_entropy", "mean"),
            n_masks=("mask", "nunique"),
        )
        .reset_index()
    )


def summarise(runs: pd.DataFrame) -> pd.DataFrame:
    """Mean and standard error over runs of each sweep point.

    Parameters
    ----------
    runs
        The table of :func:`per_run`.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`SUMMARY_COLUMNS`: ``acc_mean`` (fraction correct), ``ce_mean`` (nats), their
        standard errors over runs (``std(ddof=1) / sqrt(n_runs)``, NaN for one run), the number of
        runs and of masks per run.
    """
    grouped = runs.groupby(POINT, sort=True)
    summary = grouped.agg(
        acc_mean=("accuracy", "mean"),
        acc_sem=("accuracy", "sem"),
        ce_mean=("cross_entropy", "mean"),
        ce_sem=("cross_entropy", "sem"),
        n_runs=("run", "nunique"),
        n_masks=("n_masks", "min"),
    ).reset_index()
    return summary[SUMMARY_COLUMNS]
