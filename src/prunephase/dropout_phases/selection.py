"""What the notebooks of paper A take from the tables: one architecture, one snapshot, one cut.

Values of the grid are picked exactly (to float rounding); a value that is not on the grid is an
error, never replaced by the nearest one.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from prunephase.core.io import read_parquet
from prunephase.dropout_phases.criticality import BINDER_COLUMNS, COLLAPSE_COLUMNS, collapse_data
from prunephase.dropout_phases.phases import ALPHA_COLUMNS
from prunephase.dropout_phases.tables import SUMMARY_COLUMNS
from prunephase.scaling import make_ansatz, scaled_points

#: the columns each table of the study must have (read_parquet checks them)
TABLE_COLUMNS = {
    "summary": SUMMARY_COLUMNS,
    "alpha_ce": ALPHA_COLUMNS,
    "collapse": COLLAPSE_COLUMNS,
    "binder": BINDER_COLUMNS,
    "per_run": ["width", "depth", "N", "train_fraction", "p_train", "p_eval", "run",
                "cross_entropy"],
    "chi2_map": ["width", "depth", "p_train", "sigma", "p_c", "chi2_nu"],
}  # fmt: skip


def read_table(kind: str, path: str) -> pd.DataFrame:
    """A table of the study (a key of :data:`TABLE_COLUMNS`), its columns checked."""
    return read_parquet(path, TABLE_COLUMNS[kind])


def at(table: pd.DataFrame, **values: float) -> pd.DataFrame:
    """The rows whose columns equal ``values`` (floats to rounding).

    Raises
    ------
    ValueError
        If a value is not one of the column's values, naming the column and its values.
    """
    selected = np.ones(len(table), dtype=bool)
    for column, value in values.items():
        match = np.isclose(table[column].to_numpy(dtype=float), value, rtol=0, atol=1e-9)
        if not match.any():
            grid = sorted(table[column].unique())
            raise ValueError(f"{column} = {value} is not on the grid of this table: {grid}")
        selected &= match
    return table[selected]


def of_architecture(
    table: pd.DataFrame, width: int, depth: int, final: bool = True
) -> pd.DataFrame:
    """The rows of one architecture; with ``final``, of the full training length only (tables
    without snapshots are returned whole)."""
    rows = at(table, width=width, depth=depth)
    if final and "train_fraction" in rows:
        rows = at(rows, train_fraction=1.0)
    return rows


def sizes(table: pd.DataFrame) -> list[int]:
    """The training-set sizes N of a table, ascending, as plain integers."""
    return sorted(int(n) for n in table["N"].unique())


def describe_run(summary: pd.DataFrame, width: int, depth: int) -> str:
    """One line on what a summary table of one architecture holds: N grid, runs and masks."""
    return (
        f"architecture: width n_h = {width}, depth L = {depth}; N = {sizes(summary)}; "
        f"{summary['n_runs'].min()} runs per point, {summary['n_masks'].min()} masks per run"
    )


def fit_at(fits: pd.DataFrame, ansatz: str, p_train: float) -> pd.Series:
    """The collapse fit of one ansatz at one p_train (of a table of one architecture)."""
    rows = at(fits[fits["ansatz"] == ansatz], p_train=p_train)
    if len(rows) != 1:
        raise ValueError(f"{len(rows)} {ansatz} fits at p_train = {p_train}; expected one")
    return rows.iloc[0]


def bkt_parameters(fit: pd.Series) -> dict[str, float]:
    """The parameters of a BKT fit row, as :func:`prunephase.scaling.scaled_points` takes them."""
    return {"p_c": fit["p_c"], "sigma": fit["sigma_or_nu"], "N_0": fit["N_0"],
            "Delta": fit["Delta"]}  # fmt: skip


def bkt_collapse(
    runs: pd.DataFrame, fit: pd.Series, collapse_settings: Mapping[str, Any]
) -> pd.DataFrame:
    """The per-run losses of one (architecture, p_train) in the variables of a BKT fit."""
    ansatz = make_ansatz("bkt", **collapse_settings["bkt"])
    return scaled_points(collapse_data(runs), ansatz, bkt_parameters(fit))
