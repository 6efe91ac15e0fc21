"""Tests of prunephase.scaling: ansatzes, the chi2_nu of a collapse, fits, errors, Binder."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from prunephase.scaling import (
    P_C_STEP,
    BKTAnsatz,
    CollapseData,
    PowerLawAnsatz,
    binder_cumulant,
    binder_over_runs,
    bootstrap_collapse,
    chi2_map,
    chi2_nu,
    collapse_chi2,
    crossing_estimate,
    fit_collapse,
    fit_in_window,
    grid_axes,
    make_ansatz,
    nearest_sign_change,
    recovery_study,
    scaled_points,
    sign_change,
    size_exponents,
    synthetic_runs,
)
from prunephase.scaling.fit import _error_region

P_EVAL = np.round(np.arange(0.0, 0.951, 0.05), 2)
PAPER_N = [938, 1875, 3750, 7500, 15000, 30000, 60000]
SMALL_N = [500, 1000, 2000, 4000, 8000]


def runs_data(ansatz, truth, sizes, seed, **noise):
    runs = synthetic_runs(ansatz, truth, P_EVAL, sizes, seed=seed, **noise)
    return CollapseData.from_runs(runs["p"], runs["N"], runs["run"], runs["value"])


# --- the chi2_nu of a collapse -------------------------------------------------------------


def test_collapse_chi2_matches_hand_computation():
    x, y, dy = [0.0, 1.0, 2.0, 4.0], [0.0, 1.0, 3.0, 3.0], [1.0, 1.0, 1.0, 1.0]
    # point 1: ybar = (0 + 3) / 2, sbar^2 = 1 + 1/4 + 1/4 -> (1 - 1.5)^2 / 1.5 = 1/6
    # point 2: w- = 2/3, w+ = 1/3, ybar = 5/3, sbar^2 = 1 + 4/9 + 1/9 -> (4/3)^2 / (14/9) = 8/7
    expected = (1 / 6 + 8 / 7) / (4 - 2)
    assert collapse_chi2(x, y, dy, n_fitted=2) == pytest.approx(expected)
    # the order of the input does not matter; the denominator never drops below 1
    order = [2, 0, 3, 1]
    shuffled = collapse_chi2(np.take(x, order), np.take(y, order), np.take(dy, order), 2)
    assert shuffled == pytest.approx(expected)
    assert collapse_chi2(x, y, dy, n_fitted=5) == pytest.approx(1 / 6 + 8 / 7)


def test_collapse_chi2_propagates_neighbour_errors():
    x, y = [0.0, 1.0, 3.0], [0.0, 2.0, 0.0]
    # w- = 2/3, w+ = 1/3: sbar^2 = 0.5^2 + (2/3 * 1)^2 + (1/3 * 3)^2
    sbar2 = 0.25 + 4 / 9 + 1.0
    assert collapse_chi2(x, y, [1.0, 0.5, 3.0]) == pytest.approx(4.0 / sbar2 / 3)


def test_collapse_chi2_is_zero_on_a_line_and_handles_ties_and_batches():
    x = np.linspace(-1, 1, 9)
    assert collapse_chi2(x, 2 * x + 1, np.full(9, 0.1)) == pytest.approx(0.0, abs=1e-12)
    # three coincident x (p = p_c at every size): equal weights 1/2
    tied = collapse_chi2([0.0, 0.0, 0.0], [1.0, 2.0, 5.0], [1.0, 1.0, 1.0])
    assert tied == pytest.approx((2 - 3) ** 2 / 1.5 / 3)
    rng = np.random.default_rng(0)
    xs, ys = rng.normal(size=(4, 12)), rng.normal(size=(4, 12))
    batch = collapse_chi2(xs, ys, np.ones(12), n_fitted=2)
    assert batch.shape == (4,)
    one_by_one = [collapse_chi2(a, b, np.ones(12), 2) for a, b in zip(xs, ys, strict=True)]
    assert batch == pytest.approx(one_by_one)


# --- ansatzes -------------------------------------------------------------------------------


def test_ansatz_scaling_variables_and_y_scaling():
    p, size = np.array([0.3, 0.7]), np.array([1000.0, 8000.0])
    y, dy = np.array([1.0, 2.0]), np.array([0.1, 0.2])
    bkt = BKTAnsatz(N_0=50.0, Delta=0.25)
    x, ys, dys = bkt.scale(p, size, y, dy, {"p_c": 0.5, "sigma": 0.8, "N_0": 50.0, "Delta": 0.25})
    assert x == pytest.approx((p - 0.5) * np.log(size / 50.0) ** (1 / 0.8))
    assert ys == pytest.approx(y * size**-0.25)  # y = N^Delta f(x)  ->  f = N^-Delta y
    assert dys == pytest.approx(dy * size**-0.25)
    power = PowerLawAnsatz()
    x, ys, _ = power.scale(p, size, y, dy, {"p_c": 0.5, "nu": 2.0, "Delta": 0.0})
    assert x == pytest.approx((p - 0.5) * np.sqrt(size))
    assert ys == pytest.approx(y)


def test_ansatz_parameters_fixed_or_fitted_from_config():
    ansatz = make_ansatz("bkt", p_c=[0.3, 0.9], N_0=[1.0, 400.0], Delta=0.1)
    assert ansatz.fitted == ("p_c", "sigma", "N_0")
    assert ansatz.fixed == {"Delta": 0.1}
    assert ansatz.bounds["N_0"] == (1.0, 400.0)
    theta = ansatz.parameters(np.array([[0.5, 1.0, 10.0], [0.6, 2.0, 20.0]]))
    assert theta["sigma"].shape == (2, 1) and theta["Delta"] == 0.1
    with pytest.raises(ValueError, match="unknown parameter"):
        make_ansatz("bkt", nu=1.0)
    with pytest.raises(ValueError, match="unknown scaling ansatz"):
        make_ansatz("kt")
    with pytest.raises(ValueError, match="low < high"):
        BKTAnsatz(sigma=(2.0, 1.0))
    with pytest.raises(ValueError, match="number .* or a pair"):
        BKTAnsatz(sigma=(0.1, 1.0, 2.0))


def test_bkt_needs_n0_below_every_size():
    data = runs_data(BKTAnsatz(N_0=100.0), {"p_c": 0.6, "sigma": 0.8}, SMALL_N, seed=0)
    with pytest.raises(ValueError, match="N_0"):
        fit_collapse(data, BKTAnsatz(N_0=500.0))
    with pytest.raises(ValueError, match="N_0"):
        fit_collapse(data, BKTAnsatz(N_0=(10.0, 600.0)))


# --- data and degenerate input --------------------------------------------------------------


def test_from_runs_means_errors_and_whole_run_resampling():
    p = np.tile([0.1, 0.2, 0.3], 6)
    size = np.repeat([100, 200], 9)
    run = np.tile(np.repeat([0, 1, 2], 3), 2)
    # a run's value is its run offset plus p: a resample of runs shifts a size's curve rigidly
    value = p + np.repeat([1.0, 2.0, 4.0, 10.0, 20.0, 40.0], 3)
    data = CollapseData.from_runs(p, size, run, value)
    assert data.y[:3] == pytest.approx(np.array([0.1, 0.2, 0.3]) + 7 / 3)
    assert data.dy[:3] == pytest.approx(np.full(3, np.std([1.0, 2.0, 4.0], ddof=1) / np.sqrt(3)))
    resampled = data.resample(np.random.default_rng(3))
    shift = resampled.y[:3] - np.array([0.1, 0.2, 0.3])
    assert shift == pytest.approx(np.full(3, shift[0]))
    sums = {a + b + c for a in (1, 2, 4) for b in (1, 2, 4) for c in (1, 2, 4)}
    assert round(shift[0] * 3, 9) in sums
    assert resampled.dy == pytest.approx(data.dy)
    frame = pd.DataFrame({"p_eval": p, "N": size, "run": run, "L_CE": value})
    same = CollapseData.from_frame(frame, run="run")
    assert same.y == pytest.approx(data.y)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda f: f[f.N == 1000], "only one size"),
        (lambda f: f.assign(L_CE=1.5), "y is constant"),
        (lambda f: f.assign(L_CE=f.L_CE.where(f.index != 4)), "NaN"),
        (lambda f: f.assign(se=f.se.where(f.index != 7, 0.0)), "dy <= 0"),
        (lambda f: f[f.p_eval < 0.15], "too few points"),
        (lambda f: pd.concat([f, f.iloc[:1]]), "repeated point"),
    ],
)
def test_degenerate_input_raises_a_clear_error(change, message):
    grid = pd.MultiIndex.from_product([[0.0, 0.1, 0.2, 0.3], [1000, 2000]], names=["p_eval", "N"])
    frame = grid.to_frame(index=False)
    frame["L_CE"] = 1.0 + frame.p_eval * np.log(frame.N)
    frame["se"] = 0.05
    CollapseData.from_frame(frame, error="se")  # the unchanged table is fine
    with pytest.raises(ValueError, match=message):
        CollapseData.from_frame(change(frame), error="se")


def test_runs_input_errors():
    p, size, run = [0.1, 0.2, 0.3] * 2, [100] * 3 + [200] * 3, [0] * 6
    with pytest.raises(ValueError, match="at least two"):
        CollapseData.from_runs(p, size, run, np.arange(6.0))
    with pytest.raises(ValueError, match="lack some p"):
        CollapseData.from_runs([0.1, 0.2, 0.1], [100] * 3, [0, 0, 1], [1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="differ in length"):
        CollapseData.from_runs(p, size, run, np.arange(5.0))
    means = CollapseData.from_means(p, size, np.arange(6.0), np.ones(6))
    with pytest.raises(ValueError, match="per-run values"):
        fit_collapse(means, BKTAnsatz(N_0=10.0), n_bootstrap=5)
    with pytest.raises(ValueError, match="no fitted parameter"):
        fit_collapse(means, PowerLawAnsatz(p_c=0.5, nu=1.0))


# --- fits: recovery, model comparison, errors -----------------------------------------------
# Default-run noise: 3 runs per point, relative standard error of the mean 1% (p_eval = 0) to
# 5% (p_eval = 0.95), half of the variance shared by all p_eval of a run.


@pytest.mark.parametrize(
    ("sizes", "truth"),
    [(SMALL_N, {"p_c": 0.60, "sigma": 0.8}), (PAPER_N, {"p_c": 0.57, "sigma": 1.2})],
)
def test_bkt_fit_recovers_truth_within_errors(sizes, truth):
    bkt = BKTAnsatz()
    table = recovery_study(bkt, truth, {"bkt": bkt}, P_EVAL, sizes, range(6))
    d_pc = (table.p_c - truth["p_c"]).abs()
    d_sigma = (table.sigma - truth["sigma"]).abs()
    assert d_pc.max() <= 0.03 and np.sqrt(np.mean(d_pc**2)) <= 0.015
    assert d_sigma.max() <= 0.15
    # half the realisations or more within the error region, none far outside it (the 1.3 x min
    # region is a convention, not a calibrated interval: see the recovery study for its coverage)
    assert (d_pc <= 3 * table.p_c_err).all() and (d_sigma <= 3 * table.sigma_err).all()
    for name in ("p_c", "sigma"):
        inside = (table[f"{name}_lower"] <= truth[name]) & (truth[name] <= table[f"{name}_upper"])
        assert inside.mean() >= 1 / 2
    assert table.chi2_nu.median() < 2 and not table.p_c_at_bound.any()


def test_power_law_fit_recovers_truth_within_errors():
    power = PowerLawAnsatz()
    truth = {"p_c": 0.55, "nu": 1.5}
    table = recovery_study(power, truth, {"pl": power}, P_EVAL, SMALL_N, range(6))
    d_pc, d_nu = (table.p_c - truth["p_c"]).abs(), (table.nu - truth["nu"]).abs()
    assert d_pc.max() <= 0.03 and d_nu.max() <= 0.2
    # on a rough landscape the region around a minimum can be narrow: most, not all, within 3x
    assert (d_pc <= 3 * table.p_c_err).mean() >= 5 / 6 and (
        d_nu <= 3 * table.nu_err
    ).mean() >= 5 / 6
    for name in ("p_c", "nu"):
        inside = (table[f"{name}_lower"] <= truth[name]) & (truth[name] <= table[f"{name}_upper"])
        assert inside.mean() >= 4 / 6


@pytest.mark.parametrize(
    ("generator", "truth"),
    [(BKTAnsatz(), {"p_c": 0.6, "sigma": 0.8}), (PowerLawAnsatz(), {"p_c": 0.6, "nu": 1.0})],
)
def test_the_wrong_ansatz_collapses_worse(generator, truth):
    fitters = {"bkt": BKTAnsatz(), "power_law": PowerLawAnsatz()}
    table = recovery_study(generator, truth, fitters, P_EVAL, PAPER_N, range(3))
    chi2 = table.pivot(index="seed", columns="fitter", values="chi2_nu")
    right, wrong = chi2[generator.name], chi2.drop(columns=generator.name).iloc[:, 0]
    assert (wrong > 1.5 * right).all()


def test_fit_is_reproducible_and_consistent():
    bkt = BKTAnsatz()
    data = runs_data(bkt, {"p_c": 0.6, "sigma": 0.8}, SMALL_N, seed=4)
    fit = fit_collapse(data, bkt, seed=11, n_bootstrap=8)
    again = fit_collapse(data, bkt, seed=11, n_bootstrap=8)
    assert fit.params == again.params and fit.bootstrap.equals(again.bootstrap)
    best = {k: fit.params[k] for k in bkt.fitted}
    assert chi2_nu(data, bkt, best) == pytest.approx(fit.chi2_nu)
    # the reported minimum is no higher than any grid point; the grid covers the bounds with
    # steps of at most 0.005 in p_c, and the error region lies within [lower, upper]
    assert fit.grid_chi2.min() >= fit.chi2_nu - 1e-12
    p_c_axis = fit.axes["p_c"]
    assert (
        p_c_axis[0] == 0.0 and p_c_axis[-1] == 1.0 and np.diff(p_c_axis).max() <= P_C_STEP + 1e-12
    )
    assert fit.region.shape == fit.grid_chi2.shape and fit.region.any()
    assert (fit.grid_chi2[fit.region] <= 1.3 * fit.chi2_nu + 1e-12).all()
    # the extent reaches beyond the region's grid points by at most a step (to the interpolated
    # level between a point inside and its neighbour outside)
    inside_pc = p_c_axis[fit.region.any(axis=1)]
    assert inside_pc.min() - P_C_STEP <= fit.lower["p_c"] <= min(inside_pc.min(), fit.params["p_c"])
    assert max(inside_pc.max(), fit.params["p_c"]) <= fit.upper["p_c"] <= inside_pc.max() + P_C_STEP
    record = fit.to_record()
    assert record["ansatz"] == "bkt" and record["N_0"] == 100.0 and record["n_points"] == 100
    assert record["p_c_err"] == pytest.approx((fit.upper["p_c"] - fit.lower["p_c"]) / 2)
    assert 0 < record["p_c_boot_err"] < 0.05 and 0 < record["sigma_boot_err"] < 0.3
    assert list(fit.bootstrap.columns) == ["resample", "p_c", "sigma", "chi2_nu"]


def test_error_region_is_the_connected_part_around_the_minimum():
    """An island below the contour level that does not touch the minimum's region is left out
    (a search path or a plain threshold would take it in)."""
    axes = {"p_c": np.linspace(0, 1, 11), "sigma": np.linspace(0, 1, 6)}
    chi = np.full((11, 6), 10.0)
    chi[4:7, 2:4] = 1.0  # the basin of the minimum
    chi[4, 2] = 0.9
    chi[9, 5] = 1.1  # an island, below 1.3 x 0.9 but apart
    chi[7, 4] = 1.1  # touches the basin at a corner: connected
    region = _error_region(chi, axes, np.array([0.41, 0.39]), 1.3 * 0.9)
    assert region[4:7, 2:4].all() and region[7, 4] and not region[9, 5]
    assert region.sum() == 7
    # a centre above the level has no region
    assert not _error_region(chi, axes, np.array([0.0, 0.0]), 1.17).any()


def test_profile_of_a_three_parameter_fit():
    data = runs_data(BKTAnsatz(), {"p_c": 0.6, "sigma": 0.8}, SMALL_N, seed=2)
    ansatz = BKTAnsatz(N_0=(1.0, 400.0))
    fit = fit_in_window(data, ansatz, 0.6, 0.25, seed=0, grid_points=9)
    assert fit.grid_chi2.shape == (101, 9, 9)  # p_c in [0.35, 0.85] by 0.005
    assert fit.axes["N_0"] == pytest.approx(np.geomspace(1.0, 400.0, 9))
    np.testing.assert_array_equal(grid_axes(fit.ansatz, grid_points=9)["sigma"], fit.axes["sigma"])
    table = fit.profile("sigma", "p_c")
    assert list(table.columns) == ["sigma", "p_c", "chi2_nu", "inside"] and len(table) == 9 * 101
    row = table.iloc[123]
    i = int(np.flatnonzero(fit.axes["p_c"] == row.p_c)[0])
    j = int(np.flatnonzero(fit.axes["sigma"] == row.sigma)[0])
    assert row.chi2_nu == pytest.approx(fit.grid_chi2[i, j].min())
    assert row.inside == fit.region[i, j].any()
    assert table.inside.any() and table.chi2_nu.min() >= fit.chi2_nu - 1e-12


def test_fit_window_selects_points_and_bounds_p_c():
    bkt = BKTAnsatz()
    data = runs_data(bkt, {"p_c": 0.6, "sigma": 0.8}, SMALL_N, seed=5)
    window = data.within(0.45, 0.75)
    assert set(np.round(window.p, 2)) == {0.45, 0.5, 0.55, 0.6, 0.65, 0.7, 0.75}
    assert window.n_points == 7 * len(SMALL_N)
    assert [r.shape for r in window.runs] == [(3, 7)] * len(SMALL_N)
    # the runs of the window are the runs of the whole curve, restricted
    np.testing.assert_allclose(window.runs[0], data.runs[0][:, 9:16])
    fit = fit_in_window(data, bkt, 0.6, 0.15, seed=0)
    assert fit.n_points == window.n_points
    assert fit.ansatz.bounds["p_c"] == pytest.approx((0.45, 0.75))
    assert abs(fit.params["p_c"] - 0.6) < 0.03
    # a window that misses the transition: p_c runs into the window's edge, which is flagged
    off = fit_in_window(data, bkt, 0.3, 0.15, seed=0)
    assert off.at_bound["p_c"]
    with pytest.raises(ValueError, match="too few points"):
        data.within(0.6, 0.65)


# --- the crossing ---------------------------------------------------------------------------


def test_sign_change_interpolates_the_first_significant_fall():
    p = np.array([0.0, 0.1, 0.2, 0.3, 0.4, 0.5])
    a = np.array([0.3, 0.2, 0.05, -0.01, -0.2, -0.3])
    significant = np.array([True, True, False, False, True, True])
    # the zero between 0.2 (a = 0.05) and 0.3 (a = -0.01): 0.2 + 0.05 / 0.06 * 0.1
    assert sign_change(p, a, significant) == pytest.approx(0.2 + 0.1 * 5 / 6)
    # without a significant negative point there is no transition
    assert np.isnan(sign_change(p, a, significant & (a > 0)))
    # a negative point before any positive one does not count
    assert np.isnan(sign_change(p, -a, significant))
    # in a resample the zero nearest to the estimate is taken
    wavy = np.array([0.3, -0.1, 0.2, 0.1, -0.1, -0.3])
    assert nearest_sign_change(p, wavy, 0.33) == pytest.approx(0.3 + 0.1 * 0.5)
    assert nearest_sign_change(p, wavy, 0.0) == pytest.approx(0.0 + 0.1 * 0.75)
    assert np.isnan(nearest_sign_change(p, np.abs(wavy), 0.3))


def test_size_exponents_are_exact_on_power_laws_and_crossing_recovers_p_c():
    sizes = np.array([1000.0, 2000.0, 4000.0, 8000.0])
    p = np.array([0.2, 0.4, 0.6, 0.8])
    exponent = np.array([0.3, 0.1, -0.1, -0.3])
    y = 2.0 * sizes[:, None] ** -exponent[None, :]
    data = CollapseData.from_means(np.tile(p, 4), np.repeat(sizes, 4), y.ravel(), np.ones(16))
    got_p, got = size_exponents(data)
    np.testing.assert_allclose(got_p, p)
    np.testing.assert_allclose(got, exponent)
    for seed, truth in [(0, 0.6), (1, 0.57)]:
        runs = runs_data(BKTAnsatz(), {"p_c": truth, "sigma": 0.8}, SMALL_N, seed=seed)
        estimate = crossing_estimate(runs, n_bootstrap=100, n_se=2.0, min_exponent=0.0, seed=seed)
        assert abs(estimate.p_cross - truth) < 0.03 and 0 < estimate.error < 0.03
        assert estimate.found > 0.9
    flat = runs_data(BKTAnsatz(), {"p_c": 0.99, "sigma": 0.8}, SMALL_N, seed=0)
    assert np.isnan(
        crossing_estimate(flat, n_bootstrap=50, n_se=2.0, min_exponent=0.0, seed=0).p_cross
    )


def test_recovery_with_n_0_fitted_in_an_automatic_window():
    """The workflow's fit: N_0 free, the window around the crossing of the size exponents."""
    truth = {"p_c": 0.6, "sigma": 0.8}
    fitter = {"bkt": BKTAnsatz(N_0=(1.0, 900.0))}
    table = recovery_study(BKTAnsatz(), truth, fitter, P_EVAL, [1000, 2000, 4000, 8000, 16000],
                           range(4), half_width=0.35, crossing_bootstrap=50,
                           relative_se=(0.005, 0.025))  # fmt: skip
    assert table.p_cross.notna().all() and (table.p_cross - 0.6).abs().max() < 0.03
    assert (table.p_c - 0.6).abs().max() <= 0.02
    assert (table.sigma - 0.8).abs().max() <= 0.15
    assert not table.N_0_at_bound.any()


