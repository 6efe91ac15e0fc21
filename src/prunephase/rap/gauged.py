"""The gauged RAP model: a pairwise Ising model on the W1 - W2 graph, and belief propagation on it.

The gauge of :mod:`prunephase.rap.exact` (tau_jk = w2_jk w3_k) turns H into
H = - sum_a xi_a w1_ij tau_jk: a pairwise model on the graph whose nodes are the W1 and W2
weights and whose edges are the paths, with the n_w3 weights of W3 free (ln 2 of entropy each).
With input signs the further gauge w1'_ij = x_i w1_ij makes every coupling +1, a ferromagnet; with
path signs the couplings keep the signs xi_a x_i.

Under the ``independent`` and ``iid`` constructions the graph of a hidden-1 unit is a sparse random
bipartite graph with n_paths ~ N^2 (1 - q) edges, locally tree-like as N grows at fixed
x = N (1 - q). There BP on the pairwise model is asymptotically exact for the ferromagnet (Dembo and
Montanari, Ann. Appl. Probab. 20, 565, 2010), and it orders continuously where the branching of
the graph beats the coupling: a W2 node (j, k) has Poisson(c_2) further neighbours, a W1 node
(i, j) Poisson(c_1), and the ferromagnet orders when c_1 c_2 tanh^2(beta) > 1
(:func:`tree_threshold`). BP on the 3-body factor graph (:mod:`prunephase.rap.bp`) describes
the same model with W3 explicit: its ordered fixed point must also order the W3 weights, which
are pure gauge.

Messages are cavity fields with beta absorbed: with t_e = tanh(beta J_e),

    u_{a->b} = atanh(t_e tanh h_{a->b}),   h_{a->b} = sum_{e' at a, e' != e} u_{e'->a},

and the Bethe free energy, with H_i = sum_{e at i} u_{e->i} and m = tanh h the cavity
magnetisations,

    ln Z = n_w3 ln 2 + sum_i [ ln 2 cosh H_i + sum_{e at i} ln(cosh(beta J_e) / cosh u_{e->i}) ]
           - sum_e ln[ cosh(beta J_e) (1 + t_e m_{a->b} m_{b->a}) ],

the energy E = - sum_e J_e (t_e + m m') / (1 + t_e m m').
"""

from __future__ import annotations

import math

import numpy as np

from prunephase.rap.instance import RAPInstance


def gauged_graph(instance: RAPInstance) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """The edges of the gauged pairwise model of a built instance.

    Returns
    -------
    left, right : int arrays (M,)
        The W1 and the W2 weight of each path (weight indices of ``instance``).
    coupling : float array (M,)
        xi_a x_i of each path: +1 throughout for input signs.
    n_w3 : int
        Number of W3 weights (free after the gauge).
    """
    if not instance.single_slot or instance.construction == "graph":
        raise ValueError("the gauge needs a built instance (W1, W2, W3 in slots 0, 1, 2)")
    first = instance.coords[instance.paths[:, 0], 0]  # the input unit i of each path
    coupling = instance.xi * instance.x[first]
    n_w3 = int(np.sum(instance.population == 2))
    return instance.paths[:, 0], instance.paths[:, 1], coupling, n_w3


