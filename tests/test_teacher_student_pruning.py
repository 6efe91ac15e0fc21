"""Teacher-student pruning: k-DPP sampler, masks, reweighting, the random-edge closed form."""

from __future__ import annotations

import itertools
from collections import Counter

import numpy as np
import pytest
from scipy import stats

from prunephase.core.config import ConfigError, validate_config
from prunephase.teacher_student.dpp import (
    k_dpp_log_normaliser,
    k_dpp_probabilities,
    log_elementary_symmetric,
    sample_k_dpp,
)
from prunephase.teacher_student.experiments import prune, specialised_students
from prunephase.teacher_student.order_parameters import generalisation_error, order_parameters
from prunephase.teacher_student.pruning import (
    edge_reweighting,
    importance_edge_mask,
    importance_node_subsets,
    matched_edges_per_unit,
    node_parameter_count,
    node_reweighting,
    random_edge_mask,
)
from prunephase.teacher_student.settings import Pruning, Run
from prunephase.teacher_student.theory import (
    balanced_node_error_specialised,
    edge_pruned,
    node_pruned,
    random_edge_error_specialised,
    random_edge_expected_order_parameters,
    specialised_student,
)


@pytest.mark.parametrize("k", [2, 3])
def test_k_dpp_sampler_matches_exact_probabilities(k):
    """Chi-square goodness of fit of 20,000 draws against det(L_S) / e_k on a 5-node kernel."""
    rng = np.random.default_rng(10 + k)
    A = rng.normal(size=(5, 5))
    L = A @ A.T + 0.1 * np.eye(5)
    exact = k_dpp_probabilities(L, k)
    n = 20_000
    counts = Counter(map(tuple, sample_k_dpp(L, k, rng, n)))
    assert set(counts) <= set(exact)
    observed = np.array([counts.get(s, 0) for s in exact])
    expected = n * np.array(list(exact.values()))
    chi2 = float(((observed - expected) ** 2 / expected).sum())
    assert chi2 < stats.chi2.ppf(0.999, len(exact) - 1), chi2
    # a sampler that ignored the kernel (uniform subsets) would fail this test
    uniform = np.full(len(exact), n / len(exact))
    assert float(((observed - uniform) ** 2 / uniform).sum()) > stats.chi2.ppf(
        0.999, len(exact) - 1
    )


def test_k_dpp_normaliser_and_rank():
    rng = np.random.default_rng(20)
    A = rng.normal(size=(6, 6))
    L = A @ A.T
    for k in range(7):
        brute = sum(
            np.linalg.det(L[np.ix_(s, s)]) if k else 1.0
            for s in itertools.combinations(range(6), k)
        )
        assert np.exp(k_dpp_log_normaliser(L, k)) == pytest.approx(brute, rel=1e-8)
    E = log_elementary_symmetric(np.array([0.0, 2.0]), 2)
    assert E[2, 2] == -np.inf and np.exp(E[1, 2]) == pytest.approx(2.0)
    low_rank = A[:, :2] @ A[:, :2].T
    with pytest.raises(ValueError, match="rank"):
        sample_k_dpp(low_rank, 3, rng)
    with pytest.raises(ValueError, match="non-finite"):
        sample_k_dpp(np.full((3, 3), np.nan), 1, rng)


def test_k_dpp_avoids_copies_of_one_unit():
    """With Q of a specialised student (plus jitter) a 2-DPP never keeps two copies of one unit."""
    op = specialised_student(2, 3, 4.0)
    L = op.Q + 1e-6 * np.eye(6)
    draws = sample_k_dpp(L, 2, np.random.default_rng(0), 500)
    teacher = np.repeat([0, 1], 3)
    assert np.all(teacher[draws[:, 0]] != teacher[draws[:, 1]])


def test_parameter_matching():
    N, K = 500, 6
    for k in range(1, K + 1):
        e = matched_edges_per_unit(k, K, N)
        assert abs((K * e + K) - node_parameter_count(k, N)) <= K / 2
    assert matched_edges_per_unit(K, K, N) == N
    with pytest.raises(ValueError, match="outside"):
        matched_edges_per_unit(0, K, N)


def test_masks_and_importance():
    rng = np.random.default_rng(0)
    W = rng.normal(size=(4, 50))
    mask = importance_edge_mask(W, 10)
    assert np.all(mask.sum(1) == 10)
    for row, m in zip(np.abs(W), mask, strict=True):
        assert row[m].min() >= row[~m].max()
    frac = random_edge_mask((200, 500), 0.3, rng).mean()
    assert abs(frac - 0.3) < 0.01
    one = importance_node_subsets(np.array([0.1, 3.0, 2.0, 0.5]), 2, rng, 5)
    assert one.tolist() == [[1, 2]]  # no ties: one deterministic draw
    tied = importance_node_subsets(np.ones(6), 2, rng, 200)
    assert len(tied) == 200 and len({tuple(s) for s in tied}) > 5


def test_node_reweighting_rebuilds_linear_combinations():
    rng = np.random.default_rng(1)
    H = rng.normal(size=(1000, 3))
    acts = np.column_stack([H, H @ np.array([0.5, -1.0, 2.0])])  # unit 3 = combination
    A = node_reweighting(acts.T @ acts / len(acts), np.array([0, 1, 2]))
    v = np.array([1.0, 2.0, 3.0, 4.0])
    np.testing.assert_allclose(acts[:, :3] @ (A @ v), acts @ v, atol=1e-8)


