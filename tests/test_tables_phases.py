"""Aggregation over runs and masks, the power-law fit of <L_CE>(N), and the phases."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from prunephase.dropout_phases.phases import alpha_ce_table, classify, fit_power_law
from prunephase.dropout_phases.tables import SUMMARY_COLUMNS, per_run, summarise


def _per_mask(values):
    """A per-mask table from {(N, p_train, p_eval, run): [ce of each mask]}."""
    rows = []
    for (n, p_train, p_eval, run), ces in values.items():
        for mask, ce in enumerate(ces):
            rows.append(dict(width=8, depth=1, N=n, train_fraction=1.0, p_train=p_train,
                             p_eval=p_eval, run=run, mask=mask, accuracy=1 / (1 + ce),
                             cross_entropy=ce))  # fmt: skip
    return pd.DataFrame(rows)


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


def test_classify_thresholds():
    phases = classify(np.array([0.3, -0.3, 0.3, 0.01]), np.array([0.1, 0.1, 0.2, 0.001]), 2.0, 0.02)
    assert phases.tolist() == ["eumentia", "dementia", "amentia", "amentia"]


def test_alpha_and_phases_recovered_from_noisy_runs():
    rng = np.random.default_rng(0)
    sizes = [500, 1000, 2000, 4000, 8000]
    truth = {0.1: 0.35, 0.5: 0.0, 0.9: -0.25}  # p_eval -> alpha
    values = {}
    for n in sizes:
        for p_eval, alpha in truth.items():
            for run in range(8):
                ce = 2.0 * n ** (-alpha) * np.exp(rng.normal(0, 0.03))
                values[(n, 0.2, p_eval, run)] = [ce * (1 + rng.normal(0, 0.01)) for _ in range(5)]
    table = alpha_ce_table(
        per_run(_per_mask(values)), n_bootstrap=300, n_se=2.0, min_alpha=0.02, seed=1
    )
    for p_eval, alpha in truth.items():
        row = table[table["p_eval"] == p_eval].iloc[0]
        assert abs(row["alpha_ce"] - alpha) < 3 * row["alpha_ce_err"] + 1e-3
        assert 0.001 < row["alpha_ce_err"] < 0.05
        assert row["phase"] == {0.35: "eumentia", 0.0: "amentia", -0.25: "dementia"}[alpha]


def test_incomplete_grid_is_an_error():
    values = {(n, 0.0, 0.5, r): [1.0 + r] for n in (100, 200, 400) for r in range(2)}
    del values[(200, 0.0, 0.5, 1)]
    with pytest.raises(ValueError, match="incomplete"):
        alpha_ce_table(per_run(_per_mask(values)), n_bootstrap=10, n_se=2.0, min_alpha=0.02, seed=0)
