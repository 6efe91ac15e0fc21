"""RAP instances: construction, invariants, nesting in q, the planted ground state."""

import numpy as np
import pytest

from prunephase.rap.instance import (
    build_instance,
    degrees,
    dilution,
    energy,
    factor_graph,
    gauge_state,
)


def test_paths_match_a_brute_force_enumeration_of_the_network():
    n, p1, p2, q, seed = 7, 0.6, 0.5, (0.3, 0.2, 0.1), 11
    inst = build_instance(n, p1, p2, q, seed)
    # redraw the same random numbers in the documented order and enumerate i, j, k directly
    rng = np.random.default_rng(seed)
    x = np.where(rng.random(n) < 0.5, -1.0, 1.0)
    act1, act2 = rng.random(n) < p1, rng.random(n) < p2
    keep1, keep2, keep3 = (
        rng.random((n, n)) >= q[0],
        rng.random((n, n)) >= q[1],
        rng.random(n) >= q[2],
    )
    expected = sorted(
        (i, j, k)
        for i in range(n)
        for j in range(n)
        for k in range(n)
        if act1[j] and act2[k] and keep1[i, j] and keep2[j, k] and keep3[k]
    )
    coords = inst.coords
    got = sorted((coords[a][0], coords[a][1], coords[c][0]) for a, _, c in inst.paths)
    assert got == expected
    assert np.array_equal(inst.xi, x[[coords[a][0] for a, _, _ in inst.paths]])
    # every weight lies on a path, populations in slot order
    assert np.all(degrees(inst) > 0)
    for slot in range(3):
        assert np.all(inst.population[inst.paths[:, slot]] == slot)
    assert inst.alpha == pytest.approx(inst.n_paths / inst.n_weights)
    assert degrees(inst).sum() == 3 * inst.n_paths


def test_instances_are_nested_in_the_dilution():
    coarse = build_instance(20, 0.5, 0.3, dilution(1, 0.6), 3)
    fine = build_instance(20, 0.5, 0.3, dilution(1, 0.3), 3)

    def path_set(inst):
        c = inst.coords
        return {(c[a][0], c[a][1], c[k][0]) for a, _, k in inst.paths}

    assert path_set(coarse) < path_set(fine)


def test_planted_state_satisfies_every_path_and_is_lowest():
    inst = build_instance(10, 0.5, 0.5, (0.2, 0.2, 0.0), 5)
    ground = gauge_state(inst)
    assert energy(inst, ground) == -inst.n_paths
    rng = np.random.default_rng(0)
    for _ in range(20):
        w = np.where(rng.random(inst.n_weights) < 0.5, -1.0, 1.0)
        assert energy(inst, w) >= -inst.n_paths


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"q": (0.1, 0.2)}, "one dilution per population"),
        ({"q": (0.1, 1.2, 0.0)}, "q2 must lie in"),
        ({"p1": -0.1}, "p1 must lie in"),
        ({"n": 0}, "width n must be"),
    ],
)
def test_bad_parameters_are_named(kwargs, message):
    args = {"n": 5, "p1": 0.5, "p2": 0.5, "q": (0.0, 0.0, 0.0), "seed": 0} | kwargs
    with pytest.raises(ValueError, match=message):
        build_instance(**args)


def test_factor_graph_checks_its_input():
    with pytest.raises(ValueError, match="at least one factor"):
        factor_graph([[0, 1, 2]], [1], 4)
    with pytest.raises(ValueError, match="one sign"):
        factor_graph([[0, 1, 2]], [2], 3)
