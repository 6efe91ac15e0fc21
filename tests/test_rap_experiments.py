"""Disorder averages, the transition bisections, the finite-size and readings tables, the prefactor
of H, the annealing ladder, the teacher-student activations."""

import dataclasses

import numpy as np
import pandas as pd
import pytest

from prunephase.core.config import ConfigError, settings, validate_config
from prunephase.rap.activations import activation_probabilities
from prunephase.rap.analysis import (
    critical_summary,
    instance_mean,
    monotone_fraction,
    paired_difference,
)
from prunephase.rap.experiments import (
    LN2,
    beta_ladder,
    bp_fixed_points,
    critical_dilution,
    degree_histogram,
    dilution_sweep,
    disorder_average,
    finite_size_grid,
    finite_size_transitions,
    make_instance,
    reading_tables,
)
from prunephase.rap.settings import (
    BP,
    MC,
    Activations,
    Annealing,
    Critical,
    Degrees,
    FiniteSize,
    Model,
    Reading,
    Readings,
)

#: the schema's BP settings
BP_DEFAULT = settings(BP, validate_config({})["rap"]["bp"])
NETWORK = Model(construction="network", prefactor="1", xi="input")


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
        mc=MC(chains=2, relax_sweeps=20, sample_sweeps=60),
        model=NETWORK,
    )
    assert len(table) == 4
    assert table["ord_converged"].all()
    # columns are self-consistent: s = beta (e - f), and the equilibrium branch has the lower f
    for branch in ("ord", "rnd", "para", "exact", "eq"):
        np.testing.assert_allclose(
            table[f"{branch}_s"], 0.6 * (table[f"{branch}_e"] - table[f"{branch}_f"]), atol=1e-12
        )
    assert (table["eq_f"] <= table["para_f"] + 1e-12).all()
    assert (table["eq_gauge_f"] <= table["eq_f"] + 1e-12).all()  # gauge copies only lower f
    # the gauge copies: ln 2 of entropy per broken hidden unit, the same in f
    np.testing.assert_allclose(
        table["ord_s_gauge"] - table["ord_s"], LN2 * table["ord_gauge"] / table["n_weights"]
    )
    np.testing.assert_allclose(
        table["ord_f"] - table["ord_f_gauge"], LN2 * table["ord_gauge"] / (0.6 * table["n_weights"])
    )
    avg = disorder_average(table, ["q"])
    assert list(avg["q"]) == [0.3, 0.9]
    assert (avg["instances"] == 2).all()
    np.testing.assert_allclose(avg["alpha"], table.groupby("q")["alpha"].mean().to_numpy())
    assert {"mc_e", "mc_e_sem", "eq_ordered"} <= set(avg.columns)


def test_degree_histogram_counts_every_weight():
    table = degree_histogram(
        n=12,
        p1=0.5,
        p2=0.5,
        layer=1,
        degrees=Degrees(q=0.3, instances=2),
        root_seed=3,
        model=NETWORK,
    )
    assert set(table["population"]) == {1, 2, 3}
    assert table["fraction"].sum() == pytest.approx(1.0)
    # a W3 weight lies on more paths than a W1 weight (the three peaks)
    mean_degree = table.groupby("population").apply(
        lambda g: np.average(g["degree"], weights=g["count"]), include_groups=False
    )
    assert mean_degree[3] > mean_degree[2] and mean_degree[3] > mean_degree[1]


def test_critical_dilution_is_first_order_and_moves_with_temperature_and_p2():
    critical = Critical(
        p2=(0.2, 0.5), betas=(0.3, 1.0), q_min=0.0, q_max=0.9999, bisection_steps=10
    )
    table = critical_dilution(
        n=40,
        p1=0.5,
        layer=1,
        n_instances=2,
        root_seed=5,
        critical=critical,
        bp=dataclasses.replace(BP_DEFAULT, tol=1e-8),
        model=NETWORK,
    )
    assert table["ordered_at_q_min"].all()
    assert (table["not_converged"] == 0).all()
    assert (table["q_spinodal"] >= table["q_c_lo"]).all()
    # counting the gauge copies lowers the ordered free energy: it wins longer, not past its end
    assert (table["q_c_gauge_hi"] >= table["q_c_lo"]).all()
    assert (table["q_c_gauge_lo"] <= table["q_spinodal_hi"]).all()
    assert (table["s_jump"] > 0).all()  # entropy jumps up into the paramagnet
    assert (table["s_jump_gauge"] < table["s_jump"] + 1e-12).all()
    assert (table["two_input_units"] >= 1).all()  # loops are left where the ordered branch wins
    summary = critical_summary(table)
    assert monotone_fraction(summary, "q_c", along="beta", within="p2") == 1.0
    assert monotone_fraction(summary, "q_c", along="p2", within="beta") == 1.0


