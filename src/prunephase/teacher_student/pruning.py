"""Pruning of the first layer of a two-layer network: node and edge methods, reweighting, and the
parameter counts that put node and edge pruning on one axis.

The functions work on plain arrays and serve both the teacher-student analysis (K hidden units,
fan-in N) and the MNIST network (500 units of the first hidden layer, fan-in 784).

Node pruning keeps ``k`` of the ``K`` hidden units; it costs ``k N + k`` first-layer parameters
(weights and a bias or second-layer weight per unit). Edge pruning keeps ``e`` incoming weights per
unit, ``K e + K`` parameters, so the edge budget matched to ``k`` kept nodes is
``e = (k N + k - K) / K``, i.e. a fraction ``c = e / N`` of the weights, rounded to an integer
(:data:`EDGE_ROUNDINGS`).

The MNIST study has a second budget (:func:`mnist_budget`): the first two weight layers together,
where keeping ``e`` weights of each of the ``H1`` units costs ``H1 (e + H2)`` (the next layer stays
whole) and keeping ``k`` units costs ``k (N + H2)``.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.linalg import cho_factor, cho_solve

from prunephase.teacher_student.dpp import sample_k_dpp

NODE_METHODS = ("random_node", "importance_node", "dpp_node")
EDGE_METHODS = ("random_edge", "importance_edge")
METHODS = NODE_METHODS + EDGE_METHODS
#: how a matched edge budget is rounded: ``up`` (82.5 -> 83 and 24.05 -> 25, the budgets of the
#: authors' figures for K = 6 and K = 20) or ``half_even`` (82.5 -> 82, 24.05 -> 24, Python's
#: ``round``)
EDGE_ROUNDINGS = ("up", "half_even")
#: what ranks the units for importance node pruning: the second-layer weight ``v`` itself, or |v|
IMPORTANCES = ("signed", "absolute")
#: the MNIST budgets (:func:`mnist_budget`)
MNIST_BUDGETS = ("joint", "first_layer")


def node_parameter_count(kept_units: int, fan_in: int) -> int:
    """First-layer parameters of ``kept_units`` whole units: ``k N + k``."""
    return kept_units * fan_in + kept_units


def round_budget(x: float, rounding: str) -> int:
    """``x`` rounded to an integer, up or half to even (:data:`EDGE_ROUNDINGS`)."""
    if rounding == "up":
        # a budget that is an integer up to rounding stays that integer
        return math.ceil(x - 1e-9)
    if rounding == "half_even":
        return round(x)
    raise ValueError(f"unknown edge rounding {rounding!r}; known: {EDGE_ROUNDINGS}")


def matched_edges_per_unit(kept_units: int, n_units: int, fan_in: int, rounding: str) -> int:
    """Incoming weights per unit, ``e = (k N + k - K) / K`` rounded (``rounding``, one of
    :data:`EDGE_ROUNDINGS`): the cost of ``k`` whole units.

    Raises
    ------
    ValueError
        If ``kept_units`` is not in ``1..n_units``.
    """
    if not 1 <= kept_units <= n_units:
        raise ValueError(f"kept_units = {kept_units} is outside 1..{n_units}")
    e = (kept_units * fan_in + kept_units - n_units) / n_units
    return int(min(fan_in, max(0, round_budget(e, rounding))))


def mnist_budget(
    percent: float, n_units: int, fan_in: int, n_next: int, budget: str
) -> tuple[int, int, int, int, int]:
    """Kept units and weights per unit of a layer of ``n_units`` units at ``percent`` per cent.

    ``joint`` (the paper's authors): ``percent`` is the share of each unit's ``fan_in`` weights
    that edge pruning keeps, ``e = ceil(p N / 100)``; the next layer (``n_next`` units) stays
    whole, so edges cost ``H1 (e + H2)`` weights of the two layers, and node pruning keeps the
    units that ``p N / 100`` weights per unit buy, ``k = floor(H1 (p N / 100 + H2) / (N + H2))``
    (a unit costs its ``N`` incoming and ``H2`` outgoing weights). These are the budgets of the
    authors' scripts: at 20% of 784 inputs with 500 + 500 units ``e = 157`` and ``k = 255``.

    ``first_layer``: ``percent`` is the share of the first layer's weights and biases,
    ``k = round(p H1 / 100)`` units (``k (N + 1)``) against the matched ``e`` per unit
    (``H1 (e + 1)``, :func:`matched_edges_per_unit` rounded half to even).

    Returns
    -------
    kept_units, edges_per_unit, node_params, edge_params, total
        ``k``, ``e``, the parameters node and edge pruning keep, and the parameters counted
        unpruned.
    """
    H1, N, H2 = n_units, fan_in, n_next
    if budget == "joint":
        edges = percent * N / 100
        e = min(N, max(1, math.ceil(edges - 1e-9)))
        k = min(H1, max(1, math.floor(H1 * (edges + H2) / (N + H2) + 1e-9)))
        return k, e, k * (N + H2), H1 * (e + H2), H1 * (N + H2)
    if budget == "first_layer":
        k = int(min(H1, max(1, round(percent * H1 / 100))))
        e = matched_edges_per_unit(k, H1, N, "half_even")
        return k, e, node_parameter_count(k, N), H1 * (e + 1), node_parameter_count(H1, N)
    raise ValueError(f"unknown MNIST budget {budget!r}; known: {MNIST_BUDGETS}")


def normalise_rows(W: np.ndarray) -> np.ndarray:
    """``W`` (K, N) with every row rescaled to norm ``sqrt(N)`` (so ``Q_kk = 1``)."""
    return W * (np.sqrt(W.shape[1]) / np.linalg.norm(W, axis=1, keepdims=True))


def node_importance(v: np.ndarray, importance: str) -> np.ndarray:
    """What importance node pruning ranks by: ``v`` (``signed``) or ``|v|`` (``absolute``)."""
    if importance == "signed":
        return np.asarray(v, dtype=float)
    if importance == "absolute":
        return np.abs(v)
    raise ValueError(f"unknown importance {importance!r}; known: {IMPORTANCES}")


# -- which units ----------------------------------------------------------------------------------


def random_node_subsets(
    n_units: int, kept_units: int, rng: np.random.Generator, n_samples: int
) -> np.ndarray:
    """``n_samples`` uniform random ``kept_units``-subsets of ``range(n_units)``; (n_samples, k)."""
    return np.sort(
        np.stack([rng.choice(n_units, kept_units, replace=False) for _ in range(n_samples)]), axis=1
    )


def importance_node_subsets(
    importance: np.ndarray, kept_units: int, rng: np.random.Generator, n_samples: int
) -> np.ndarray:
    """The ``kept_units`` units of largest importance, sorted; shape (draws, k).

    For a single-output student the importance is ``v_k`` or ``|v_k|`` (:func:`node_importance`);
    for a layer that feeds many units it is the norm of the unit's outgoing weights. Ties are
    broken uniformly at random; only if there are ties are ``n_samples`` draws returned,
    otherwise the single deterministic choice.
    """
    importance = np.asarray(importance, dtype=float)
    draws = n_samples if len(np.unique(importance)) < len(importance) else 1
    subsets = [
        np.sort(np.lexsort((rng.random(len(importance)), -importance))[:kept_units])
        for _ in range(draws)
    ]
    return np.stack(subsets)


def rbf_kernel(H: np.ndarray, gamma: float, jitter: float) -> np.ndarray:
    """The RBF kernel of units by their activity, ``exp(-gamma mean_x (h_i - h_j)^2) + jitter I``.

    Parameters
    ----------
    H
        Activity (e.g. pre-activations) of every unit on ``n`` inputs, shape (n, K).
    gamma
        Inverse length scale per unit of mean squared difference. ``exp(-beta |h_i - h_j|^2)``
        with the squared distance summed over ``n`` inputs is ``gamma = beta n``.
    jitter
        Added to the diagonal (the kernel's diagonal is 1).

    Returns
    -------
    np.ndarray
        Shape (K, K).
    """
    sq = np.sum(H * H, axis=0)
    dist = np.maximum(sq[:, None] + sq[None, :] - 2.0 * (H.T @ H), 0.0) / len(H)
    return np.exp(-gamma * dist) + jitter * np.eye(H.shape[1])


def dpp_kernel(Q: np.ndarray, jitter: float) -> np.ndarray:
    """The DPP kernel ``Q + jitter * mean(diag Q) * I`` (K, K).

    ``Q`` itself has rank M < K for the ideal specialised student (exact copies), where a k-DPP with
    k > M does not exist; the jitter gives the limit of vanishing jitter: as many teacher units as
    possible are covered, and among those subsets the balanced ones are preferred.
    """
    return Q + jitter * float(np.mean(np.diag(Q))) * np.eye(Q.shape[0])


def dpp_node_subsets(
    kernel: np.ndarray, kept_units: int, rng: np.random.Generator, n_samples: int
) -> np.ndarray:
    """``n_samples`` exact draws of the k-DPP with ``kernel`` (e.g. Q), shape (n_samples, k)."""
    return sample_k_dpp(kernel, kept_units, rng, n_samples)


def node_subsets(
    method: str,
    kernel: np.ndarray,
    importance: np.ndarray,
    kept_units: int,
    masks: int,
    rng: np.random.Generator,
) -> np.ndarray:
    """Kept units of a node method: ``masks`` draws (random, DPP with ``kernel``) or the single
    importance choice (largest ``importance``); int array of shape (draws, k)."""
    if method == "random_node":
        return random_node_subsets(len(importance), kept_units, rng, masks)
    if method == "dpp_node":
        return dpp_node_subsets(kernel, kept_units, rng, masks)
    if method == "importance_node":
        return importance_node_subsets(importance, kept_units, rng, masks)
    raise ValueError(f"unknown node pruning method {method!r}; known: {NODE_METHODS}")


# -- which weights --------------------------------------------------------------------------------


def random_edge_mask(
    shape: tuple[int, int], keep_fraction: float, rng: np.random.Generator
) -> np.ndarray:
    """Boolean mask (K, N) keeping each weight independently with probability ``keep_fraction``."""
    return rng.random(shape) < keep_fraction


def importance_edge_mask(W: np.ndarray, edges_per_unit: int) -> np.ndarray:
    """Boolean mask (K, N) keeping the ``edges_per_unit`` largest ``|w|`` of every unit (row)."""
    K, N = W.shape
    mask = np.zeros((K, N), dtype=bool)
    if edges_per_unit > 0:
        top = np.argpartition(-np.abs(W), edges_per_unit - 1, axis=1)[:, :edges_per_unit]
        np.put_along_axis(mask, top, True, axis=1)
    return mask


# -- reweighting ----------------------------------------------------------------------------------


def node_reweighting(gram: np.ndarray, kept: np.ndarray) -> np.ndarray:
    """Least-squares coefficients that rebuild the removed units' activations from the kept ones.

    Parameters
    ----------
    gram
        Second moments (or covariances) of the activations of all units, shape (K, K).
    kept
        Indices of the kept units, shape (k,).

    Returns
    -------
    np.ndarray
        ``A`` of shape (k, K): row ``i`` (kept unit ``i``) holds the coefficient of every unit's
        activation in the best linear fit by the kept activations, the identity on the kept units.
        A removed unit ``j`` with second-layer weight ``v_j`` then hands ``A[:, j] v_j`` to the kept
        units, so the new second-layer weights are ``A @ v`` (``A @ V.T`` for a matrix of outgoing
        weights). The minimum-norm solution is used when kept activations are collinear.
    """
    K = gram.shape[0]
    kept = np.asarray(kept)
    removed = np.setdiff1d(np.arange(K), kept)
    A = np.zeros((len(kept), K))
    A[np.arange(len(kept)), kept] = 1.0
    if len(removed) and len(kept):
        coef, *_ = np.linalg.lstsq(
            gram[np.ix_(kept, kept)], gram[np.ix_(kept, removed)], rcond=1e-10
        )
        A[:, removed] = coef
    return A


def edge_reweighting(
    W: np.ndarray, mask: np.ndarray, input_covariance: np.ndarray | None, ridge: float
) -> np.ndarray:
    """Pruned first-layer weights, the removed part of each pre-activation regressed on the kept
    inputs.

    For unit ``i`` with kept inputs ``A`` and removed inputs ``B`` the pre-activation loses
    ``w_B . x_B``; its least-squares fit by ``x_A`` is ``(S_AA^{-1} S_AB w_B) . x_A`` with ``S`` the
    input covariance, which is added to the kept weights.

    Parameters
    ----------
    W
        Unpruned weights, shape (K, N).
    mask
        Boolean mask of the kept weights, shape (K, N).
    input_covariance
        Covariance of the inputs, shape (N, N). ``None`` means isotropic inputs (``x ~ N(0, I)``,
        the teacher-student case): the removed inputs are then uncorrelated with the kept ones, the
        fit is zero and the pruned weights are returned unchanged.
    ridge
        Added to the diagonal of ``S_AA`` (relative to its mean diagonal) so that constant inputs,
        such as MNIST's border pixels, do not make it singular.

    Returns
    -------
    np.ndarray
        Pruned (and reweighted) weights, shape (K, N), zero where ``mask`` is false.
    """
    pruned = np.where(mask, W, 0.0)
    if input_covariance is None:
        return pruned
    S = np.asarray(input_covariance, dtype=float)
    shift = ridge * float(np.mean(np.diag(S)))
    for i in range(W.shape[0]):
        keep, drop = mask[i], ~mask[i]
        if not keep.any() or not drop.any():
            continue
        S_kk = S[np.ix_(keep, keep)] + shift * np.eye(int(keep.sum()))
        rhs = S[np.ix_(keep, drop)] @ W[i, drop]
        pruned[i, keep] += cho_solve(cho_factor(S_kk, lower=True, check_finite=False), rhs)
    return pruned
