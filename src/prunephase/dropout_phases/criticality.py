"""The eumentia-dementia transition of paper A: data collapses, chi2 maps, Binder cumulants.

Applies :mod:`prunephase.scaling` to the tables of the dropout-phase sweep. At every architecture
and p_train where alpha_CE changes sign (the crossing of :mod:`prunephase.dropout_phases.phases`),
<L_CE>(p_eval, N) is collapsed with the BKT-like and the power-law ansatz in a window of p_eval
around the crossing; nowhere else, since without a crossing there is no transition to collapse.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from prunephase.core.seeds import generator, seed_sequence
from prunephase.dropout_phases.settings import Collapse
from prunephase.scaling import (
    CollapseData,
    CollapseFit,
    binder_over_runs,
    fit_in_window,
    make_ansatz,
)

#: the exponent each ansatz fits
EXPONENTS = {"bkt": "sigma", "power_law": "nu"}

#: columns of the collapse table
COLLAPSE_COLUMNS = [
    "width", "depth", "p_train", "ansatz", "p_cross", "window_low", "window_high", "p_c",
    "p_c_err", "p_c_boot_err", "p_c_at_bound", "exponent_name", "sigma_or_nu", "err", "boot_err",
    "exponent_at_bound", "chi2_nu", "n_points", "N_0", "N_0_err", "N_0_at_bound", "Delta",
    "Delta_err",
]  # fmt: skip

#: columns of the chi2 map table
MAP_COLUMNS = ["width", "depth", "p_train", "sigma", "p_c", "chi2_nu", "inside"]

#: columns of the sensitivity table
SENSITIVITY_COLUMNS = [
    "width", "depth", "p_train", "ansatz", "half_width", "N_0_setting", "p_c", "p_c_err",
    "p_c_at_bound", "exponent_name", "sigma_or_nu", "err", "exponent_at_bound", "chi2_nu",
    "n_points", "N_0",
]  # fmt: skip

#: columns of the Binder table
BINDER_COLUMNS = [
    "width", "depth", "N", "train_fraction", "p_train", "p_eval", "binder", "binder_err",
    "n_runs", "n_masks", "acc_mean",
]  # fmt: skip


def collapse_data(runs: pd.DataFrame) -> CollapseData:
    """Per-run <L_CE> of one (architecture, p_train) as collapse input (runs kept for the
    bootstrap)."""
    return CollapseData.from_frame(runs, p="p_eval", size="N", value="cross_entropy", run="run")


def _fit_record(fit: CollapseFit, name: str) -> dict[str, Any]:
    """The columns of a fit shared by the collapse and the sensitivity tables."""
    r = fit.to_record()
    exponent = EXPONENTS[name]
    return {
        "p_c": r["p_c"], "p_c_err": r["p_c_err"], "p_c_boot_err": r["p_c_boot_err"],
        "p_c_at_bound": r["p_c_at_bound"], "exponent_name": exponent,
        "sigma_or_nu": r[exponent], "err": r[f"{exponent}_err"],
        "boot_err": r[f"{exponent}_boot_err"], "exponent_at_bound": r[f"{exponent}_at_bound"],
        "chi2_nu": r["chi2_nu"], "n_points": r["n_points"], "N_0": r.get("N_0", np.nan),
        "N_0_err": r.get("N_0_err", np.nan), "N_0_at_bound": r.get("N_0_at_bound", False),
        "Delta": r["Delta"], "Delta_err": r.get("Delta_err", np.nan),
    }  # fmt: skip


def _final(runs: pd.DataFrame, crossings: pd.DataFrame) -> pd.DataFrame:
    """The crossings of the full training that show a transition."""
    rows = crossings[(crossings["train_fraction"] == 1.0) & crossings["transition"]]
    return rows[["width", "depth", "p_train", "p_cross"]]


def collapse_fits(
    runs: pd.DataFrame, crossings: pd.DataFrame, collapse: Collapse, seed: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Both collapses at every (architecture, p_train) with a crossing, and the BKT chi2 map.

    Parameters
    ----------
    runs
        The per-run table (:func:`prunephase.dropout_phases.tables.per_run`); only the final
        snapshot (``train_fraction == 1``) enters.
    crossings
        The crossing table (:func:`prunephase.dropout_phases.phases.alpha_ce_tables`).
    collapse
        The settings: ``bkt`` and ``power_law`` (parameter specs of
        :func:`prunephase.scaling.make_ansatz`), ``half_width`` of the p_eval window around the
        crossing, ``bootstrap``, ``contour_factor``, ``p_c_step``.
    seed
        Root seed of the global searches and bootstrap resamples.

    Returns
    -------
    fits : pandas.DataFrame
        One row per (width, depth, p_train with a crossing, ansatz), columns
        :data:`COLLAPSE_COLUMNS`: the window ``[window_low, window_high]`` around ``p_cross``;
        each fitted parameter with ``*_err`` the half-width of the connected
        ``contour_factor x min chi2_nu`` region on the fixed grid (``*_at_bound`` when it reaches
        a bound, so that the error is a lower limit; the window bounds p_c) and ``*boot_err`` the
        bootstrap standard deviation over runs. Fixed parameters have no errors (NaN).
    maps : pandas.DataFrame
        The BKT fit's grid over (sigma, p_c), chi2_nu minimised over its other fitted parameters
        and ``inside`` the error region: columns :data:`MAP_COLUMNS`.
    """
    final = runs[runs["train_fraction"] == 1.0]
    records, maps = [], []
    for width, depth, p_train, p_cross in _final(runs, crossings).itertuples(index=False):
        group = final[(final["width"] == width) & (final["depth"] == depth)
                      & np.isclose(final["p_train"], p_train, rtol=0, atol=1e-9)]  # fmt: skip
        data = collapse_data(group)
        for index, name in enumerate(EXPONENTS):
            fit = fit_in_window(
                data,
                make_ansatz(name, **getattr(collapse, name)),
                p_cross,
                collapse.half_width,
                # every key element as a rate (the stream these fits have always drawn from)
                seed=seed_sequence(seed, *(float(k) for k in (width, depth, p_train, index))),
                n_bootstrap=collapse.bootstrap,
                contour_factor=collapse.contour_factor,
                p_c_step=collapse.p_c_step,
            )
            used = data.within(p_cross - collapse.half_width, p_cross + collapse.half_width).p
            records.append(
                {"width": width, "depth": depth, "p_train": p_train, "ansatz": name,
                 "p_cross": p_cross, "window_low": used.min(), "window_high": used.max()}
                | _fit_record(fit, name)
            )  # fmt: skip
            if name == "bkt":
                table = fit.profile("sigma", "p_c")
                maps.append(table.assign(width=width, depth=depth, p_train=p_train))
    fits = pd.DataFrame(records, columns=COLLAPSE_COLUMNS)
    map_table = pd.concat(maps, ignore_index=True) if maps else pd.DataFrame(columns=MAP_COLUMNS)
    return fits, map_table[MAP_COLUMNS]


