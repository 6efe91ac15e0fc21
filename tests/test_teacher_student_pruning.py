"""Teacher-student pruning: k-DPP sampler, masks, budgets, reweighting, the closed forms, the
claims over students and masks."""

from __future__ import annotations

import itertools
from collections import Counter

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from prunephase.core.config import ConfigError, validate_config
from prunephase.teacher_student.claims import (
    COMPARISON_COLUMNS,
    PRUNING_SUMMARY_COLUMNS,
    SUMMARY_COLUMNS,
    critical_value,
    paired_comparisons,
    pruning_summary,
    summarise,
)
from prunephase.teacher_student.dpp import (
    k_dpp_log_normaliser,
    k_dpp_probabilities,
    log_elementary_symmetric,
    sample_k_dpp,
)
from prunephase.teacher_student.experiments import PRUNING_COLUMNS, prune, specialised_students
from prunephase.teacher_student.order_parameters import generalisation_error, order_parameters
from prunephase.teacher_student.pruning import (
    edge_reweighting,
    importance_edge_mask,
    importance_node_subsets,
    matched_edges_per_unit,
    mnist_budget,
    node_importance,
    node_parameter_count,
    node_reweighting,
    normalise_rows,
    random_edge_mask,
    rbf_kernel,
)
from prunephase.teacher_student.settings import Pruning, Run
from prunephase.teacher_student.theory import (
    balanced_node_error_specialised,
    best_node_error_specialised,
    edge_pruned,
    node_pruned,
    random_edge_error_specialised,
    random_edge_expected_order_parameters,
    random_edge_vs_node,
    specialised_student,
)

PRUNING = Pruning(masks=4, dpp_jitter=1e-6, heatmap_fraction=0.5, normalise_rows=True,
                  importance="signed", edge_rounding="up")  # fmt: skip


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
    for rounding in ("up", "half_even"):
        for k in range(1, K + 1):
            e = matched_edges_per_unit(k, K, N, rounding)
            assert abs((K * e + K) - node_parameter_count(k, N)) <= K / 2
        assert matched_edges_per_unit(K, K, N, rounding) == N
    # (kN + k - K) / K = 82.5, 166, 249.5, 333, 416.5: the authors' budgets and Python's round
    assert [matched_edges_per_unit(k, K, N, "up") for k in range(1, 6)] == [83, 166, 250, 333, 417]
    # K = 20: 24.05, 49.1, ...: the authors' figure keeps 25, 50, 75, 100, 125
    assert [matched_edges_per_unit(k, 20, N, "up") for k in range(1, 6)] == [25, 50, 75, 100, 125]
    assert matched_edges_per_unit(1, 20, N, "half_even") == 24
    assert [matched_edges_per_unit(k, K, N, "half_even") for k in range(1, 6)] == [
        82,
        166,
        250,
        333,
        416,
    ]
    with pytest.raises(ValueError, match="outside"):
        matched_edges_per_unit(0, K, N, "up")
    with pytest.raises(ValueError, match="unknown edge rounding"):
        matched_edges_per_unit(1, K, N, "down")


