"""What the notebooks of paper A take from the tables: one architecture, one snapshot, one cut.

Values of the grid are picked exactly (to float rounding); a value that is not on the grid is an
error, never replaced by the nearest one.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from prunephase.core.io import read_parquet
from prunephase.dropout_phases.criticality import (
    BINDER_COLUMNS,
    COLLAPSE_COLUMNS,
    MAP_COLUMNS,
    SENSITIVITY_COLUMNS,
    collapse_data,
)
from prunephase.dropout_phases.phases import ALPHA_COLUMNS, CROSSING_COLUMNS
from prunephase.dropout_phases.tables import SUMMARY_COLUMNS
from prunephase.scaling import make_ansatz, scaled_points

#: the columns each table of the study must have (read_parquet checks them)
TABLE_COLUMNS = {
    "summary": SUMMARY_COLUMNS,
    "alpha_ce": ALPHA_COLUMNS,
    "crossings": CROSSING_COLUMNS,
    "collapse": COLLAPSE_COLUMNS,
    "sensitivity": SENSITIVITY_COLUMNS,
    "binder": BINDER_COLUMNS,
    "per_run": ["width", "depth", "N", "train_fraction", "p_train", "p_eval", "run",
                "cross_entropy"],
    "chi2_map": MAP_COLUMNS,
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
    table: pd.DataFrame, width: int, depth: int, final: bool = True, required: bool = True
) -> pd.DataFrame:
    """The rows of one architecture; with ``final``, of the full training length only (tables
    without snapshots are returned whole). With ``required=False`` an architecture without rows
    gives an empty table (the collapses exist only where there is a crossing)."""
    if not required:
        return table[(table["width"] == width) & (table["depth"] == depth)]
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


def crossing_at(crossings: pd.DataFrame, p_train: float) -> pd.Series:
    """The crossing row of one p_train (of a crossing table of one architecture and snapshot)."""
    rows = at(crossings, p_train=p_train)
    if len(rows) != 1:
        raise ValueError(f"{len(rows)} crossing rows at p_train = {p_train}; expected one")
    return rows.iloc[0]


def fit_at(fits: pd.DataFrame, ansatz: str, p_train: float) -> pd.Series | None:
    """The collapse fit of one ansatz at one p_train (of a table of one architecture); None where
    there is none (no crossing at that p_train)."""
    same_p = np.isclose(fits["p_train"].to_numpy(float), p_train, rtol=0, atol=1e-9)
    rows = fits[(fits["ansatz"] == ansatz).to_numpy() & same_p]
    if len(rows) > 1:
        raise ValueError(f"{len(rows)} {ansatz} fits at p_train = {p_train}; expected one")
    return rows.iloc[0] if len(rows) else None


def fit_parameters(fit: pd.Series) -> dict[str, float]:
    """The parameters of a fit row, as :func:`prunephase.scaling.scaled_points` takes them."""
    exponent = fit["exponent_name"]
    params = {"p_c": fit["p_c"], exponent: fit["sigma_or_nu"], "Delta": fit["Delta"]}
    return params | ({"N_0": fit["N_0"]} if fit["ansatz"] == "bkt" else {})


def collapsed(runs: pd.DataFrame, fit: pd.Series) -> pd.DataFrame:
    """The per-run losses of one (architecture, p_train) in the variables of a fit, for the
    p_eval window that entered it."""
    # every parameter fixed at its fitted value: the ansatz of the figure fits nothing
    ansatz = make_ansatz(fit["ansatz"], **fit_parameters(fit))
    data = collapse_data(runs).within(fit["window_low"], fit["window_high"])
    return scaled_points(data, ansatz, {})
