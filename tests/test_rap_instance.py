"""RAP instances: construction, invariants, nesting in q, the planted ground state."""

import numpy as np
import pytest

from prunephase.rap.bp import initial_messages, magnetisations, run_bp
from prunephase.rap.exact import block_sizes
from prunephase.rap.instance import (
    broken_gauges,
    build_instance,
    degrees,
    dilution,
    energy,
    factor_graph,
    gauge_state,
    network_blocks,
)


def build(n, p1, p2, q, seed, construction="network", xi="input"):
    return build_instance(n, p1, p2, q, seed, construction=construction, xi=xi)


def triples(inst):
    c = inst.coords
    return {(c[a][0], c[a][1], c[k][0]) for a, _, k in inst.paths}


def test_paths_match_a_brute_force_enumeration_of_the_network():
    n, p1, p2, q, seed = 7, 0.6, 0.5, (0.3, 0.2, 0.1), 11
    inst = build(n, p1, p2, q, seed)
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


@pytest.mark.parametrize("construction", ["network", "independent", "iid"])
@pytest.mark.parametrize("xi", ["input", "path"])
def test_instances_are_nested_in_the_dilution(construction, xi):
    coarse = build(20, 0.5, 0.3, dilution(1, 0.6), 3, construction, xi)
    fine = build(20, 0.5, 0.3, dilution(1, 0.3), 3, construction, xi)
    assert triples(coarse) < triples(fine)
    # a path keeps its sign when other paths are removed
    sign = {
        t: x for t, x in zip(sorted(triples(fine)), fine.xi[np.lexsort(_keys(fine))], strict=True)
    }
    kept = {
        t: x
        for t, x in zip(sorted(triples(coarse)), coarse.xi[np.lexsort(_keys(coarse))], strict=True)
    }
    assert all(sign[t] == x for t, x in kept.items())


def _keys(inst):
    """Sort keys (k, j, i) of the paths, so that lexsort orders them as sorted (i, j, k)."""
    c = inst.coords
    return (c[inst.paths[:, 2], 0], c[inst.paths[:, 0], 1], c[inst.paths[:, 0], 0])


def test_the_constructions_share_what_they_say():
    n, seed = 24, 6
    network = build(n, 0.5, 0.4, (0.3, 0.0, 0.0), seed)
    independent = build(n, 0.5, 0.4, (0.3, 0.0, 0.0), seed, "independent")
    iid = build(n, 0.5, 0.4, (0.3, 0.0, 0.0), seed, "iid")
    # network: a path through (i, j) exists for every output of j (connections are shared)
    paths, outputs = triples(network), {}
    for _, j, k in paths:
        outputs.setdefault(j, set()).add(k)
    assert all((i, j, k) in paths for i, j, _ in paths for k in outputs[j])
    # independent: the same active units as network, but paths survive on their own
    units = lambda inst: ({j for _, j, _ in triples(inst)}, {k for _, _, k in triples(inst)})  # noqa: E731
    active_j, active_k = units(build(n, 0.5, 0.4, (0.0, 0.0, 0.0), seed))
    got_j, got_k = units(independent)
    assert got_j <= active_j and got_k <= active_k
    assert triples(independent) != triples(network)
    # the mean number of active paths is the same in the three constructions, p1 p2 (1 - q1) N^3
    expected = 12**3 * 0.5 * 0.4 * 0.7
    for construction in ("network", "independent", "iid"):
        counts = [build(12, 0.5, 0.4, (0.3, 0.0, 0.0), s, construction).n_paths for s in range(60)]
        assert abs(np.mean(counts) - expected) < 0.1 * expected, construction
    # iid: W1 and W2 weights have the same degree distribution (one peak for both)
    d = degrees(iid)
    assert abs(d[iid.population == 0].mean() - d[iid.population == 1].mean()) < 0.5
    d = degrees(network)
    assert d[network.population == 1].mean() > 1.5 * d[network.population == 0].mean()


def test_path_signs_are_their_own():
    inst = build(16, 0.6, 0.6, (0.0, 0.0, 0.0), 2, xi="path")
    shared = build(16, 0.6, 0.6, (0.0, 0.0, 0.0), 2)
    assert triples(inst) == triples(shared)  # same paths, other signs
    assert abs(inst.xi.mean()) < 0.1 and not np.array_equal(inst.xi, shared.xi)
    assert energy(inst, gauge_state(inst)) > -inst.n_paths  # the planted state is frustrated


def test_network_blocks_are_the_blocks_of_the_built_instances():
    for layer in (1, 2, 3):
        qs = [0.0, 0.5, 0.9, 0.99]
        for q, (a, b, n_w3) in zip(qs, network_blocks(20, 0.5, 0.4, layer, qs, 7), strict=True):
            inst = build(20, 0.5, 0.4, dilution(layer, q), 7)
            if inst.n_weights == 0:
                assert a.size == 0
                continue
            a_ref, b_ref, n_w3_ref = block_sizes(inst)
            assert np.array_equal(a, a_ref) and np.array_equal(b, b_ref) and n_w3 == n_w3_ref


def test_broken_gauges_count_the_polarised_hidden_units():
    inst = build(10, 0.6, 0.5, (0.2, 0.0, 0.0), 3)
    hidden1 = len(set(inst.coords[inst.population == 0, 1]))
    hidden2 = int((inst.population == 2).sum())
    assert broken_gauges(inst, np.zeros(inst.n_weights), 1e-3) == 0
    assert broken_gauges(inst, gauge_state(inst), 1e-3) == hidden1 + hidden2
    # the ordered BP fixed point of an undiluted instance polarises every unit
    m0 = initial_messages(inst, "polarised", polarisation=0.5)
    result = run_bp(inst, 1.0, m0, damping=0.5, tol=1e-10, max_iter=2000, schedule="sequential")
    assert broken_gauges(inst, magnetisations(inst, result.m, 1.0), 1e-3) == hidden1 + hidden2


def test_planted_state_satisfies_every_path_and_is_lowest():
    inst = build(10, 0.5, 0.5, (0.2, 0.2, 0.0), 5)
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
        ({"construction": "tree"}, "unknown construction"),
        ({"xi": "layer"}, "unknown path sign"),
    ],
)
def test_bad_parameters_are_named(kwargs, message):
    args = {"n": 5, "p1": 0.5, "p2": 0.5, "q": (0.0, 0.0, 0.0), "seed": 0}
    args |= {"construction": "network", "xi": "input"} | kwargs
    with pytest.raises(ValueError, match=message):
        build_instance(**args)


def test_factor_graph_checks_its_input():
    with pytest.raises(ValueError, match="at least one factor"):
        factor_graph([[0, 1, 2]], [1], 4)
    with pytest.raises(ValueError, match="one sign"):
        factor_graph([[0, 1, 2]], [2], 3)