def test_bootstrap_and_three_parameter_fit():
    generator = BKTAnsatz()
    data = runs_data(generator, {"p_c": 0.6, "sigma": 0.8}, SMALL_N, seed=2)
    boot = bootstrap_collapse(data, generator, 6, seed=1)
    assert len(boot) == 6 and boot.p_c.between(0.5, 0.7).all()
    fit = fit_collapse(data, BKTAnsatz(N_0=(1.0, 400.0)), seed=0)
    assert abs(fit.params["p_c"] - 0.6) < 0.03 and abs(fit.params["sigma"] - 0.8) < 0.15
    assert fit.lower["N_0"] <= 100.0 <= fit.upper["N_0"]


def test_chi2_map_and_scaled_points():
    bkt = BKTAnsatz()
    data = runs_data(bkt, {"p_c": 0.6, "sigma": 0.8}, SMALL_N, seed=0)
    axes = {"sigma": np.linspace(0.4, 1.6, 13), "p_c": np.linspace(0.4, 0.8, 21)}
    table = chi2_map(data, bkt, axes)
    assert list(table.columns) == ["sigma", "p_c", "chi2_nu"] and len(table) == 13 * 21
    row = table.iloc[57]
    assert row.chi2_nu == pytest.approx(chi2_nu(data, bkt, {"p_c": row.p_c, "sigma": row.sigma}))
    best = table.loc[table.chi2_nu.idxmin()]
    assert abs(best.p_c - 0.6) <= 0.04 and abs(best.sigma - 0.8) <= 0.2
    with pytest.raises(ValueError, match="other fitted"):
        chi2_map(data, BKTAnsatz(N_0=(1.0, 400.0)), axes)
    points = scaled_points(data, bkt, {"p_c": 0.6, "sigma": 0.8})
    assert points.x.is_monotonic_increasing and len(points) == data.n_points
    at_pc = points[np.isclose(points.p, 0.6)]
    assert np.allclose(at_pc.x, 0.0)


