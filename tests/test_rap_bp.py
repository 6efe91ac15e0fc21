"""Belief propagation: the vectorised iteration, the Bethe thermodynamics and the closed forms."""

import numpy as np
import pytest

from prunephase.rap.bp import (
    bp_step,
    bp_step_loop,
    initial_messages,
    paramagnetic,
    run_bp,
    thermodynamics,
)
from prunephase.rap.exact import block_thermodynamics, enumerate_thermodynamics
from prunephase.rap.instance import build_instance, dilution, factor_graph


@pytest.fixture(scope="module")
def medium():
    return build_instance(14, 0.5, 0.4, dilution(1, 0.5), 2)


def test_vectorised_step_equals_the_per_edge_loop(medium):
    m = initial_messages(medium, "random", np.random.default_rng(0))
    looped, loop_residual = bp_step_loop(medium, m, 0.8, damping=0.3)
    vectorised = m.copy()
    residual = bp_step(medium, vectorised, 0.8, damping=0.3)
    np.testing.assert_allclose(vectorised, looped, rtol=0, atol=1e-13)
    assert residual == pytest.approx(loop_residual, abs=1e-13)


def test_paramagnetic_fixed_point_reproduces_the_closed_forms():
    # high dilution and temperature: a random start flows to m = 0
    inst = build_instance(40, 0.5, 0.3, dilution(1, 0.995), 4)
    beta = 0.4
    result = run_bp(
        inst,
        beta,
        initial_messages(inst, "random", np.random.default_rng(1)),
        damping=0.5,
        tol=1e-13,
        max_iter=5000,
    )
    assert result.converged
    thermo = thermodynamics(inst, result.m, beta)
    closed = paramagnetic(inst.alpha, beta)
    assert thermo["q"] < 1e-20
    for key in ("f", "e", "s"):
        assert thermo[key] == pytest.approx(float(closed[key]), abs=1e-10)


def test_bp_is_exact_on_a_tree():
    # a tree of 3-body factors: BP must give the exact free energy and energy
    paths = [[0, 1, 2], [2, 3, 4], [4, 5, 6], [1, 7, 8], [8, 9, 10], [6, 11, 12]]
    xi = [1, -1, 1, 1, -1, -1]
    tree = factor_graph(paths, xi, 13)
    for beta in (0.3, 1.0, 2.5):
        for start in ("random", "polarised"):
            m0 = initial_messages(tree, start, np.random.default_rng(3), polarisation=0.5)
            result = run_bp(tree, beta, m0, damping=0.0, tol=1e-14, max_iter=2000)
            assert result.converged
            bp = thermodynamics(tree, result.m, beta)
            exact = enumerate_thermodynamics(tree, beta)
            for key in ("f", "e", "s"):
                assert bp[key] == pytest.approx(exact[key], abs=1e-10)


def test_energy_is_the_beta_derivative_of_the_bethe_free_energy(medium):
    # at a fixed point, e = d(beta f)/d beta (stationarity of the Bethe functional)
    beta, h = 0.9, 1e-5
    m0 = initial_messages(medium, "polarised", polarisation=0.5)
    values = {}
    for b in (beta - h, beta, beta + h):
        result = run_bp(medium, b, m0, damping=0.5, tol=1e-14, max_iter=5000)
        assert result.converged
        values[b] = thermodynamics(medium, result.m, b)
    derivative = ((beta + h) * values[beta + h]["f"] - (beta - h) * values[beta - h]["f"]) / (2 * h)
    assert values[beta]["q"] > 0.5  # the ordered fixed point
    assert values[beta]["e"] == pytest.approx(derivative, abs=1e-7)


def test_ordered_energy_matches_the_exact_solution_deep_in_the_ordered_phase(medium):
    beta = 1.0
    m0 = initial_messages(medium, "polarised", polarisation=0.5)
    result = run_bp(medium, beta, m0, damping=0.5, tol=1e-10, max_iter=2000)
    bp = thermodynamics(medium, result.m, beta)
    exact = block_thermodynamics(medium, beta)
    assert bp["e"] == pytest.approx(exact["e"], abs=1e-4)  # close, not exact: the graph has loops
    # the exact entropy also counts the hidden-unit gauge copies that one BP fixed point misses
    assert exact["s"] > bp["s"]


def test_non_convergence_is_reported(medium):
    m0 = initial_messages(medium, "random", np.random.default_rng(0))
    result = run_bp(medium, 1.0, m0, damping=0.5, tol=1e-10, max_iter=2)
    assert not result.converged
    assert result.iterations == 2
    assert result.residual > 1e-10


@pytest.mark.parametrize(
    "kwargs, message",
    [({"beta": -1.0}, "beta must be positive"), ({"damping": 1.0}, "damping must lie")],
)
def test_bad_settings_are_named(medium, kwargs, message):
    args = {"beta": 1.0, "damping": 0.5} | kwargs
    m0 = initial_messages(medium, "paramagnetic")
    with pytest.raises(ValueError, match=message):
        run_bp(medium, args["beta"], m0, damping=args["damping"], tol=1e-10, max_iter=10)
    with pytest.raises(ValueError, match="unknown BP start"):
        initial_messages(medium, "warm")
    with pytest.raises(ValueError, match="needs its polarisation"):
        initial_messages(medium, "polarised")