def gauged_bp(
    instance: RAPInstance,
    beta: float,
    *,
    damping: float,
    tol: float,
    max_iter: int,
) -> dict[str, float]:
    """BP on the gauged pairwise model from the fully polarised start (the planted state).

    For a ferromagnet that start converges to the fixed point of largest magnetisation; the
    paramagnet m = 0 is the other one, and is the only one below the tree threshold.

    Parameters
    ----------
    instance : RAPInstance
        A built instance with at least one path.
    beta : float
        Inverse temperature (times the prefactor of H, as for :func:`prunephase.rap.bp.run_bp`).
    damping, tol, max_iter
        As in ``rap.bp``: h <- damping h_old + (1 - damping) h_new; converged when no cavity
        magnetisation moves by more than ``tol`` in one iteration.

    Returns
    -------
    dict
        ``f``, ``e``, ``s`` per weight (all n_w weights, W3 included), ``m`` (mean |m_i| over the
        W1 and W2 weights), ``converged``, ``iterations``.
    """
    left, right, coupling, n_w3 = gauged_graph(instance)
    if left.size == 0:
        raise ValueError("the instance has no active path")
    n_w = instance.n_weights
    t = np.tanh(beta * coupling)
    h_lr = np.full(left.size, np.inf)  # cavity field of the W1 end towards the W2 end
    h_rl = np.full(left.size, np.inf)
    m_lr, m_rl = np.ones(left.size), np.ones(left.size)
    converged, iterations = False, 0
    while iterations < max_iter and not converged:
        iterations += 1
        u_lr, u_rl = np.arctanh(t * m_lr), np.arctanh(t * m_rl)
        field_l = np.bincount(left, u_rl, minlength=n_w)
        field_r = np.bincount(right, u_lr, minlength=n_w)
        new_lr, new_rl = field_l[left] - u_rl, field_r[right] - u_lr
        if np.isinf(h_lr[0]):  # no damping from the infinite start
            h_lr, h_rl = new_lr, new_rl
        else:
            h_lr = damping * h_lr + (1.0 - damping) * new_lr
            h_rl = damping * h_rl + (1.0 - damping) * new_rl
        new_m_lr, new_m_rl = np.tanh(h_lr), np.tanh(h_rl)
        residual = max(np.abs(new_m_lr - m_lr).max(), np.abs(new_m_rl - m_rl).max())
        m_lr, m_rl = new_m_lr, new_m_rl
        converged = bool(residual < tol)
    u_lr, u_rl = np.arctanh(t * m_lr), np.arctanh(t * m_rl)
    log_cosh_j = np.log(np.cosh(beta * coupling))
    field = np.bincount(left, u_rl, minlength=n_w) + np.bincount(right, u_lr, minlength=n_w)
    on_edge = np.zeros(n_w, dtype=bool)
    on_edge[left] = on_edge[right] = True
    log_z = n_w3 * math.log(2.0)
    log_z += np.sum(np.logaddexp(field[on_edge], -field[on_edge]))  # ln 2 cosh H_i
    log_z += np.sum(2 * log_cosh_j - _log_cosh(u_lr) - _log_cosh(u_rl))
    log_z -= np.sum(log_cosh_j + np.log1p(t * m_lr * m_rl))
    energy = -np.sum(coupling * (t + m_lr * m_rl) / (1.0 + t * m_lr * m_rl))
    f = -log_z / (beta * n_w)
    e = energy / n_w
    return {
        "f": float(f),
        "e": float(e),
        "s": float(beta * (e - f)),
        "m": float(np.abs(np.tanh(field[on_edge])).mean()),
        "converged": converged,
        "iterations": iterations,
    }


def _log_cosh(u: np.ndarray) -> np.ndarray:
    return np.logaddexp(u, -u) - math.log(2.0)


def tree_threshold(construction: str, p1: float, p2: float, beta: float) -> float:
    """The x = N (1 - q) at which the gauged ferromagnet orders as N grows at fixed x.

    A W1 node (i, j) reaches c_1 further W2 nodes and a W2 node (j, k) c_2 further W1 nodes on
    average (Poisson numbers): ``independent``, c_1 = p2 x (the active units k) and c_2 = x (all
    N inputs i); ``iid``, c_1 = c_2 = p1 p2 x. The ferromagnet on this two-type tree orders when
    c_1 c_2 tanh^2(beta) > 1.

    Parameters
    ----------
    construction : {"independent", "iid"}
        The ``network`` construction has no finite threshold: its blocks are complete.
    p1, p2 : float
        Activation probabilities of the hidden units.
    beta : float
        Inverse temperature times the prefactor of H.

    Returns
    -------
    float
        x* = 1 / (sqrt(p2) tanh beta) (independent) or 1 / (p1 p2 tanh beta) (iid).
    """
    if construction == "independent":
        return 1.0 / (math.sqrt(p2) * math.tanh(beta))
    if construction == "iid":
        return 1.0 / (p1 * p2 * math.tanh(beta))
    raise ValueError(f"no tree threshold for the {construction!r} construction (complete blocks)")