def test_extra_starts_reach_a_minimum_the_global_search_missed():
    """chi2_nu jumps where points swap order in x; a start in a lower basin must be kept."""
    bkt = BKTAnsatz()
    data = runs_data(bkt, {"p_c": 0.6, "sigma": 0.8}, SMALL_N, seed=3)
    # a search boxed away from the truth finds a worse minimum ...
    boxed = BKTAnsatz(p_c=(0.0, 0.3))
    plain = fit_collapse(data, boxed, seed=1)
    # ... which a start near the truth cannot beat inside the box, but an open ansatz can:
    table = chi2_map(data, bkt, {"sigma": np.linspace(0.2, 3, 29), "p_c": np.linspace(0, 1, 41)})
    lowest = table.loc[table.chi2_nu.idxmin()]
    start = {"sigma": lowest.sigma, "p_c": lowest.p_c}
    fit = fit_collapse(data, bkt, seed=1, starts=[start])
    assert fit.chi2_nu <= lowest.chi2_nu + 1e-12
    assert fit.chi2_nu < plain.chi2_nu
    inside = fit_collapse(data, boxed, seed=1, starts=[{"sigma": 0.8, "p_c": 0.3}])
    assert inside.chi2_nu <= plain.chi2_nu + 1e-12 and inside.params["p_c"] <= 0.3


