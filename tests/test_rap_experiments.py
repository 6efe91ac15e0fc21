"""Disorder averages, the q_c bisection, the annealing ladder, the teacher-student activations."""

import numpy as np
import pandas as pd
import pytest

from prunephase.rap.activations import TrainingOptions, activation_probabilities
from prunephase.rap.analysis import critical_summary, monotone_fraction, paired_difference
from prunephase.rap.experiments import (
    BPOptions,
    MCOptions,
    beta_ladder,
    critical_dilution,
    degree_histogram,
    dilution_sweep,
    disorder_average,
)


def test_dilution_sweep_rows_and_averages():
    table = dilution_sweep(16, 0.5, 0.4, 1, [0.3, 0.9], 0.6, 2, 1, BPOptions(), MCOptions(20, 60))
    assert len(table) == 4
    assert table["ord_converged"].all()
    # columns are self-consistent: s = beta (e - f), and the equilibrium branch has the lower f
    for branch in ("ord", "para", "exact", "eq"):
        np.testing.assert_allclose(
            table[f"{branch}_s"], 0.6 * (table[f"{branch}_e"] - table[f"{branch}_f"]), atol=1e-12
        )
    assert (table["eq_f"] <= table["para_f"] + 1e-12).all()
    avg = disorder_average(table, ["q"])
    assert list(avg["q"]) == [0.3, 0.9]
    assert (avg["instances"] == 2).all()
    np.testing.assert_allclose(avg["alpha"], table.groupby("q")["alpha"].mean().to_numpy())
    assert {"mc_e", "mc_e_sem", "eq_ordered"} <= set(avg.columns)


def test_degree_histogram_counts_every_weight():
    table = degree_histogram(12, 0.5, 0.5, 1, 0.3, 2, 3)
    assert set(table["population"]) == {1, 2, 3}
    assert table["fraction"].sum() == pytest.approx(1.0)
    # a W3 weight lies on more paths than a W1 weight (the three peaks)
    mean_degree = table.groupby("population").apply(
        lambda g: np.average(g["degree"], weights=g["count"]), include_groups=False
    )
    assert mean_degree[3] > mean_degree[2] and mean_degree[3] > mean_degree[1]


def test_critical_dilution_is_first_order_and_moves_with_temperature_and_p2():
    table = critical_dilution(
        40, 0.5, [0.2, 0.5], 1, [0.3, 1.0], 2, 5, BPOptions(tol=1e-8), steps=10
    )
    assert table["ordered_at_q_min"].all()
    assert (table["not_converged"] == 0).all()
    assert (table["q_spinodal"] >= table["q_c_lo"]).all()
    assert (table["s_jump"] > 0).all()  # entropy jumps up into the paramagnet
    summary = critical_summary(table)
    assert monotone_fraction(summary, "q_c", along="beta", within="p2") == 1.0
    assert monotone_fraction(summary, "q_c", along="p2", within="beta") == 1.0


def test_paired_difference_errors():
    frame = pd.DataFrame({"q": [0.1] * 3, "a": [1.2, 1.3, 1.1], "b": [1.0] * 3, "se": [0.03] * 3})
    out = paired_difference(frame, "a", "b", se="se").iloc[0]
    assert out["diff"] == pytest.approx(0.2)
    assert out["diff_se"] == pytest.approx(0.03 * np.sqrt(3.0) / 3)  # the propagated MC error
    assert out["spread_se"] == pytest.approx(0.1 / np.sqrt(3.0))
    assert not out["agree"]
    plain = paired_difference(frame, "a", "b").iloc[0]
    assert plain["diff_se"] == pytest.approx(plain["spread_se"])
    assert plain["z"] == pytest.approx(0.2 / (0.1 / np.sqrt(3.0)))


def test_beta_ladder_checks_its_ends():
    ladder = beta_ladder({"beta_start": 0.1, "beta_end": 2.0, "temperatures": 5})
    np.testing.assert_allclose(ladder, np.linspace(0.1, 2.0, 5))
    with pytest.raises(ValueError, match="rap.annealing"):
        beta_ladder({"beta_start": 2.0, "beta_end": 1.0, "temperatures": 5})


def test_activation_probabilities_are_reproducible_and_layer_one_sits_at_one_half():
    options = TrainingOptions(
        width=20, train_samples=300, test_samples=200, epochs=2, batch_size=50
    )
    a = activation_probabilities(options, 2, 3)
    b = activation_probabilities(options, 2, 3)
    pd.testing.assert_frame_equal(a, b)
    assert list(a.columns) == ["trial", "epoch", "p_layer1", "p_layer2", "test_error", "train_loss"]
    assert a["p_layer1"].between(0.4, 0.6).all()  # symmetric +-1 inputs, no bias
    assert a["p_layer2"].between(0, 1).all()
    first, last = a[a["epoch"] == 0], a[a["epoch"] == 2]
    assert (last["train_loss"].to_numpy() > 0).all() and first["train_loss"].isna().all()
