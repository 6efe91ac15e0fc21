"""BP on the gauged pairwise model: exact on forests, the paramagnet below the tree threshold,
order above it."""

import numpy as np
import pytest
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from prunephase.rap.bp import paramagnetic
from prunephase.rap.exact import block_thermodynamics, enumerate_thermodynamics
from prunephase.rap.gauged import gauged_bp, gauged_graph, tree_threshold
from prunephase.rap.instance import build_instance

OPTIONS = {"damping": 0.5, "tol": 1e-12, "max_iter": 5000}


def is_forest(instance):
    left, right, _, _ = gauged_graph(instance)
    n = instance.n_weights
    graph = coo_matrix((np.ones(left.size), (left, right)), shape=(n, n))
    used = np.union1d(left, right).size
    components = connected_components(graph, directed=False)[0] - (n - used)
    return left.size == used - components


@pytest.mark.parametrize("xi", ["input", "path"])
def test_exact_on_a_forest_with_either_sign(xi):
    checked = 0
    for seed in range(200):
        inst = build_instance(5, 0.6, 0.6, (0.6, 0.3, 0.0), seed, construction="independent", xi=xi)
        if not 6 <= inst.n_weights <= 18 or not is_forest(inst):
            continue
        for beta in (0.3, 1.2):
            exact = enumerate_thermodynamics(inst, beta)
            bp = gauged_bp(inst, beta, **OPTIONS)
            assert bp["converged"]
            for key in ("f", "e", "s"):
                assert bp[key] == pytest.approx(exact[key], abs=1e-10)
        checked += 1
    assert checked >= 5


def test_on_loops_the_bethe_free_energy_bounds_the_exact_one_from_above():
    """For a ferromagnet the Bethe partition function is a lower bound of Z (Ruozzi, NeurIPS
    2012): on the complete bipartite blocks of the network construction f_Bethe >= f_exact."""
    gaps = []
    for seed in range(4):
        inst = build_instance(
            30, 0.5, 0.3, (0.9, 0.0, 0.0), seed, construction="network", xi="input"
        )
        assert not is_forest(inst)
        for beta in (0.2, 0.5, 1.0):
            bp = gauged_bp(inst, beta, **OPTIONS)
            gaps.append(bp["f"] - block_thermodynamics(inst, beta)["f"])
    assert min(gaps) > 0


def test_paramagnet_below_the_tree_threshold_and_order_above():
    n, p1, p2, beta = 240, 0.5, 0.3, 0.5
    x_star = tree_threshold("independent", p1, p2, beta)
    assert x_star == pytest.approx(1 / (np.sqrt(0.3) * np.tanh(0.5)))
    below = build_instance(
        n, p1, p2, (1 - 0.7 * x_star / n, 0, 0), 1, construction="independent", xi="input"
    )
    bp = gauged_bp(below, beta, damping=0.5, tol=1e-10, max_iter=3000)
    assert bp["converged"] and bp["m"] < 1e-4
    para = paramagnetic(below.n_paths / below.n_weights, beta)
    assert bp["f"] == pytest.approx(float(para["f"]), abs=1e-9)
    above = build_instance(
        n, p1, p2, (1 - 1.5 * x_star / n, 0, 0), 1, construction="independent", xi="input"
    )
    assert gauged_bp(above, beta, damping=0.5, tol=1e-10, max_iter=3000)["m"] > 0.3
    with pytest.raises(ValueError, match="complete blocks"):
        tree_threshold("network", p1, p2, beta)
