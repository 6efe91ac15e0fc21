"""Benchmark and recovery study of the finite-size-scaling fit (prunephase.scaling), set up as the
workflow fits paper A: the window of p around the crossing of the size exponents, N_0 fitted.

Run from the repository root:  PYTHONPATH=src python workflow/scripts/benchmark_scaling.py

1. Timing: the collapses of one architecture and p_train (synthetic per-run data on the paper's
   grid, 20 p x 7 N x 3 runs): the crossing with its bootstrap, then the BKT fit (N_0 fitted) and
   the power-law fit in the window, each with its grid errors and bootstrap over runs, and the
   chi2 map of the BKT fit; printed against the 30 s target.
2. Recovery: synthetic BKT and power-law data of known parameters, fitted with both ansatzes, many
   realisations, the window chosen from each realisation's crossing, on the default run's N grid
   with its collapse settings (config.yaml) and on the paper's (the schema's defaults); at the
   noise of 3 runs per point (relative standard error 1% -> 5% from p = 0 to 0.95) and of 20
   runs (the same noise times sqrt(3/20)); prints deviations from the truth, the error regions'
   coverage and the chi2_nu of the competing ansatz.
3. N_0 fixed or fitted: BKT data made with another N_0 than 100, fitted with N_0 = 100 fixed and
   with N_0 fitted.
"""

from __future__ import annotations

import argparse
import math
import time
from pathlib import Path

import numpy as np

from prunephase.core.config import load_config
from prunephase.scaling import (
    BKTAnsatz,
    CollapseData,
    PowerLawAnsatz,
    crossing_estimate,
    fit_in_window,
    recovery_study,
    synthetic_runs,
)

P = np.round(np.arange(0.0, 0.951, 0.05), 2)
TARGET_S = 30.0
NOISE = {"3 runs": (0.01, 0.05), "20 runs": tuple(r * math.sqrt(3 / 20) for r in (0.01, 0.05))}
CONFIG = Path(__file__).resolve().parents[2] / "config.yaml"


def collapse_settings(scale: str) -> dict:
    """The ``dropout_phases`` N grid and collapse settings of a scale: "default" (config.yaml,
    the schema's defaults filling the rest) or "paper" (the schema's defaults alone)."""
    config = load_config(CONFIG) if scale == "default" else load_config()
    section = config["dropout_phases"]
    return {"sizes": sorted(section["n_train"]), **section["analysis"]["collapse"]}


SCALES = {scale: collapse_settings(scale) for scale in ("default", "paper")}


def fitters(scale: str) -> dict[str, BKTAnsatz | PowerLawAnsatz]:
    """The workflow's ansatzes at a scale: its bounds and fixed values."""
    settings = SCALES[scale]
    return {
        "bkt": BKTAnsatz(**settings["bkt"]),
        "power_law": PowerLawAnsatz(**settings["power_law"]),
    }