def test_edge_reweighting_is_least_squares():
    rng = np.random.default_rng(2)
    B = rng.normal(size=(8, 8))
    cov = B @ B.T / 8 + 0.05 * np.eye(8)
    x = rng.multivariate_normal(np.zeros(8), cov, size=4000)
    W = rng.normal(size=(3, 8))
    mask = rng.random((3, 8)) < 0.5
    mask[:, 0] = True
    plain = edge_reweighting(W, mask, None, ridge=0.0)
    np.testing.assert_array_equal(plain, np.where(mask, W, 0))
    fitted = edge_reweighting(W, mask, cov, ridge=0.0)
    assert np.all(fitted[~mask] == 0)
    for i in range(3):  # the population least-squares solution beats plain pruning on samples
        target = x @ W[i]
        assert np.mean((x @ fitted[i] - target) ** 2) < np.mean((x @ plain[i] - target) ** 2)
        keep = mask[i]
        ols = np.linalg.solve(cov[np.ix_(keep, keep)], cov[keep] @ W[i])
        np.testing.assert_allclose(fitted[i, keep], ols, rtol=1e-8)


def test_random_edge_closed_form_matches_sampled_masks():
    """Specialised student at N = 2000, 200 Bernoulli masks per keep probability: the mask average
    of eps_g agrees with the closed form within 4 standard errors plus the O(1/N) bias."""
    N = 2000
    st = specialised_students(Run(K=6, M=2, t_max=1.0, sigma=0.0), N, 4.0, 0)
    W, v, Ws, vs = st["W"][0], st["v"][0], st["W_star"], st["v_star"]
    rng = np.random.default_rng(3)
    for c in (0.2, 0.5, 0.8):
        errs = np.array(
            [generalisation_error(edge_pruned(W, v, Ws, vs, random_edge_mask(W.shape, c, rng)))
             for _ in range(200)]
        )  # fmt: skip
        closed = float(random_edge_error_specialised(c, 2, 3, 4.0))
        se = errs.std(ddof=1) / np.sqrt(len(errs))
        assert abs(errs.mean() - closed) < 4 * se + 2 / N, (c, errs.mean(), closed, se)
    # the closed form is eps_g at the mask-averaged order parameters: M v*^2 / 6 at c = 0
    op = specialised_student(2, 3, 4.0)
    for c in (0.0, 0.3, 1.0):
        assert generalisation_error(random_edge_expected_order_parameters(op, c)) == pytest.approx(
            random_edge_error_specialised(c, 2, 3, 4.0)
        )
    assert random_edge_error_specialised(0.0, 2, 3, 4.0) == pytest.approx(2 * 16 / 6)
    assert random_edge_error_specialised(1.0, 2, 3, 4.0) == pytest.approx(0.0, abs=1e-12)


def test_expected_order_parameters_of_random_edges():
    rng = np.random.default_rng(4)
    W, Ws = rng.normal(size=(3, 300)), rng.normal(size=(2, 300))
    op = order_parameters(W, np.ones(3), Ws, np.ones(2))
    c = 0.4
    sampled = [order_parameters(W * random_edge_mask(W.shape, c, rng), np.ones(3), Ws, np.ones(2))
               for _ in range(400)]  # fmt: skip
    mean_Q = np.mean([s.Q for s in sampled], axis=0)
    se_Q = np.std([s.Q for s in sampled], axis=0) / np.sqrt(len(sampled))
    expected = random_edge_expected_order_parameters(op, c)
    assert np.all(np.abs(mean_Q - expected.Q) < 5 * se_Q)


def test_node_pruning_of_specialised_student():
    op = specialised_student(2, 3, 4.0)
    one_per_teacher = np.array([0, 3])
    assert generalisation_error(node_pruned(op, one_per_teacher, False)) == pytest.approx(
        balanced_node_error_specialised(1 / 3, 2, 4.0)
    )
    # reweighting hands the removed copies' weights to the kept copy: exact
    assert generalisation_error(node_pruned(op, one_per_teacher, True)) == pytest.approx(
        0, abs=1e-9
    )
    # a teacher unit without a kept copy cannot be rebuilt
    assert generalisation_error(node_pruned(op, np.array([0, 1]), True)) > 1.0


def test_prune_table_is_consistent():
    run = Run(K=4, M=2, t_max=1.0, sigma=0.0)
    students = specialised_students(run, 100, 4.0, 0)
    pruning = Pruning(masks=4, dpp_jitter=1e-6, heatmap_fraction=0.5)
    table, maps = prune(run, students, pruning, 0, "specialised")
    assert set(table.method) == {
        "random_node", "importance_node", "dpp_node", "random_edge", "importance_edge",
    }  # fmt: skip
    full = table[table.kept_units == 4]
    np.testing.assert_allclose(full.eps_g_mean, 0.0, atol=1e-9)  # nothing pruned
    assert np.all(table.eps_g_mean >= -1e-12) and np.all(table.params_fraction <= 1.0)
    assert np.all(np.abs(table.params_fraction - table.kept_units / 4) < 0.02)
    assert set(maps.matrix) == {"Q", "R"} and len(maps) == 5 * (16 + 8)
    with pytest.raises(ValueError, match="unknown student"):
        prune(run, students, pruning, 0, "ideal")
    # the specialised student needs K / M copies of each teacher unit: the schema says so
    with pytest.raises(ConfigError, match=r"settings\[0\]\.K' = 5 must be a multiple of"):
        validate_config({"teacher_student": {"settings": [{"M": 2, "K": 5, "t_max": 1.0}]}})