def test_a_prefactor_is_a_rescaled_temperature():
    """H with prefactor J = 1/N at beta is H at beta J, with energies and free energies times J."""
    scaled_model = Model(construction="network", prefactor="1/N", xi="input")
    inst = make_instance(n=12, p1=0.5, p2=0.5, layer=1, q=0.3, root_seed=2, index=0, model=NETWORK)
    beta, j = 6.0, 1.0 / 12
    plain = bp_fixed_points(inst, beta * j, BP_DEFAULT, np.random.default_rng(0), coupling=1.0)
    scaled = bp_fixed_points(
        inst, beta, BP_DEFAULT, np.random.default_rng(0), coupling=scaled_model.coupling(12)
    )
    for key in ("ord_f", "ord_e", "para_f", "eq_e"):
        assert scaled[key] == pytest.approx(j * plain[key], rel=1e-12)
    for key in ("ord_s", "para_s", "ord_q"):
        assert scaled[key] == pytest.approx(plain[key], rel=1e-12)
    assert Model(construction="network", prefactor="1/sqrt(N)", xi="input").coupling(16) == 0.25


def test_the_finite_size_tables():
    study = FiniteSize(
        n=(10, 16), instances=2, q_min=0.5, bisection_steps=6, x=(0.5, 3.0), exact_n=(40,)
    )
    common = {
        "p1": 0.5,
        "p2": 0.4,
        "layer": 1,
        "beta": 0.5,
        "root_seed": 3,
        "bp": BP_DEFAULT,
        "model": NETWORK,
        "finite_size": study,
    }
    transitions = finite_size_transitions(**common, q_max=0.9999)
    assert len(transitions) == 4 and set(transitions["n"]) == {10, 16}
    assert transitions["q_c"].between(0.5, 1).all()
    grid = finite_size_grid(**common)
    assert set(grid["n"]) == {10, 16, 40}
    exact_only = grid[grid["exact_only"]]
    assert exact_only["eq_f"].isna().all() and exact_only["exact_f"].notna().all()
    # the exact solution from the block sizes alone equals that of the built instances
    built = finite_size_grid(
        **common | {"finite_size": dataclasses.replace(study, n=(40,), exact_n=())}
    )
    merged = exact_only.merge(built, on=["n", "x", "instance"], suffixes=("", "_built"))
    np.testing.assert_allclose(merged["exact_f"], merged["exact_f_built"], atol=1e-12)
    np.testing.assert_allclose(np.asarray(grid["q"]), 1 - grid["x"] / grid["n"])
    # the gauged ferromagnet's Bethe free energy bounds the exact one from above (Ruozzi 2012)
    built = grid[~grid["exact_only"]]
    assert built["gauged_converged"].all()
    assert (built["gauged_f"] >= built["exact_f"] - 1e-10).all()


def test_a_reading_table_holds_its_three_tables():
    readings = Readings(
        models=(
            Reading(name="frustrated", construction="network", prefactor="1", xi="path", beta=0.5),
        ),
        n=(8, 10),
        instances=2,
        q=(0.0, 0.9),
        p2=(0.3, 0.6),
        betas=(0.5, 1.0),
        bisection_steps=3,
        max_iter=50,
    )
    tables = reading_tables(
        index=0,
        p1=0.5,
        p2=0.3,
        degrees=Degrees(q=0.5, instances=1),
        readings=readings,
        q_min=0.0,
        q_max=0.9999,
        root_seed=1,
        bp=BP_DEFAULT,
        mc=MC(chains=2, relax_sweeps=5, sample_sweeps=10),
    )
    assert set(tables) == {"degrees", "dilution", "critical"}
    for table in tables.values():
        assert (table["reading"] == "frustrated").all() and (table["xi"] == "path").all()
    assert set(tables["dilution"]["layer"]) == {1, 2}
    assert set(tables["critical"]["n"]) == {8, 10} and len(tables["critical"]) == 2 * 2 * 2 * 2
    assert (tables["dilution"]["ord_iterations"] <= 50).all()  # readings.max_iter


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


