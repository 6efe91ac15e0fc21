"""Instances of the random active path (RAP) model as a sparse factor graph (index arrays).

A network N - N - N - 1 has three populations of binary weights: W1 (N x N, input -> hidden 1),
W2 (N x N, hidden 1 -> hidden 2) and W3 (N, hidden 2 -> output). A path i -> j -> k -> output is
*active* when hidden units j and k are active (independently, with probabilities p1 and p2) and
its three connections survive dilution (a connection of population l is deleted with probability
q_l). Each active path a is a 3-body constraint on the weights it uses, carrying the sign
xi_a = x_i of its input unit: H(w) = - sum_a xi_a w1_ij w2_jk w3_k.

All randomness of an instance is drawn once from its seed, and the parameters (p1, p2, q) only
threshold those draws: instances with the same seed are nested (raising a dilution removes paths,
never adds any), so curves against q are not blurred by re-drawn disorder.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np

#: number of weights in a path (= network depth): the model is a 3-body interaction model
P_BODY = 3
POPULATIONS = ("W1", "W2", "W3")


@dataclass(frozen=True)
class RAPInstance:
    """One instance of the RAP model.

    Attributes
    ----------
    paths : ndarray of int64, shape (M, 3)
        Weight indices of each active path; column l holds the weight of population l + 1.
    xi : ndarray of float64, shape (M,)
        Sign (+1 or -1) carried by each path: the input x_i of its start unit.
    population : ndarray of int8, shape (n_w,)
        Population (0, 1, 2 for W1, W2, W3) of each weight that appears in at least one path.
    coords : ndarray of int64, shape (n_w, 2)
        Network coordinates of each weight: (i, j) for W1, (j, k) for W2, (k, 0) for W3.
    x : ndarray of float64, shape (N,)
        The input signs x_i.
    n, p1, p2, q
        The parameters the instance was built from (q = dilution of each population).
    """

    paths: np.ndarray
    xi: np.ndarray
    population: np.ndarray
    coords: np.ndarray
    x: np.ndarray
    n: int
    p1: float
    p2: float
    q: tuple[float, float, float]

    @cached_property
    def columns(self) -> np.ndarray:
        """The transpose of ``paths``, contiguous, shape (3, M): row s = the weights in slot s."""
        return np.ascontiguousarray(self.paths.T)

    @property
    def n_paths(self) -> int:
        """Number of active paths M (constraints)."""
        return int(self.paths.shape[0])

    @property
    def n_weights(self) -> int:
        """Number of weights n_w that appear in at least one active path."""
        return int(self.population.shape[0])

    @property
    def alpha(self) -> float:
        """Constraint density M / n_w (0 for an empty instance)."""
        return self.n_paths / self.n_weights if self.n_weights else 0.0


def build_instance(
    n: int, p1: float, p2: float, q: Sequence[float], seed: int | np.random.SeedSequence
) -> RAPInstance:
    """Construct the active paths of a random N - N - N - 1 network.

    Parameters
    ----------
    n : int
        Layer width N (>= 1).
    p1, p2 : float
        Activation probabilities of the units of hidden layers 1 and 2, in [0, 1].
    q : sequence of 3 floats
        Dilution probability of each weight population (W1, W2, W3), in [0, 1].
    seed : int or SeedSequence
        Seed of every random draw of the instance.

    Returns
    -------
    RAPInstance
        Weights are numbered population by population (W1, then W2, then W3), each in row-major
        order of its coordinates; only weights used by at least one active path are kept.
    """
    q = tuple(float(v) for v in q)
    if len(q) != P_BODY:
        raise ValueError(f"q must give one dilution per population ({P_BODY}), got {len(q)}")
    for name, value in (("p1", p1), ("p2", p2), *zip(("q1", "q2", "q3"), q, strict=True)):
        if not 0.0 <= value <= 1.0:
            raise ValueError(f"{name} must lie in [0, 1], got {value}")
    if int(n) < 1:
        raise ValueError(f"width n must be >= 1, got {n}")
    n = int(n)
    rng = np.random.default_rng(seed)
    # fixed draw order: every parameter only thresholds these, so instances are nested
    x = np.where(rng.random(n) < 0.5, -1.0, 1.0)
    active1 = rng.random(n) < p1
    active2 = rng.random(n) < p2
    keep1 = rng.random((n, n)) >= q[0]  # W1[i, j]
    keep2 = rng.random((n, n)) >= q[1]  # W2[j, k]
    keep3 = rng.random(n) >= q[2]  # W3[k]

    link1 = keep1 & active1[None, :]  # (i, j): connection present and j active
    top = active2 & keep3  # k reaches the output
    link2 = keep2 & active1[:, None] & top[None, :]  # (j, k) pairs that continue to the output
    pair_j, pair_k = np.nonzero(link2)  # sorted by j
    # inputs of each hidden-1 unit, as CSR sorted by j
    in_j, in_i = np.nonzero(link1.T)
    starts = np.searchsorted(in_j, np.arange(n + 1))
    n_in = np.diff(starts)
    per_pair = n_in[pair_j]
    pair_of_path = np.repeat(np.arange(pair_j.size), per_pair)
    rank = np.arange(pair_of_path.size) - np.repeat(np.cumsum(per_pair) - per_pair, per_pair)
    path_i = in_i[starts[pair_j][pair_of_path] + rank]
    path_j = pair_j[pair_of_path]
    path_k = pair_k[pair_of_path]

    raw = (path_i * n + path_j, path_j * n + path_k, path_k)
    columns, coords, population = [], [], []
    offset = 0
    for level, key in enumerate(raw):
        used, inverse = np.unique(key, return_inverse=True)
        columns.append(inverse.reshape(-1) + offset)
        offset += used.size
        population.append(np.full(used.size, level, dtype=np.int8))
        first, second = (used // n, used % n) if level < 2 else (used, np.zeros_like(used))
        coords.append(np.stack([first, second], axis=1))
    return RAPInstance(
        paths=np.stack(columns, axis=1).astype(np.int64),
        xi=x[path_i],
        population=np.concatenate(population),
        coords=np.concatenate(coords).astype(np.int64).reshape(-1, 2),
        x=x,
        n=n,
        p1=float(p1),
        p2=float(p2),
        q=q,
    )


def dilution(layer: int, value: float) -> tuple[float, float, float]:
    """Dilution vector with population ``layer`` (1, 2 or 3) diluted by ``value``, the others 0."""
    if layer not in (1, 2, 3):
        raise ValueError(f"diluted layer must be 1, 2 or 3, got {layer}")
    q = [0.0, 0.0, 0.0]
    q[layer - 1] = float(value)
    return tuple(q)


def degrees(instance: RAPInstance) -> np.ndarray:
    """Degree of each weight (number of active paths through it), shape (n_w,), int64."""
    return np.bincount(instance.paths.ravel(), minlength=instance.n_weights)


def gauge_state(instance: RAPInstance) -> np.ndarray:
    """The planted ground state w1_ij = x_i, w2 = w3 = +1 (every path satisfied), shape (n_w,).

    The Hamiltonian is invariant under flipping every weight into and out of a hidden unit
    (w1_.j -> -w1_.j with w2_j. -> -w2_j.; likewise at hidden-2 units), so this is one of
    2^(active hidden units) equivalent ground states, all with energy -M.
    """
    state = np.ones(instance.n_weights)
    w1 = instance.population == 0
    state[w1] = instance.x[instance.coords[w1, 0]]
    return state


def energy(instance: RAPInstance, w: np.ndarray) -> float:
    """Energy H(w) = - sum_a xi_a prod_{i in a} w_i of one configuration ``w`` (shape (n_w,))."""
    return -float(np.sum(instance.xi * np.prod(w[instance.paths], axis=1)))


def factor_graph(paths: np.ndarray, xi: np.ndarray, n_weights: int) -> RAPInstance:
    """An instance from explicit factors (for tests and hand-made graphs, e.g. trees).

    Parameters
    ----------
    paths : array of int, shape (M, 3)
        Weight indices of each factor, in 0..n_weights-1.
    xi : array of +-1, shape (M,)
        Sign of each factor.
    n_weights : int
        Number of weights; every weight must belong to at least one factor.
    """
    paths = np.asarray(paths, dtype=np.int64).reshape(-1, P_BODY)
    xi = np.asarray(xi, dtype=float)
    if xi.shape != (paths.shape[0],) or not np.all(np.abs(xi) == 1):
        raise ValueError("xi must hold one sign (+1 or -1) per factor")
    if paths.size and (paths.min() < 0 or paths.max() >= n_weights):
        raise ValueError(f"weight indices must lie in 0..{n_weights - 1}")
    if np.any(np.bincount(paths.ravel(), minlength=n_weights) == 0):
        raise ValueError("every weight must belong to at least one factor")
    return RAPInstance(
        paths=paths,
        xi=xi,
        population=np.zeros(n_weights, dtype=np.int8),
        coords=np.zeros((n_weights, 2), dtype=np.int64),
        x=np.ones(1),  # the planted state of a hand-made graph is all +1
        n=0,
        p1=float("nan"),
        p2=float("nan"),
        q=(float("nan"),) * 3,
    )