def sensitivity_table(
    runs: pd.DataFrame,
    crossings: pd.DataFrame,
    collapse: Collapse,
    *,
    width: int,
    depth: int,
    p_train: float,
    half_widths: Sequence[float],
    n_0: Sequence[float | Sequence[float]],
    seed: int,
) -> pd.DataFrame:
    """How the collapse at one (architecture, p_train) depends on the window and on N_0.

    Both ansatzes at every half-width of ``half_widths``; the BKT ansatz once per ``n_0`` entry
    (a number fixes N_0, a pair fits it within bounds), its other parameters as in ``collapse``.
    No bootstrap. Empty where that p_train has no crossing.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`SENSITIVITY_COLUMNS`; ``N_0_setting`` says how N_0 entered ("fitted in
        [a, b]", "fixed at c", or "-" for the power law).
    """
    rows = _final(runs, crossings)
    rows = rows[(rows["width"] == width) & (rows["depth"] == depth)
                & np.isclose(rows["p_train"], p_train, rtol=0, atol=1e-9)]  # fmt: skip
    if rows.empty:
        return pd.DataFrame(columns=SENSITIVITY_COLUMNS)
    p_cross = float(rows["p_cross"].iloc[0])
    final = runs[(runs["train_fraction"] == 1.0) & (runs["width"] == width)
                 & (runs["depth"] == depth)
                 & np.isclose(runs["p_train"], p_train, rtol=0, atol=1e-9)]  # fmt: skip
    data = collapse_data(final)
    settings: list[tuple[str, dict[str, Any], str]] = [("power_law", dict(collapse.power_law), "-")]
    for spec in n_0:
        label = (f"fitted in [{spec[0]:g}, {spec[1]:g}]" if isinstance(spec, Sequence)
                 else f"fixed at {spec:g}")  # fmt: skip
        settings.append(("bkt", dict(collapse.bkt) | {"N_0": spec}, label))
    records = []
    for j, half_width in enumerate(half_widths):
        for k, (name, spec, label) in enumerate(settings):
            fit = fit_in_window(
                data, make_ansatz(name, **spec), p_cross, half_width,
                seed=seed_sequence(seed, float(width), float(depth), p_train, 10 + j, k),
                contour_factor=collapse.contour_factor, p_c_step=collapse.p_c_step,
            )  # fmt: skip
            record = _fit_record(fit, name)
            records.append(
                {"width": width, "depth": depth, "p_train": p_train, "ansatz": name,
                 "half_width": half_width, "N_0_setting": label}
                | {c: record[c] for c in SENSITIVITY_COLUMNS if c in record}
            )  # fmt: skip
    return pd.DataFrame(records, columns=SENSITIVITY_COLUMNS)


def binder_table(per_mask: pd.DataFrame, n_bootstrap: int, seed: int) -> pd.DataFrame:
    """Binder cumulant of the test accuracy over the masks of each network, averaged over runs.

    Parameters
    ----------
    per_mask
        A per-mask table (one shard or more).
    n_bootstrap
        Resamples of the runs for the error (:func:`prunephase.scaling.binder_over_runs`).
    seed
        Root seed; every sweep point draws from its own stream.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`BINDER_COLUMNS`: ``binder`` is the mean over runs of U = 1 - <dA^4> /
        (3 <dA^2>^2) of one network's per-mask accuracies (0 for a Gaussian spread, 2/3 for two
        equally likely values), ``binder_err`` its bootstrap error over runs, ``n_runs`` the runs
        whose masks gave different accuracies (at p_eval = 0 every mask is the unpruned network,
        so there is no U: NaN), ``n_masks`` masks per run.
    """
    rows = []
    keys = ["width", "depth", "N", "train_fraction", "p_train", "p_eval"]
    for key, group in per_mask.groupby(keys):
        width, depth, n, fraction, p_train, p_eval = key
        samples = group.pivot(index="run", columns="mask", values="accuracy").to_numpy()
        rng = generator(seed, int(width), int(depth), int(n), p_train, p_eval, fraction)
        binder, err, n_runs = binder_over_runs(samples, n_bootstrap, rng)
        rows.append((*key, binder, err, n_runs, samples.shape[1], samples.mean()))
    return pd.DataFrame(rows, columns=BINDER_COLUMNS)
