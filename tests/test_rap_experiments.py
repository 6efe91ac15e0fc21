"""Disorder averages, the q_c bisection, the annealing ladder, the teacher-student activations."""

import dataclasses

import numpy as np
import pandas as pd
import pytest

from prunephase.core.config import ConfigError, settings, validate_config
from prunephase.rap.activations import activation_probabilities
from prunephase.rap.analysis import critical_summary, monotone_fraction, paired_difference
from prunephase.rap.experiments import (
    beta_ladder,
    critical_dilution,
    degree_histogram,
    dilution_sweep,
    disorder_average,
)
from prunephase.rap.settings import BP, MC, Activations, Annealing, Critical, Degrees

#: the schema's BP settings
BP_DEFAULT = settings(BP, validate_config({})["rap"]["bp"])


def test_dilution_sweep_rows_and_averages():
    table = dilution_sweep(
        n=16,
        p1=0.5,
        p2=0.4,
        layer=1,
        q_values=[0.3, 0.9],
        beta=0.6,
        n_instances=2,
        root_seed=1,
        bp=BP_DEFAULT,
        mc=MC(relax_sweeps=20, sample_sweeps=60, batches=10),
    )
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
    table = degree_histogram(
        n=12, p1=0.5, p2=0.5, layer=1, degrees=Degrees(q=0.3, instances=2), root_seed=3
    )
    assert set(table["population"]) == {1, 2, 3}
    assert table["fraction"].sum() == pytest.approx(1.0)
    # a W3 weight lies on more paths than a W1 weight (the three peaks)
    mean_degree = table.groupby("population").apply(
        lambda g: np.average(g["degree"], weights=g["count"]), include_groups=False
    )
    assert mean_degree[3] > mean_degree[2] and mean_degree[3] > mean_degree[1]


def test_critical_dilution_is_first_order_and_moves_with_temperature_and_p2():
    critical = Critical(p2=(0.2, 0.5), betas=(0.3, 1.0), q_min=0.0, q_max=0.9999,
                        bisection_steps=10)  # fmt: skip
    table = critical_dilution(
        n=40,
        p1=0.5,
        layer=1,
        n_instances=2,
        root_seed=5,
        critical=critical,
        bp=dataclasses.replace(BP_DEFAULT, tol=1e-8),
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


def test_beta_ladder_and_the_check_of_its_ends():
    annealing = Annealing(q=0.9, beta_start=0.1, beta_end=2.0, temperatures=5,
                          sweeps_per_temperature=(1,), instances=1)  # fmt: skip
    np.testing.assert_allclose(beta_ladder(annealing), np.linspace(0.1, 2.0, 5))
    # the ends are checked with the config, before any job starts
    with pytest.raises(ConfigError, match=r"rap\.annealing\.beta_start"):
        validate_config({"rap": {"annealing": {"beta_start": 2.0, "beta_end": 1.0}}})


def activations(**changes) -> Activations:
    base = Activations(width=20, train_samples=300, test_samples=200, epochs=2, batch_size=50,
                       lr=1e-3, betas=(0.9, 0.999), eps=1e-8, trials=2)  # fmt: skip
    return dataclasses.replace(base, **changes)


def test_activation_probabilities_are_reproducible_and_layer_one_sits_at_one_half():
    options = activations()
    a = activation_probabilities(options, 3)
    b = activation_probabilities(options, 3)
    pd.testing.assert_frame_equal(a, b)
    assert list(a.columns) == ["trial", "epoch", "p_layer1", "p_layer2", "test_error", "train_loss"]
    assert a["p_layer1"].between(0.4, 0.6).all()  # symmetric +-1 inputs, no bias
    assert a["p_layer2"].between(0, 1).all()
    first, last = a[a["epoch"] == 0], a[a["epoch"] == 2]
    assert (last["train_loss"].to_numpy() > 0).all() and first["train_loss"].isna().all()


def test_a_trial_does_not_depend_on_the_other_trials():
    """Trial k has its own teacher, inputs and student (stream (ACTIVATIONS, k)), and trains on its
    own examples only: trial 0 of three trials is trial 0 run alone."""
    alone = activation_probabilities(activations(trials=1), 4)
    together = activation_probabilities(activations(trials=3), 4)
    first = together[together["trial"] == 0].reset_index(drop=True)
    pd.testing.assert_frame_equal(first, alone)
    # and the trials differ: other teachers, other data
    start = together[together["epoch"] == 0].set_index("trial")
    assert start["test_error"].nunique() == 3
