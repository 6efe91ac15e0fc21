"""The eumentia-dementia transition of paper A: data collapses, chi2 maps, Binder cumulants.

Applies :mod:`prunephase.scaling` to the tables of the dropout-phase sweep: at every architecture
and p_train, <L_CE>(p_eval, N) is collapsed with the BKT-like and the power-law ansatz.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from prunephase.core.seeds import seed_sequence
from prunephase.dropout_phases.settings import Collapse
from prunephase.scaling import (
    CollapseData,
    binder_cumulant,
    chi2_map,
    fit_collapse,
    make_ansatz,
)

#: the exponent each ansatz fits
EXPONENTS = {"bkt": "sigma", "power_law": "nu"}

#: columns of :func:`collapse_fits`
COLLAPSE_COLUMNS = [
    "width", "depth", "p_train", "ansatz", "p_c", "p_c_err", "p_c_boot_err", "p_c_at_bound",
    "exponent_name", "sigma_or_nu", "err", "boot_err", "exponent_at_bound", "chi2_nu",
    "n_points", "N_0", "Delta",
]  # fmt: skip

#: columns of :func:`binder_table`
BINDER_COLUMNS = [
    "width", "depth", "N", "train_fraction", "p_train", "p_eval", "binder", "acc_mean", "n_samples",
]  # fmt: skip


def collapse_data(runs: pd.DataFrame) -> CollapseData:
    """Per-run <L_CE> of one (architecture, p_train) at the final snapshot, as collapse input."""
    return CollapseData.from_frame(runs, p="p_eval", size="N", value="cross_entropy", run="run")


def collapse_fits(
    runs: pd.DataFrame, collapse: Collapse, seed: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Fit both ansatzes at every (architecture, p_train) and map chi2_nu of the BKT ansatz.

    Parameters
    ----------
    runs
        The per-run table (:func:`prunephase.dropout_phases.tables.per_run`); only the final
        snapshot (``train_fraction == 1``) enters.
    collapse
        The settings: ``bkt`` and ``power_law`` (parameter specs of
        :func:`prunephase.scaling.make_ansatz`), ``bootstrap``, ``contour_factor``, ``map_points``.
    seed
        Root seed of the global searches and bootstrap resamples.

    Returns
    -------
    fits : pandas.DataFrame
        One row per (width, depth, p_train, ansatz), columns :data:`COLLAPSE_COLUMNS`:
        ``p_c`` and ``sigma_or_nu`` with ``*_err`` the half-width of the
        ``contour_factor x min chi2_nu`` region (``*_at_bound`` when it reaches a bound, so the
        error is a lower limit) and ``*boot_err`` the bootstrap standard deviation over runs.
    maps : pandas.DataFrame
        chi2_nu of the BKT ansatz on a ``map_points`` x ``map_points`` grid over the bounds of
        (sigma, p_c): columns width, depth, p_train, sigma, p_c, chi2_nu.
    """
    final = runs[runs["train_fraction"] == 1.0]
    records, maps = [], []
    for (width, depth, p_train), group in final.groupby(["width", "depth", "p_train"]):
        data = collapse_data(group)
        for index, (name, exponent) in enumerate(EXPONENTS.items()):
            ansatz = make_ansatz(name, **getattr(collapse, name))
            settings = dict(
                # every key element as a rate (the stream these fits have always drawn from)
                seed=seed_sequence(seed, *(float(k) for k in (width, depth, p_train, index))),
                n_bootstrap=collapse.bootstrap,
                contour_factor=collapse.contour_factor,
            )
            starts = []
            if name == "bkt":
                # the map over the whole (sigma, p_c) range, its other parameters from a quick fit;
                # chi2_nu jumps where points swap order in x, so the final fit also starts from
                # the map's lowest point
                quick = fit_collapse(data, ansatz, **(settings | {"n_bootstrap": 0}))
                axes = {
                    k: np.linspace(*ansatz.bounds[k], collapse.map_points) for k in ("sigma", "p_c")
                }
                others = {k: v for k, v in quick.params.items() if k not in axes}
                table = chi2_map(data, ansatz, axes, others)
                lowest = table.loc[table["chi2_nu"].idxmin()]
                start = {k: v for k, v in quick.params.items() if k in ansatz.fitted}
                starts = [start | {"sigma": lowest["sigma"], "p_c": lowest["p_c"]}]
                maps.append(table.assign(width=width, depth=depth, p_train=p_train))
            fit = fit_collapse(data, ansatz, **settings, starts=starts)
            r = fit.to_record()
            records.append(
                {
                    "width": width,
                    "depth": depth,
                    "p_train": p_train,
                    "ansatz": name,
                    "p_c": r["p_c"],
                    "p_c_err": r["p_c_err"],
                    "p_c_boot_err": r["p_c_boot_err"],
                    "p_c_at_bound": r["p_c_at_bound"],
                    "exponent_name": exponent,
                    "sigma_or_nu": r[exponent],
                    "err": r[f"{exponent}_err"],
                    "boot_err": r[f"{exponent}_boot_err"],
                    "exponent_at_bound": r[f"{exponent}_at_bound"],
                    "chi2_nu": r["chi2_nu"],
                    "n_points": r["n_points"],
                    "N_0": r.get("N_0", np.nan),
                    "Delta": r["Delta"],
                }  # fmt: skip
            )
    fits = pd.DataFrame(records)[COLLAPSE_COLUMNS]
    map_table = pd.concat(maps, ignore_index=True)
    return fits, map_table[["width", "depth", "p_train", "sigma", "p_c", "chi2_nu"]]


def binder_table(per_mask: pd.DataFrame) -> pd.DataFrame:
    """Binder cumulant of the test accuracy at every sweep point, over masks and runs pooled.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`BINDER_COLUMNS`: ``binder`` is U = 1 - <dA^4> / (3 <dA^2>^2) of the
        per-mask accuracies (0 for a Gaussian variable; NaN where every sample is the same).
        At p_eval = 0 the masks of a run all give the unpruned network, so there U measures the
        spread between runs alone. ``n_samples`` is runs x masks.
    """
    rows = []
    keys = ["width", "depth", "N", "train_fraction", "p_train", "p_eval"]
    for key, group in per_mask.groupby(keys):
        accuracy = group["accuracy"].to_numpy()
        binder = binder_cumulant(accuracy) if np.ptp(accuracy) > 0 else np.nan
        rows.append((*key, binder, accuracy.mean(), accuracy.size))
    return pd.DataFrame(rows, columns=BINDER_COLUMNS)