def test_mnist_budgets():
    """The joint budget of the authors' scripts (784-500-500): edges 79 ... 706 per unit against
    225 ... 469 units, at most the edges' weights; the first-layer budget as the project counts
    it."""
    joint = [mnist_budget(p, 500, 784, 500, "joint") for p in range(10, 100, 10)]
    assert [b[1] for b in joint] == [79, 157, 236, 314, 392, 471, 549, 628, 706]
    assert [b[0] for b in joint] == [225, 255, 286, 316, 347, 377, 408, 438, 469]
    for k, e, nodes, edges, total in joint:
        assert nodes == k * (784 + 500) and edges == 500 * (e + 500) and total == 500 * 1284
        assert edges - 2 * 1284 <= nodes <= edges  # the units those weights buy, rounded down
    assert mnist_budget(100, 500, 784, 500, "joint")[:2] == (500, 784)
    k, e, nodes, edges, total = mnist_budget(20, 500, 784, 500, "first_layer")
    assert (k, e) == (100, 156) and nodes == 100 * 785 and total == 500 * 785
    with pytest.raises(ValueError, match="unknown MNIST budget"):
        mnist_budget(20, 500, 784, 500, "both")


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
    v = np.array([-3.0, 1.0, 2.0, -0.5])
    signed = importance_node_subsets(node_importance(v, "signed"), 2, rng, 5)
    absolute = importance_node_subsets(node_importance(v, "absolute"), 2, rng, 5)
    assert signed.tolist() == [[1, 2]] and absolute.tolist() == [[0, 2]]
    with pytest.raises(ValueError, match="unknown importance"):
        node_importance(v, "largest")
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
    W, v, Ws, vs = st["W"][0], st["v"][0], st["W_star"][0], st["v_star"][0]
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
    pruning = PRUNING
    table, maps = prune(run, students, pruning, 0, "ideal")
    assert list(table.columns) == PRUNING_COLUMNS
    assert set(table.method) == {
        "random_node", "importance_node", "dpp_node", "random_edge", "importance_edge",
    }  # fmt: skip
    full = table[table.kept_units == 4]
    np.testing.assert_allclose(full.eps_g_mean, 0.0, atol=1e-9)  # nothing pruned
    assert np.all(table.eps_g_mean >= -1e-12) and np.all(table.params_fraction <= 1.0)
    assert np.all(np.abs(table.params_fraction - table.kept_units / 4) < 0.02)
    assert set(maps.matrix) == {"Q", "R"} and len(maps) == 5 * (16 + 8)
    with pytest.raises(ValueError, match="unknown student"):
        prune(run, students, pruning, 0, "specialised")
    # the specialised student needs K / M copies of each teacher unit: the schema says so
    with pytest.raises(ConfigError, match=r"settings\[0\]\.K' = 5 must be a multiple of"):
        validate_config({"teacher_student": {"settings": [{"M": 2, "K": 5, "t_max": 1.0}]}})


def test_row_normalisation():
    """The normalised student has unit diagonal Q and is the one pruned; the error of the student
    as trained is kept beside it; without normalisation the two are the same."""
    rng = np.random.default_rng(7)
    run = Run(K=4, M=2, t_max=1.0, sigma=0.0)
    W, Ws = rng.normal(size=(2, 4, 80)) * 1.3, rng.normal(size=(2, 2, 80))
    students = {"W": W, "v": rng.normal(size=(2, 4)), "W_star": Ws, "v_star": np.full((2, 2), 4.0)}
    np.testing.assert_allclose(np.linalg.norm(normalise_rows(W[0]), axis=1), np.sqrt(80))
    normed, _ = prune(run, students, PRUNING, 0, "sgd")
    plain, _ = prune(run, students, Pruning(**{**PRUNING.__dict__, "normalise_rows": False}), 0,
                     "sgd")  # fmt: skip
    for r in range(2):
        trained = generalisation_error(
            order_parameters(W[r], students["v"][r], Ws[r], np.array([4.0, 4.0]))
        )
        scaled = order_parameters(
            normalise_rows(W[r]), students["v"][r], Ws[r], np.array([4.0, 4.0])
        )
        np.testing.assert_allclose(np.diag(scaled.Q), 1.0)
        row_n, row_p = normed[normed.replica == r].iloc[0], plain[plain.replica == r].iloc[0]
        assert row_n.eps_g_trained == pytest.approx(trained) == row_p.eps_g_trained
        assert row_n.eps_g_unpruned == pytest.approx(generalisation_error(scaled))
        assert row_p.eps_g_unpruned == pytest.approx(trained)
        full = normed[(normed.replica == r) & (normed.kept_units == 4)]
        np.testing.assert_allclose(full.eps_g_mean, generalisation_error(scaled))


def test_rbf_kernel():
    rng = np.random.default_rng(8)
    H = rng.normal(size=(50, 4))
    L = rbf_kernel(H, 0.7, 0.01)
    direct = np.exp(-0.7 * ((H[:, :, None] - H[:, None, :]) ** 2).mean(0)) + 0.01 * np.eye(4)
    np.testing.assert_allclose(L, direct, rtol=1e-10, atol=1e-12)


def test_best_node_error_of_the_specialised_student():
    """Balanced where M divides k; otherwise the least error over every subset of k units (the
    copies spread as evenly as possible, teacher units without a copy where k < M)."""
    M, z, v_star = 3, 2, 4.0
    op = specialised_student(M, z, v_star)
    for k in range(1, M * z):
        brute = min(
            generalisation_error(node_pruned(op, np.array(s), False))
            for s in itertools.combinations(range(M * z), k)
        )
        assert best_node_error_specialised(k, M, z, v_star) == pytest.approx(brute)
        if k % M == 0:
            assert brute == pytest.approx(balanced_node_error_specialised(k / (M * z), M, v_star))
    assert best_node_error_specialised(1, M, z, v_star) == pytest.approx(
        v_star**2 / 6 * ((1 - 1 / z) ** 2 + (M - 1))
    )


