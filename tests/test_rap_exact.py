"""The exact solution: the closed-form blocks and the component sum against enumeration, for
every reading of the model."""

import numpy as np
import pytest

from prunephase.rap.exact import (
    MAX_SIDE,
    block_thermodynamics,
    blocks_thermodynamics,
    component_thermodynamics,
    enumerate_thermodynamics,
    exact_thermodynamics,
)
from prunephase.rap.instance import build_instance


@pytest.mark.parametrize("construction", ["network", "independent", "iid"])
@pytest.mark.parametrize("xi", ["input", "path"])
def test_the_component_sum_equals_enumeration(construction, xi):
    checked = 0
    for seed in range(40):
        n = 3 if construction == "iid" else 4  # iid paths use more weights
        inst = build_instance(n, 0.7, 0.6, (0.3, 0.2, 0.0), seed, construction=construction, xi=xi)
        if not 6 <= inst.n_weights <= 16:
            continue
        for beta in (0.4, 1.3):
            exact = enumerate_thermodynamics(inst, beta)
            summed = component_thermodynamics(inst, beta)
            for key in ("f", "e", "s"):
                assert summed[key] == pytest.approx(exact[key], abs=1e-11)
        checked += 1
    assert checked >= 4


def test_the_closed_form_blocks_equal_enumeration_and_the_component_sum():
    for seed in range(30):
        inst = build_instance(
            4, 0.8, 0.8, (0.2, 0.2, 0.0), seed, construction="network", xi="input"
        )
        if not 6 <= inst.n_weights <= 16:
            continue
        for beta in (0.2, 0.7, 1.5, 3.0):
            exact = enumerate_thermodynamics(inst, beta)
            for solution in (
                block_thermodynamics(inst, beta),
                component_thermodynamics(inst, beta),
            ):
                for key in ("f", "e", "s"):
                    assert solution[key] == pytest.approx(exact[key], abs=1e-11)


def test_exact_solution_of_large_instances():
    # the closed form at any size; the component sum where every component has a small side
    big = build_instance(60, 0.5, 0.3, (0.9, 0.0, 0.0), 1, construction="network", xi="input")
    blocks = block_thermodynamics(big, 0.5)
    assert component_thermodynamics(big, 0.5)["f"] == pytest.approx(blocks["f"], abs=1e-10)
    assert exact_thermodynamics(big, 0.5) == blocks
    frustrated = build_instance(40, 0.5, 0.3, (0.0, 0.0, 0.0), 1, construction="network", xi="path")
    out = component_thermodynamics(frustrated, 0.5)
    assert out["largest_side"] <= MAX_SIDE and np.isfinite(out["f"])
    dense = build_instance(80, 0.5, 0.5, (0.0, 0.0, 0.0), 1, construction="network", xi="path")
    out = component_thermodynamics(dense, 0.5)
    assert out["largest_side"] > MAX_SIDE and np.isnan(out["f"])  # too large: not guessed


def test_blocks_thermodynamics_counts_every_weight():
    a, b = np.array([1, 3]), np.array([2, 2])
    out = blocks_thermodynamics(a, b, 4, 0.5)
    # a star K(1, 2) is a tree: 2^3 cosh(beta)^2; K(3, 2) by its magnetisation sum; 2^4 for W3
    n_w = 1 + 3 + 2 + 2 + 4
    assert out["s"] == pytest.approx(0.5 * (out["e"] - out["f"]))
    assert -out["f"] * 0.5 * n_w > 4 * np.log(2) + 3 * np.log(2) + 2 * np.log(np.cosh(0.5))
    with pytest.raises(ValueError, match="closed-form blocks need"):
        block_thermodynamics(
            build_instance(6, 0.5, 0.5, (0, 0, 0), 1, construction="iid", xi="input"), 0.5
        )
