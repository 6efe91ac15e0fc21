"""Aggregation over runs and masks, the power-law fit of <L_CE>(N), the labels, the crossings, the
collapses around them and the Binder cumulants of paper A."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from prunephase.core.config import settings, validate_config
from prunephase.dropout_phases.criticality import (
    BINDER_COLUMNS,
    COLLAPSE_COLUMNS,
    MAP_COLUMNS,
    SENSITIVITY_COLUMNS,
    binder_table,
    collapse_fits,
    sensitivity_table,
)
from prunephase.dropout_phases.phases import (
    ALPHA_COLUMNS,
    CROSSING_COLUMNS,
    PhaseRule,
    alpha_ce_tables,
    classify,
    fit_power_law,
)
from prunephase.dropout_phases.settings import Collapse, problems
from prunephase.dropout_phases.tables import SUMMARY_COLUMNS, per_run, summarise
from prunephase.scaling import BKTAnsatz, synthetic_runs

RULE = PhaseRule(n_se=2.0, min_alpha=0.02, amentia_accuracy=0.5)
SIZES = [500, 1000, 2000, 4000, 8000]


def _per_mask(values):
    """A per-mask table from {(N, p_train, p_eval, run): [ce of each mask]}."""
    rows = []
    for (n, p_train, p_eval, run), ces in values.items():
        for mask, ce in enumerate(ces):
            rows.append(dict(width=8, depth=1, N=n, train_fraction=1.0, p_train=p_train,
                             p_eval=p_eval, run=run, mask=mask, accuracy=1 / (1 + ce),
                             cross_entropy=ce))  # fmt: skip
    return pd.DataFrame(rows)


def _noisy_runs(truth, rng, runs=8, masks=5, prefactor=2.0, noise=0.03):
    """{(N, p_train, p_eval, run): masks} with <L_CE> = prefactor N^-alpha, alpha = truth[(p_train,
    p_eval)]."""
    values = {}
    for n in SIZES:
        for (p_train, p_eval), alpha in truth.items():
            for run in range(runs):
                ce = prefactor * n ** (-alpha) * np.exp(rng.normal(0, noise))
                values[(n, p_train, p_eval, run)] = [ce * (1 + rng.normal(0, 0.01))
                                                     for _ in range(masks)]  # fmt: skip
    return values


def test_mean_over_runs_and_masks_sem_over_runs():
    table = _per_mask({(100, 0.0, 0.5, 0): [1.0, 2.0, 3.0], (100, 0.0, 0.5, 1): [4.0, 4.0, 4.0],
                       (100, 0.0, 0.5, 2): [0.0, 1.0, 2.0]})  # fmt: skip
    summary = summarise(per_run(table))
    assert list(summary.columns) == SUMMARY_COLUMNS
    row = summary.iloc[0]
    run_means = np.array([2.0, 4.0, 1.0])
    assert row["ce_mean"] == pytest.approx(run_means.mean())
    assert row["ce_sem"] == pytest.approx(run_means.std(ddof=1) / np.sqrt(3))
    assert (row["n_runs"], row["n_masks"]) == (3, 3)


def test_power_law_fit_is_exact_on_a_power_law():
    n = np.array([500, 1000, 2000, 4000, 8000])
    y = np.stack([3.0 * n**-0.4, 0.5 * n**0.1])
    alpha, log_c, se = fit_power_law(n, y)
    np.testing.assert_allclose(alpha, [0.4, -0.1])
    np.testing.assert_allclose(log_c, np.log([3.0, 0.5]))
    np.testing.assert_allclose(se, 0, atol=1e-12)


def test_classify_labels_learnt_and_unlearnt_networks():
    alpha = np.array([0.3, -0.3, 0.3, 0.01, 0.3, 0.01, 0.3, -0.3])
    err = np.array([0.1, 0.1, 0.2, 0.001, 0.2, 0.001, 0.01, 0.01])
    learnt = np.array([True, True, True, True, False, False, False, False])
    # a network that did not learn is amentia even where its alpha_CE is significant
    assert classify(alpha, err, learnt, RULE).tolist() == [
        "eumentia", "dementia", "boundary", "boundary", "amentia", "amentia", "amentia", "amentia",
    ]  # fmt: skip


def test_alpha_labels_and_crossing_recovered_from_noisy_runs():
    rng = np.random.default_rng(0)
    p_eval = [0.0, 0.2, 0.4, 0.6, 0.8]
    # p_train 0.2 learns: alpha falls linearly from +0.4 to -0.4 with p_eval, zero at 0.4;
    # p_train 0.9 does not learn: alpha = 0 everywhere
    truth = {(0.2, p): 0.4 - 1.0 * p for p in p_eval} | {(0.9, p): 0.0 for p in p_eval}
    values = _noisy_runs(truth, rng)
    alpha, crossings = alpha_ce_tables(
        per_run(_per_mask(values)), n_bootstrap=300, local_sizes=3, rule=RULE, seed=1
    )
    assert list(alpha.columns) == ALPHA_COLUMNS and list(crossings.columns) == CROSSING_COLUMNS
    for (p_train, p_e), a in truth.items():
        row = alpha[(alpha.p_train == p_train) & (alpha.p_eval == p_e)].iloc[0]
        assert abs(row.alpha_ce - a) < 3 * row.alpha_ce_err + 1e-3
        assert abs(row.alpha_local - a) < 3 * row.alpha_local_err + 1e-3
        assert 0.001 < row.alpha_ce_err < 0.05 and row.alpha_local_err > row.alpha_ce_err
        if p_train == 0.9:
            expected = "amentia"
        else:
            expected = "eumentia" if a > 0.1 else "dementia" if a < -0.1 else "boundary"
        assert row.phase == expected, (p_train, p_e)
    assert alpha[alpha.p_train == 0.2].learnt.all() and not alpha[alpha.p_train == 0.9].learnt.any()
    learns = crossings[crossings.p_train == 0.2].iloc[0]
    assert learns.transition and abs(learns.p_cross - 0.4) < 0.02
    assert 0 < learns.p_cross_err < 0.02 and learns.found > 0.9
    flat = crossings[crossings.p_train == 0.9].iloc[0]
    assert not flat.transition and np.isnan(flat.p_cross) and np.isnan(flat.p_cross_err)


def test_local_exponent_sees_the_largest_sizes_only():
    # <L> grows like N^0.3 up to N = 2000, then falls like N^-0.2: alpha_local = +0.2
    ce = {n: (n / 2000) ** (0.3 if n <= 2000 else -0.2) for n in SIZES}
    values = {(n, 0.0, p, r): [ce[n] * (1 + 0.01 * r) * (1 + 0.5 * p)]
              for n in SIZES for p in (0.0, 0.5) for r in range(3)}  # fmt: skip
    alpha, _ = alpha_ce_tables(per_run(_per_mask(values)), n_bootstrap=20, local_sizes=3,
                               rule=RULE, seed=0)  # fmt: skip
    np.testing.assert_allclose(alpha.alpha_local, 0.2, atol=1e-9)
    assert (alpha.alpha_ce < 0.1).all()


def test_incomplete_grid_is_an_error():
    values = {
        (n, 0.0, p, r): [1.0 + r] for n in (100, 200, 400) for r in range(2) for p in (0.0, 0.5)
    }
    del values[(200, 0.0, 0.5, 1)]
    with pytest.raises(ValueError, match="incomplete"):
        alpha_ce_tables(
            per_run(_per_mask(values)), n_bootstrap=10, local_sizes=2, rule=RULE, seed=0
        )


def _collapse_settings(**changes) -> Collapse:
    base = {
        "bkt": {"p_c": [0, 1], "sigma": [0.2, 3], "N_0": [1, 400], "Delta": 0},
        "power_law": {"p_c": [0, 1], "nu": [0.2, 10], "Delta": 0},
        "half_width": 0.25, "bootstrap": 4, "contour_factor": 1.3, "p_c_step": 0.005,
        "sensitivity": {"half_widths": [0.2, 0.3], "N_0": [[1, 400], 100]},
    }  # fmt: skip
    return settings(Collapse, base | changes)


def _bkt_per_run(p_c: float, p_train: float, seed: int) -> pd.DataFrame:
    p_eval = np.round(np.arange(0, 0.951, 0.05), 2)
    runs = synthetic_runs(BKTAnsatz(), {"p_c": p_c, "sigma": 0.8}, p_eval, SIZES, seed=seed)
    return pd.DataFrame({"width": 8, "depth": 1, "N": runs.N.astype(int), "train_fraction": 1.0,
                         "p_train": p_train, "p_eval": runs.p, "run": runs.run,
                         "cross_entropy": runs.value, "accuracy": 0.9})  # fmt: skip


def test_collapses_only_where_alpha_crosses_zero():
    runs = pd.concat([_bkt_per_run(0.6, 0.1, 0), _bkt_per_run(0.6, 0.3, 1)], ignore_index=True)
    flat = _bkt_per_run(0.6, 0.5, 2).assign(
        cross_entropy=lambda f: 1.0 + 0.01 * f.run + 0.1 * f.p_eval
    )
    runs = pd.concat([runs, flat], ignore_index=True)
    _, crossings = alpha_ce_tables(runs, n_bootstrap=100, local_sizes=3, rule=RULE, seed=0)
    assert crossings.set_index("p_train").transition.to_dict() == {0.1: True, 0.3: True, 0.5: False}
    fits, maps = collapse_fits(runs, crossings, _collapse_settings(), seed=3)
    assert list(fits.columns) == COLLAPSE_COLUMNS and list(maps.columns) == MAP_COLUMNS
    assert sorted(set(fits.p_train)) == [0.1, 0.3] and len(fits) == 4
    for _, row in fits.iterrows():
        assert (
            row.window_low >= row.p_cross - 0.25 - 1e-9
            and row.window_high <= row.p_cross + 0.25 + 1e-9
        )
        assert row.n_points == len(SIZES) * round((row.window_high - row.window_low) / 0.05 + 1)
        assert row.window_low - 1e-9 <= row.p_c <= row.window_high + 1e-9
        assert abs(row.p_c - 0.6) < 0.03
    bkt = fits[fits.ansatz == "bkt"]
    assert bkt.N_0.between(1, 400).all() and bkt.N_0_err.notna().all()
    assert (fits[fits.ansatz == "power_law"].N_0.isna()).all()
    assert maps.groupby("p_train").inside.any().all()
    # the sensitivity table: both ansatzes at every window, the BKT one for every N_0 setting
    table = sensitivity_table(runs, crossings, _collapse_settings(), width=8, depth=1, p_train=0.1,
                              half_widths=[0.2, 0.3], n_0=[[1, 400], 100], seed=0)  # fmt: skip
    assert list(table.columns) == SENSITIVITY_COLUMNS and len(table) == 2 * 3
    assert set(table.N_0_setting) == {"-", "fitted in [1, 400]", "fixed at 100"}
    assert (table[table.N_0_setting == "fixed at 100"].N_0 == 100).all()
    empty = sensitivity_table(runs, crossings, _collapse_settings(), width=8, depth=1, p_train=0.5,
                              half_widths=[0.2], n_0=[100], seed=0)  # fmt: skip
    assert empty.empty and list(empty.columns) == SENSITIVITY_COLUMNS


def test_binder_cumulant_per_network_averaged_over_runs():
    # run 0: masks split between two accuracies (U = 2/3); run 1: the same shape, shifted; run 2:
    # no spread (no U)
    rows = []
    for run, accuracies in enumerate([[0.2, 0.4] * 5, [0.5, 0.7] * 5, [0.9] * 10]):
        for mask, a in enumerate(accuracies):
            rows.append(dict(width=8, depth=1, N=100, train_fraction=1.0, p_train=0.0, p_eval=0.5,
                             run=run, mask=mask, accuracy=a, cross_entropy=1.0))  # fmt: skip
    table = binder_table(pd.DataFrame(rows), n_bootstrap=50, seed=0)
    assert list(table.columns) == BINDER_COLUMNS
    row = table.iloc[0]
    assert row.binder == pytest.approx(2 / 3) and row.binder_err == pytest.approx(0, abs=1e-12)
    assert (row.n_runs, row.n_masks) == (2, 10)
    assert row.acc_mean == pytest.approx(np.mean([0.3, 0.6, 0.9]))


def test_config_problems_name_their_keys():
    dp = validate_config({"dropout_phases": {"n_train": [500, 1000]}})["dropout_phases"]
    found = problems(dp)
    assert any("'dropout_phases.analysis.collapse.bkt.N_0'" in p for p in found)
    assert any("'dropout_phases.analysis.collapse.sensitivity.N_0[3]'" in p for p in found)
    assert any("'dropout_phases.analysis.local_sizes'" in p for p in found)
    dp = validate_config({"dropout_phases": {"analysis": {"collapse": {"half_width": 0.01}}}})
    assert any(
        "'dropout_phases.analysis.collapse.half_width'" in p for p in problems(dp["dropout_phases"])
    )
    assert problems(validate_config({})["dropout_phases"]) == []


def test_reference_cpu_config_is_the_main_architecture_at_the_papers_training_rule():
    from conftest import REPO

    from prunephase.core.config import load_config
    from prunephase.dropout_phases.settings import DropoutPhases

    config = load_config(REPO / "config.yaml", REPO / "config" / "reference_cpu.yaml")
    dp = settings(DropoutPhases, config["dropout_phases"])
    paper = settings(DropoutPhases, load_config(REPO / "config" / "paper.yaml")["dropout_phases"])
    assert dp.architectures == paper.architectures[:1]
    assert dp.n_train == paper.n_train and dp.training.epochs == paper.training.epochs
    assert dp.training.min_steps == paper.training.min_steps
    assert dp.analysis.collapse.bkt == paper.analysis.collapse.bkt
    assert dp.analysis.collapse.sensitivity == paper.analysis.collapse.sensitivity
    assert dp.figures.focus_p_train in dp.p_train and dp.runs >= 3
    assert problems(config["dropout_phases"]) == []