def test_random_edge_against_node_at_reachable_budgets():
    table = random_edge_vs_node([(2, 6), (5, 20)], 4.0)
    assert set(table[table.setting].K) == {6, 20} and {2, 3, 4, 6, 10} <= set(table.z)
    for row in table.sample(20, random_state=0).itertuples():
        assert row.eps_edge == pytest.approx(
            float(random_edge_error_specialised(row.c, row.M, row.z, 4.0))
        )
        assert row.eps_node == pytest.approx(best_node_error_specialised(row.kept_units, row.M,
                                                                         row.z, 4.0))  # fmt: skip
    wins = table[table.edge_wins].groupby(["M", "K"]).kept_units.apply(list)
    # two copies per teacher unit: never; three: only one unit kept (a teacher unit lost)
    assert (2, 4) not in wins.index and wins[(2, 6)] == [1]
    assert max(wins[(5, 20)]) > max(wins[(2, 8)])  # more teacher units: a wider range


def _synthetic(differences, mask_se, students=None):
    """A pruning table of two methods at one budget: method a = 1 + difference, b = 1."""
    rows = []
    for r, (d, se) in enumerate(zip(differences, mask_se, strict=True)):
        for method, eps in (("dpp_node", 1.0 + d), ("random_node", 1.0)):
            rows.append((4, 2, 0.0, "sgd", r, method, False, 2, 100, 202, 0.5, eps, se, 10,
                         1.0, 1.0))  # fmt: skip
    return pd.DataFrame(rows, columns=PRUNING_COLUMNS)


def test_claims_count_the_spread_between_students():
    """Mask noise alone would call each student's difference significant, but the students
    disagree: over students the claim is a tie. Consistent students make it hold."""
    split = _synthetic([-0.5, -0.4, 0.45, -0.6, 0.5], [0.01] * 5)
    out = paired_comparisons(split)
    row = out[out.claim == "dpp_beats_random_node"].iloc[0]
    assert list(out.columns) == COMPARISON_COLUMNS
    d = np.array([-0.5, -0.4, 0.45, -0.6, 0.5])
    assert row.difference == pytest.approx(d.mean())
    assert row.se == pytest.approx(d.std(ddof=1) / np.sqrt(5))
    assert row.students == 5 and row.students_better == 3 and row.students_worse == 2
    assert row.verdict == "tied"
    agree = paired_comparisons(_synthetic([-0.5, -0.45, -0.55, -0.6, -0.4], [0.01] * 5))
    row = agree[agree.claim == "dpp_beats_random_node"].iloc[0]
    assert row.verdict == "better" and row.students_better == 5
    summary = summarise(agree)
    assert list(summary.columns) == SUMMARY_COLUMNS
    first = summary[summary.claim == "dpp_beats_random_node"].iloc[0]
    assert (first.better, first.unanimous, first.students) == (1, 1, 5)
    # one student: its masks decide, at the normal quantile
    one = paired_comparisons(_synthetic([-0.03], [0.01]))
    assert one[one.claim == "dpp_beats_random_node"].iloc[0].verdict == "better"
    assert critical_value(1) == pytest.approx(1.96, abs=1e-3)
    assert critical_value(5) == pytest.approx(stats.t.ppf(0.975, 4))


def test_pruning_summary_errors_are_over_students():
    table = _synthetic([-0.5, -0.4, 0.45], [0.01] * 3)
    out = pruning_summary(table)
    assert list(out.columns) == PRUNING_SUMMARY_COLUMNS and len(out) == 2
    a = out[out.method == "dpp_node"].iloc[0]
    eps = 1.0 + np.array([-0.5, -0.4, 0.45])
    assert a.eps_g_mean == pytest.approx(eps.mean())
    assert a.eps_g_sem == pytest.approx(eps.std(ddof=1) / np.sqrt(3)) and a.n_students == 3
    single = pruning_summary(_synthetic([-0.5], [0.02]))
    assert single.eps_g_sem.tolist() == [0.02, 0.02]  # one student: the mask standard error