def timing(n_bootstrap: int, crossing_bootstrap: int, half_width: float) -> None:
    cpu0 = time.process_time()  # on a shared machine, the CPU time bounds the quiet wall time
    t0 = time.perf_counter()
    sizes = SCALES["paper"]["sizes"]
    runs = synthetic_runs(BKTAnsatz(), {"p_c": 0.6, "sigma": 0.8}, P, sizes, seed=1)
    data = CollapseData.from_runs(runs["p"], runs["N"], runs["run"], runs["value"])
    t_data = time.perf_counter() - t0
    t0 = time.perf_counter()
    cross = crossing_estimate(data, n_bootstrap=crossing_bootstrap, n_se=2.0, min_exponent=0.02)
    t_cross = time.perf_counter() - t0
    times, fits = {}, {}
    for name, ansatz in fitters("paper").items():
        t0 = time.perf_counter()
        fits[name] = fit_in_window(data, ansatz, cross.p_cross, half_width, seed=0)
        t_fit = time.perf_counter() - t0
        t0 = time.perf_counter()
        boot = fit_in_window(data, ansatz, cross.p_cross, half_width, seed=0,
                             n_bootstrap=n_bootstrap)  # fmt: skip
        times[name] = (t_fit, time.perf_counter() - t0 - t_fit, boot)
    t0 = time.perf_counter()
    profile = fits["bkt"].profile("sigma", "p_c")
    t_map = time.perf_counter() - t0
    total = t_data + t_cross + sum(t + b for t, b, _ in times.values()) + t_map
    cpu = time.process_time() - cpu0
    print(f"the collapses of one (architecture, p_train): {data.n_points} points, 3 runs")
    print(f"  data from per-run values               {t_data:7.3f} s")
    print(f"  crossing, {crossing_bootstrap} bootstrap resamples     {t_cross:7.3f} s  "
          f"(p_cross = {cross.p_cross:.4f} +- {cross.error:.4f})")  # fmt: skip
    for name, (t_fit, t_boot, fit) in times.items():
        shape = "x".join(str(len(a)) for a in fit.axes.values())
        print(
            f"  {name:9s} fit: search + {shape} grid  {t_fit:7.3f} s; "
            f"+ {n_bootstrap} bootstrap resamples {t_boot:7.3f} s"
        )
        r = fit.to_record()
        exponent = "sigma" if name == "bkt" else "nu"
        print(
            f"            p_c = {r['p_c']:.4f} +- {r['p_c_err']:.4f} (boot "
            f"{r['p_c_boot_err']:.4f}), {exponent} = {r[exponent]:.3f} +- "
            f"{r[exponent + '_err']:.3f} (boot {r[exponent + '_boot_err']:.3f}), chi2_nu = "
            f"{r['chi2_nu']:.3f}" + (f", N_0 = {r['N_0']:.0f}" if name == "bkt" else "")
        )
    print(f"  chi2 map ({len(profile)} points)             {t_map:7.3f} s")
    print(
        f"  total                                  {total:7.3f} s = "
        f"{total / TARGET_S:.3f} x the 30 s target"
    )
    print(
        f"  CPU time of this process (all threads) {cpu:7.3f} s = "
        f"{cpu / TARGET_S:.3f} x the 30 s target"
    )


def recovery(n_seeds: int, half_width: float, crossing_bootstrap: int) -> None:
    cases = [
        ("bkt", {"p_c": 0.60, "sigma": 0.8}),
        ("bkt", {"p_c": 0.57, "sigma": 1.2}),
        ("power_law", {"p_c": 0.60, "nu": 1.0}),
        ("power_law", {"p_c": 0.55, "nu": 2.0}),
    ]
    generators = {"bkt": BKTAnsatz(), "power_law": PowerLawAnsatz()}
    print(
        f"\nrecovery: {n_seeds} realisations per case; window +-{half_width:g} around each "
        f"realisation's crossing ({crossing_bootstrap} resamples); fits as the workflow's "
        + "; ".join(f"{k}: BKT {v['bkt']}, power law {v['power_law']}" for k, v in SCALES.items())
    )
    for noise, relative_se in NOISE.items():
        for grid, settings in SCALES.items():
            for truth_name, truth in cases:
                t0 = time.perf_counter()
                table = recovery_study(
                    generators[truth_name], truth, fitters(grid), P, settings["sizes"],
                    range(n_seeds),
                    half_width=half_width, crossing_bootstrap=crossing_bootstrap,
                    min_exponent=0.02, relative_se=relative_se,
                )  # fmt: skip
                print(f"{noise:7s} {grid:7s} {truth_name:9s} {truth}: "
                      + summarise(table, truth_name, truth)
                      + f" [{time.perf_counter() - t0:.0f} s]")  # fmt: skip