def test_synthetic_noise_level():
    runs = synthetic_runs(BKTAnsatz(), {"p_c": 0.6, "sigma": 0.8}, P_EVAL, SMALL_N, seed=0)
    means = runs.groupby(["p", "N"]).value.agg(["mean", "sem"]).reset_index()
    relative = (means["sem"] / means["mean"]).groupby(means.p).mean()
    assert 0.003 < relative.iloc[0] < 0.02 and 0.02 < relative.iloc[-1] < 0.09


# --- Binder cumulant ------------------------------------------------------------------------


def test_binder_cumulant_known_values():
    rng = np.random.default_rng(0)
    gaussian = rng.normal(0.7, 0.05, size=(3, 200_000))
    assert binder_cumulant(gaussian) == pytest.approx(np.zeros(3), abs=0.01)
    assert binder_cumulant([0.2, 0.4] * 50) == pytest.approx(2 / 3)  # symmetric two-point
    q = 0.2  # two-point with weights q, 1 - q: U = 1 - ((1-q)^3 + q^3) / (3 q (1-q))
    two_point = np.array([1.0] * 20 + [0.0] * 80)
    assert binder_cumulant(two_point) == pytest.approx(
        1 - ((1 - q) ** 3 + q**3) / (3 * q * (1 - q))
    )
    assert binder_cumulant(rng.uniform(size=400_000)) == pytest.approx(0.4, abs=0.01)
    assert binder_cumulant(gaussian.T, axis=0).shape == (3,)
    assert binder_cumulant(gaussian[:, :1000], axis=None) == pytest.approx(0.0, abs=0.3)


