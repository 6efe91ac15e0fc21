"""Generalisation error after pruning, from the pruned order parameters.

Pruning the first layer of a student changes its order parameters and nothing else about the
input statistics, so the error after pruning is :func:`generalisation_error` of the pruned
``(Q, R, v)``:

- node pruning keeps the rows and columns of the kept units (and, with reweighting, hands the
  removed units' second-layer weights to the kept ones by least squares on the activations, whose
  second moments ``E[g(lambda_i) g(lambda_j)]`` are known in closed form);
- edge pruning multiplies the weights by a mask, ``Q' = (W o m)(W o m)^T / N``,
  ``R' = (W o m) W*^T / N``.

Random edge pruning with keep probability ``c`` has, for ``N -> infinity``, self-averaging order
parameters ``Q'_ii = c Q_ii``, ``Q'_ij = c^2 Q_ij`` (i != j), ``R' = c R``. For the specialised
student (``z = K / M`` exact copies of each orthonormal teacher unit, ``v = v* / z``) this gives
the closed form of :func:`random_edge_error_specialised`, derived in
``notebooks/teacher_student/random_edge_theory.ipynb``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from prunephase.teacher_student.gaussian_averages import i2
from prunephase.teacher_student.order_parameters import OrderParameters, order_parameters
from prunephase.teacher_student.pruning import edge_reweighting, node_reweighting


def activation_second_moments(op: OrderParameters) -> np.ndarray:
    """``E[g(lambda_i) g(lambda_j)]`` of the student units, shape (K, K)."""
    return i2(op.Q)


def node_pruned(op: OrderParameters, kept: np.ndarray, reweight: bool) -> OrderParameters:
    """Order parameters of the student restricted to the units ``kept`` (indices, shape (k,)).

    With ``reweight`` the kept second-layer weights become ``A v`` (see
    :func:`~prunephase.teacher_student.pruning.node_reweighting`), with the exact activation
    second moments of the unpruned student.
    """
    kept = np.asarray(kept)
    v = node_reweighting(activation_second_moments(op), kept) @ op.v if reweight else op.v[kept]
    return OrderParameters(op.Q[np.ix_(kept, kept)], op.R[kept], op.T, v, op.v_star)


def edge_pruned(
    W: np.ndarray, v: np.ndarray, W_star: np.ndarray, v_star: np.ndarray, mask: np.ndarray
) -> OrderParameters:
    """Order parameters after keeping the first-layer weights where ``mask`` (K, N) is true.

    Reweighting regresses the removed part of each pre-activation on the kept inputs; for the
    isotropic Gaussian inputs of the teacher-student setup that fit is exactly zero, so the
    reweighted and plain edge-pruned students coincide.
    """
    return order_parameters(edge_reweighting(W, mask, None, ridge=0.0), v, W_star, v_star)


def random_edge_expected_order_parameters(op: OrderParameters, keep: float) -> OrderParameters:
    """Mask-averaged order parameters after random edge pruning with keep probability ``keep``.

    ``E[Q'_ij] = keep^2 Q_ij`` for ``i != j`` (two independent masks), ``E[Q'_ii] = keep Q_ii``
    (one mask, ``m^2 = m``), ``E[R'] = keep R``; exact for any N. The pruned order parameters
    concentrate on these values as ``N -> infinity`` (fluctuations O(N^{-1/2})).
    """
    Q = keep**2 * op.Q + (keep - keep**2) * np.diag(np.diag(op.Q))
    return OrderParameters(Q, keep * op.R, op.T, op.v, op.v_star)


def specialised_student(n_teacher: int, copies: int, v_star: float) -> OrderParameters:
    """The ideal specialised student: ``copies`` exact copies of each of ``n_teacher`` orthonormal
    teacher units (``T = I``, ``Q`` block-diagonal of ones, ``R`` one on the own block),
    ``v = v*/z``.
    """
    K = n_teacher * copies
    assign = np.repeat(np.arange(n_teacher), copies)
    R = (assign[:, None] == np.arange(n_teacher)[None, :]).astype(float)
    return OrderParameters(
        Q=R @ R.T,
        R=R,
        T=np.eye(n_teacher),
        v=np.full(K, v_star / copies),
        v_star=np.full(n_teacher, float(v_star)),
    )


def random_edge_error_specialised(
    keep: np.ndarray | float, n_teacher: int, copies: int, v_star: float
) -> np.ndarray:
    """Closed-form error of the specialised student after random edge pruning (N -> infinity).

    ``eps_g(c) = (M v*^2 / pi) [ asin(c / (1 + c)) / z + (1 - 1/z) asin(c^2 / (1 + c))
    + pi / 6 - 2 asin(c / sqrt(2 (1 + c))) ]``

    with ``c`` the keep probability, ``M`` teacher units and ``z`` copies per teacher unit.

    Returns
    -------
    np.ndarray
        Same shape as ``keep``.
    """
    c = np.asarray(keep, dtype=float)
    if np.any((c < 0) | (c > 1)):
        raise ValueError("keep probabilities must lie in [0, 1]")
    z = np.asarray(copies, dtype=float)
    bracket = (
        np.arcsin(c / (1 + c)) / z
        + (1 - 1 / z) * np.arcsin(c**2 / (1 + c))
        + np.pi / 6
        - 2 * np.arcsin(c / np.sqrt(2 * (1 + c)))
    )
    return np.asarray(n_teacher) * v_star**2 / np.pi * bracket


def balanced_node_error_specialised(
    keep: np.ndarray | float, n_teacher: int, v_star: float
) -> np.ndarray:
    """Error of the specialised student after keeping a fraction ``c`` of the copies of every
    teacher unit (node pruning, no reweighting). Only ``c z`` integer is reachable by keeping
    whole units; :func:`best_node_error_specialised` is the error at any number of kept units.

    The kept copies of teacher unit n output ``c v*_n g(nu_n)``, so
    ``eps_g = (M v*^2 / pi) (1 - c)^2 asin(1/2) = M v*^2 (1 - c)^2 / 6``.
    """
    c = np.asarray(keep, dtype=float)
    return n_teacher * v_star**2 * (1 - c) ** 2 / 6


def best_node_error_specialised(
    kept_units: int, n_teacher: int, copies: int, v_star: float
) -> float:
    """Least error of the specialised student after keeping ``kept_units`` whole units (node
    pruning, no reweighting).

    Keeping ``j_n`` copies of teacher unit n leaves the output ``(j_n / z) v* g(nu_n)`` for that
    unit; the teacher units are orthonormal, so ``eps_g = (v*^2 / 6) sum_n (1 - j_n / z)^2``,
    least when the copies are spread as evenly as possible (``j_n`` = floor or ceil of ``k / M``).
    For ``k < M`` some teacher units keep no copy at all; for ``M | k`` this is
    :func:`balanced_node_error_specialised` at ``c = k / K``.
    """
    if not 0 <= kept_units <= n_teacher * copies:
        raise ValueError(f"kept_units = {kept_units} is outside 0..{n_teacher * copies}")
    kept = np.full(n_teacher, kept_units // n_teacher)
    kept[: kept_units % n_teacher] += 1
    return float(v_star**2 / 6 * np.sum((1 - kept / copies) ** 2))


#: copies per teacher unit of the illustrative sizes of :func:`random_edge_vs_node`
SWEEP_COPIES = (2, 3, 4, 6, 10)


def random_edge_vs_node(sizes: list[tuple[int, int]], v_star: float) -> pd.DataFrame:
    """Random edge pruning against the best node pruning of the specialised student, at every
    reachable budget, for N -> infinity.

    Node pruning can keep only whole units, ``k = 1 ... K - 1``; random edge pruning at the same
    parameter count keeps each weight with probability ``c = k / K`` (the matched budget
    ``(kN + k - K) / (KN)`` for N -> infinity). The node error is
    :func:`best_node_error_specialised` (unbalanced where ``k`` is not a multiple of ``M``), the
    edge error :func:`random_edge_error_specialised`.

    Parameters
    ----------
    sizes
        ``(M, K)`` of the settings to compare; each ``M`` is also compared at ``K = z M`` for
        every ``z`` of :data:`SWEEP_COPIES`.

    Returns
    -------
    pd.DataFrame
        Columns ``M, K, z, setting`` (whether ``(M, K)`` is one of ``sizes``), ``kept_units``,
        ``c``, ``eps_edge``, ``eps_node``, ``edge_wins`` (``eps_edge < eps_node``).
    """
    configured = {(int(M), int(K)) for M, K in sizes}
    grid = configured | {(M, z * M) for M, _ in configured for z in SWEEP_COPIES}
    rows = []
    for M, K in sorted(grid):
        z = K // M
        for k in range(1, K):
            c = k / K
            edge = float(random_edge_error_specialised(c, M, z, v_star))
            node = best_node_error_specialised(k, M, z, v_star)
            rows.append((M, K, z, (M, K) in configured, k, c, edge, node, edge < node))
    return pd.DataFrame(
        rows,
        columns=["M", "K", "z", "setting", "kept_units", "c", "eps_edge", "eps_node", "edge_wins"],
    )