def summarise(table, truth_name: str, truth: dict) -> str:
    found = table.drop_duplicates("seed")
    crossing = (found.p_cross - truth["p_c"]).abs()
    own = table[(table.fitter == truth_name) & table.p_c.notna()]
    other = table[(table.fitter != truth_name) & table.p_c.notna()].set_index("seed")["chi2_nu"]
    exponent = "sigma" if truth_name == "bkt" else "nu"
    d_pc = own["p_c"] - truth["p_c"]
    d_exp = own[exponent] - truth[exponent]
    inside = {
        k: ((own[f"{k}_lower"] <= truth[k]) & (truth[k] <= own[f"{k}_upper"])).mean()
        for k in ("p_c", exponent)
    }
    worse = (other.reindex(own.seed).to_numpy() > own["chi2_nu"].to_numpy()).mean()
    return (
        f"crossing found {found.p_cross.notna().mean():.0%}, |dev| rms "
        f"{np.sqrt(np.mean(crossing**2)):.4f}; p_c |dev| rms {np.sqrt(np.mean(d_pc**2)):.4f} "
        f"max {d_pc.abs().max():.4f} <=0.02 in {(d_pc.abs() <= 0.02).mean():.0%}; {exponent} "
        f"|dev| rms {np.sqrt(np.mean(d_exp**2)):.3f} max {d_exp.abs().max():.3f} <=0.15 in "
        f"{(d_exp.abs() <= 0.15).mean():.0%}; mean error p_c {own['p_c_err'].mean():.4f} "
        f"{exponent} {own[f'{exponent}_err'].mean():.3f}, truth inside {inside['p_c']:.0%} / "
        f"{inside[exponent]:.0%}; chi2_nu own {own['chi2_nu'].mean():.2f} other "
        f"{other.mean():.2f}, other worse in {worse:.0%}"
    )


def n0_fixed_or_fitted(n_seeds: int, half_width: float) -> None:
    truth = {"p_c": 0.6, "sigma": 0.8}
    bounds = SCALES["default"]["bkt"]["N_0"]
    compared = {"N_0 = 100 fixed": BKTAnsatz(N_0=100.0),
                f"N_0 fitted in {bounds}": BKTAnsatz(N_0=tuple(bounds))}  # fmt: skip
    print(
        f"\nN_0 fixed or fitted: BKT data {truth}, default grid, noise of 3 runs, "
        f"{n_seeds} realisations, window +-{half_width:g}"
    )
    for n_0 in (10.0, 300.0):
        table = recovery_study(
            BKTAnsatz(N_0=n_0), truth, compared, P, SCALES["default"]["sizes"], range(n_seeds),
            half_width=half_width, min_exponent=0.02,
        )  # fmt: skip
        for label, group in table.groupby("fitter", sort=False):
            group = group.dropna(subset=["p_c"])
            rms_pc = np.sqrt(np.mean((group.p_c - truth["p_c"]) ** 2))
            rms_sigma = np.sqrt(np.mean((group.sigma - truth["sigma"]) ** 2))
            print(
                f"true N_0 = {n_0:5g}, {label:24s}: p_c mean {group.p_c.mean():.4f} rms dev "
                f"{rms_pc:.4f}; sigma mean {group.sigma.mean():.3f} rms dev {rms_sigma:.3f}; "
                f"N_0 median {group.N_0.median():.0f}"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bootstrap", type=int, default=SCALES["paper"]["bootstrap"],
                        help="collapse resamples in the timing")  # fmt: skip
    parser.add_argument("--crossing-bootstrap", type=int, default=1000)
    parser.add_argument("--half-width", type=float, default=SCALES["default"]["half_width"])
    parser.add_argument("--seeds", type=int, default=20, help="realisations per recovery case")
    parser.add_argument("--n0-seeds", type=int, default=10, help="N_0 study realisations (0: skip)")
    parser.add_argument("--skip-timing", action="store_true")
    parser.add_argument("--skip-recovery", action="store_true")
    args = parser.parse_args()
    if not args.skip_timing:
        timing(args.bootstrap, args.crossing_bootstrap, args.half_width)
    if not args.skip_recovery:
        recovery(args.seeds, args.half_width, min(args.crossing_bootstrap, 200))
    if args.n0_seeds:
        n0_fixed_or_fitted(args.n0_seeds, args.half_width)


if __name__ == "__main__":
    main()
