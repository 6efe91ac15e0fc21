"""Benchmark and recovery study of the finite-size-scaling fit (prunephase.scaling).

Run from the repository root:  PYTHONPATH=src python workflow/scripts/benchmark_scaling.py

1. Timing: one full collapse fit of one architecture and p_train (synthetic per-run data on the
   paper's grid, 20 p_eval x 7 N x 3 runs): global search + refinement + contour sweep, the
   bootstrap over runs, and a chi2 map for a figure; printed against the 30 s target.
2. Recovery: synthetic BKT and power-law data of known parameters at the default run's noise
   (3 runs per point, relative standard error 1% -> 5% from p_eval = 0 to 0.95), fitted with
   both ansatzes, many realisations; prints deviations from the truth, contour coverage and the
   chi2_nu of the competing ansatz.
3. N_0 sensitivity: BKT data made with another N_0 than the fit's N_0 = 100, and a fit with N_0
   free.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from prunephase.scaling import (
    BKTAnsatz,
    CollapseData,
    PowerLawAnsatz,
    bootstrap_collapse,
    chi2_map,
    fit_collapse,
    recovery_study,
    synthetic_runs,
)
from prunephase.scaling.fit import _minimise, _objective

P_EVAL = np.round(np.arange(0.0, 0.951, 0.05), 2)
GRIDS = {
    "paper": [938, 1875, 3750, 7500, 15000, 30000, 60000],
    "small": [500, 1000, 2000, 4000, 8000],
}
TARGET_S = 30.0


def timing(n_bootstrap: int) -> None:
    bkt = BKTAnsatz()
    t0 = time.perf_counter()
    runs = synthetic_runs(bkt, {"p_c": 0.6, "sigma": 0.8}, P_EVAL, GRIDS["paper"], seed=1)
    data = CollapseData.from_runs(runs["p"], runs["N"], runs["run"], runs["value"])
    t_data = time.perf_counter() - t0
    bounds = np.array(list(bkt.bounds.values()))

    t0 = time.perf_counter()
    fit_collapse(data, bkt, seed=0)
    t_cold = time.perf_counter() - t0
    t0 = time.perf_counter()
    _minimise(_objective(data, bkt), bounds, np.random.default_rng(0))
    t_search = time.perf_counter() - t0
    t0 = time.perf_counter()
    fit = fit_collapse(data, bkt, seed=0)
    t_fit = time.perf_counter() - t0
    t0 = time.perf_counter()
    boot = bootstrap_collapse(data, bkt, n_bootstrap, seed=0)
    t_boot = time.perf_counter() - t0
    t0 = time.perf_counter()
    axes = {"sigma": np.linspace(0.2, 2.0, 91), "p_c": np.linspace(0.3, 0.9, 121)}
    table = chi2_map(data, bkt, axes)
    t_map = time.perf_counter() - t0
    total = t_data + t_cold + t_boot + t_map
    print(f"collapse fit of one (architecture, p_train): {data.n_points} points, BKT ansatz")
    print(f"  data from per-run values      {t_data:7.3f} s")
    print(f"  first fit in the process      {t_cold:7.3f} s  (global search, refinement, sweep)")
    print(f"  again: global search + refine {t_search:7.3f} s")
    print(f"  again: + contour sweep        {t_fit:7.3f} s  ({len(fit.sweep)} grid points)")
    print(f"  bootstrap, {n_bootstrap} resamples      {t_boot:7.3f} s")
    print(f"  chi2 map {len(table)} points          {t_map:7.3f} s")
    print(f"  total (data, first fit, bootstrap, map) {total:7.3f} s")
    print(f"  = {total / TARGET_S:.3f} x the 30 s target")
    errors = fit.errors
    print(
        f"  result: p_c = {fit.params['p_c']:.4f} +- {errors['p_c']:.4f} (boot "
        f"{boot['p_c'].std(ddof=1):.4f}), sigma = {fit.params['sigma']:.3f} +- "
        f"{errors['sigma']:.3f} (boot {boot['sigma'].std(ddof=1):.3f}), chi2_nu = "
        f"{fit.chi2_nu:.3f}"
    )


def recovery(n_seeds: int, n_bootstrap: int, n_0: float) -> None:
    fitters = {"bkt": BKTAnsatz(N_0=n_0), "power_law": PowerLawAnsatz()}
    cases = [
        ("bkt", {"p_c": 0.60, "sigma": 0.8}),
        ("bkt", {"p_c": 0.57, "sigma": 1.2}),
        ("power_law", {"p_c": 0.60, "nu": 1.0}),
        ("power_law", {"p_c": 0.55, "nu": 2.0}),
    ]
    print(
        f"\nrecovery: {n_seeds} realisations per case, 3 runs, relative s.e. 1-5%, "
        f"{n_bootstrap} bootstrap resamples, BKT with N_0 = {n_0:g}"
    )
    for grid, sizes in GRIDS.items():
        for truth_name, truth in cases:
            t0 = time.perf_counter()
            table = recovery_study(
                fitters[truth_name],
                truth,
                fitters,
                P_EVAL,
                sizes,
                range(n_seeds),
                n_bootstrap=n_bootstrap,
            )
            own = table[table.fitter == truth_name]
            other = table[table.fitter != truth_name].set_index("seed")["chi2_nu"]
            exponent = "sigma" if truth_name == "bkt" else "nu"
            d_pc = own["p_c"] - own["p_c_true"]
            d_exp = own[exponent] - own[f"{exponent}_true"]
            cover = (
                (own["p_c_lower"] <= own["p_c_true"]) & (own["p_c_true"] <= own["p_c_upper"])
            ).mean()
            cover_exp = (
                (own[f"{exponent}_lower"] <= own[f"{exponent}_true"])
                & (own[f"{exponent}_true"] <= own[f"{exponent}_upper"])
            ).mean()
            worse = (other.to_numpy() > own.set_index("seed")["chi2_nu"].to_numpy()).mean()
            print(
                f"{grid:5s} {truth_name:9s} {truth}: "
                f"|d p_c| rms {np.sqrt(np.mean(d_pc**2)):.4f} max {d_pc.abs().max():.4f} "
                f"<=0.02 in {(d_pc.abs() <= 0.02).mean():.0%}; "
                f"|d {exponent}| rms {np.sqrt(np.mean(d_exp**2)):.3f} max {d_exp.abs().max():.3f} "
                f"<=0.15 in {(d_exp.abs() <= 0.15).mean():.0%}; "
                f"contour err p_c {own['p_c_err'].mean():.4f} {exponent} "
                f"{own[f'{exponent}_err'].mean():.3f}, covers truth {cover:.0%} / {cover_exp:.0%}; "
                + (
                    f"boot err p_c {own['p_c_boot_err'].mean():.4f} {exponent} "
                    f"{own[f'{exponent}_boot_err'].mean():.3f}; "
                    if n_bootstrap
                    else ""
                )
                + f"chi2_nu own {own['chi2_nu'].mean():.2f} other {other.mean():.2f}, "
                f"other worse in {worse:.0%} [{time.perf_counter() - t0:.0f} s]"
            )


def n0_sensitivity(n_seeds: int) -> None:
    truth = {"p_c": 0.6, "sigma": 0.8}
    fitters = {"N_0 = 100 fixed": BKTAnsatz(), "N_0 fitted in [1, 450]": BKTAnsatz(N_0=(1, 450))}
    print(f"\nN_0 misspecified: BKT data {truth} on the small grid, {n_seeds} realisations")
    for n_0 in (10.0, 30.0, 300.0):
        table = recovery_study(
            BKTAnsatz(N_0=n_0), truth, fitters, P_EVAL, GRIDS["small"], range(n_seeds)
        )
        for label, group in table.groupby("fitter", sort=False):
            rms_pc = np.sqrt(np.mean((group.p_c - truth["p_c"]) ** 2))
            rms_sigma = np.sqrt(np.mean((group.sigma - truth["sigma"]) ** 2))
            print(
                f"true N_0 = {n_0:5g}, {label:22s}: p_c mean {group.p_c.mean():.4f} "
                f"rms dev {rms_pc:.4f}; sigma mean {group.sigma.mean():.3f} "
                f"rms dev {rms_sigma:.3f}; "
                f"N_0 median {group.N_0.median():.0f}; chi2_nu mean {group.chi2_nu.mean():.2f}"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bootstrap", type=int, default=200, help="resamples in the timing")
    parser.add_argument("--seeds", type=int, default=30, help="realisations per recovery case")
    parser.add_argument("--recovery-bootstrap", type=int, default=0)
    parser.add_argument("--n0", type=float, default=100.0, help="N_0 of the BKT ansatz (recovery)")
    parser.add_argument("--skip-timing", action="store_true")
    parser.add_argument("--skip-recovery", action="store_true")
    parser.add_argument("--n0-seeds", type=int, default=10, help="N_0 study realisations (0: skip)")
    args = parser.parse_args()
    if not args.skip_timing:
        timing(args.bootstrap)
    if not args.skip_recovery:
        recovery(args.seeds, args.recovery_bootstrap, args.n0)
    if args.n0_seeds:
        n0_sensitivity(args.n0_seeds)


if __name__ == "__main__":
    main()