def test_binder_over_runs_averages_each_networks_cumulant():
    rng = np.random.default_rng(0)
    two_point = np.array([0.2, 0.4] * 50)  # U = 2/3
    gaussian = rng.normal(0.5, 0.01, 100)  # U about 0
    shifted = two_point + 0.3  # the same shape elsewhere: a shift between runs does not enter
    samples = np.stack([two_point, shifted, gaussian, np.full(100, 0.7)])  # last: no spread
    mean, err, n_runs = binder_over_runs(samples, 200, np.random.default_rng(1))
    expected = np.mean([2 / 3, 2 / 3, binder_cumulant(gaussian)])
    assert n_runs == 3 and mean == pytest.approx(expected)
    assert 0.05 < err < 0.4  # one run of three differs: the mean moves with the resample
    assert binder_over_runs(samples[:2], 50, rng)[1] == pytest.approx(0.0, abs=1e-12)
    assert np.isnan(binder_over_runs(np.full((3, 5), 0.5), 50, rng)[0])
    assert np.isnan(binder_over_runs(samples[:1], 50, rng)[1])
    with pytest.raises(ValueError, match="shape"):
        binder_over_runs(two_point, 10, rng)


def test_binder_cumulant_rejects_degenerate_samples():
    with pytest.raises(ValueError, match="NaN"):
        binder_cumulant([0.1, np.nan, 0.3])
    with pytest.raises(ValueError, match="zero variance"):
        binder_cumulant([[0.5, 0.5], [0.1, 0.2]])
    with pytest.raises(ValueError, match="at least two"):
        binder_cumulant([0.5])


def test_region_extent_interpolates_to_the_contour_level():
    from prunephase.scaling.fit import _region_extent

    axis = np.array([0.0, 0.1, 0.2, 0.3, 0.4])
    chi = np.array([[4.0], [2.0], [1.0], [1.2], [3.0]])  # level 1.3: inside at 0.2 and 0.3
    region = chi <= 1.3
    low, high, touches = _region_extent(chi, region, axis, 0, 1.3)
    # from 0.2 (1.0) towards 0.1 (2.0): 1.3 is reached 0.3 of the way; 0.3 (1.2) to 0.4 (3.0): 1/18
    assert low == pytest.approx(0.2 - 0.03) and high == pytest.approx(0.3 + 0.1 / 18)
    assert not touches
    chi[0, 0] = 1.1
    region = _error_region(chi, {"p": axis, "q": np.array([0.0])}, np.array([0.2, 0.0]), 1.3)
    assert not region[0, 0]  # below the level, but apart from the minimum's region
    chi[1, 0] = 1.25
    assert _region_extent(chi, chi <= 1.3, axis, 0, 1.3)[2]  # now it reaches the first value