def test_a_missing_exact_value_leaves_the_paired_difference_and_blanks_the_mean():
    """An instance without the exact solution drops out of the paired difference (and of its
    error), while a mean over instances is NaN there rather than a mean of the others."""
    frame = pd.DataFrame(
        {
            "q": [0.1, 0.1, 0.1, 0.5, 0.5],
            "instance": [0, 1, 2, 0, 1],
            "a": [1.2, 1.3, 5.0, 2.0, 2.2],
            "b": [1.0, 1.0, np.nan, 1.5, 1.5],
            "se": [0.03, 0.03, 0.5, 0.04, 0.04],
        }
    )
    out = paired_difference(frame, "a", "b", se="se").set_index("q")
    assert out.loc[0.1, "diff"] == pytest.approx(0.25) and out.loc[0.1, "instances"] == 2
    assert out.loc[0.1, "diff_se"] == pytest.approx(0.03 * np.sqrt(2.0) / 2)
    mean = instance_mean(frame, ["q"]).set_index("q")
    assert np.isnan(mean.loc[0.1, "b"]) and mean.loc[0.5, "b"] == pytest.approx(1.5)
    assert mean.loc[0.1, "a"] == pytest.approx(2.5)
    avg = disorder_average(frame, ["q"]).set_index("q")
    assert np.isnan(avg.loc[0.1, "b"]) and avg.loc[0.5, "b"] == pytest.approx(1.5)


def test_beta_ladder_and_the_check_of_its_ends():
    annealing = Annealing(
        q=0.9,
        beta_start=0.1,
        beta_end=2.0,
        temperatures=5,
        sweeps_per_temperature=(1,),
        instances=1,
    )
    np.testing.assert_allclose(beta_ladder(annealing), np.linspace(0.1, 2.0, 5))
    # the ends are checked with the config, before any job starts
    with pytest.raises(ConfigError, match=r"rap\.annealing\.beta_start"):
        validate_config({"rap": {"annealing": {"beta_start": 2.0, "beta_end": 1.0}}})


def activations(**changes) -> Activations:
    base = Activations(
        width=20,
        bias=True,
        train_samples=300,
        test_samples=200,
        epochs=2,
        batch_size=50,
        lr=1e-3,
        betas=(0.9, 0.999),
        eps=1e-8,
        trials=2,
    )
    return dataclasses.replace(base, **changes)


def test_activation_probabilities_are_reproducible_and_biases_free_layer_one():
    options = activations()
    a = activation_probabilities(options, 3)
    b = activation_probabilities(options, 3)
    pd.testing.assert_frame_equal(a, b)
    assert list(a.columns) == ["trial", "epoch", "p_layer1", "p_layer2", "test_error", "train_loss"]
    assert a["p_layer1"].between(0, 1).all() and a["p_layer2"].between(0, 1).all()
    first, last = a[a["epoch"] == 0], a[a["epoch"] == 2]
    assert (last["train_loss"].to_numpy() > 0).all() and first["train_loss"].isna().all()
    # without biases, inputs +-1 make the first layer's pre-activations symmetric: p1 = 1/2 up to
    # the sampling of the test inputs; with biases p1 is free to move away from it
    plain = activation_probabilities(activations(bias=False, trials=4), 3)
    assert (plain["p_layer1"] - 0.5).abs().max() < 0.03
    free = activation_probabilities(activations(trials=4), 3)
    assert (free["p_layer1"] - 0.5).abs().max() > 2 * (plain["p_layer1"] - 0.5).abs().max()


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
