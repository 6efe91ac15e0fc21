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
    construction, disorder
        How its paths were drawn and what sign they carry (the ``construction`` and ``xi`` of
        :func:`build_instance`); ``"graph"`` and ``"given"`` for a hand-made factor graph.
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
    construction: str
    disorder: str

    @cached_property
    def columns(self) -> np.ndarray:
        """The transpose of ``paths``, contiguous, shape (3, M): row s = the weights in slot s."""
        return np.ascontiguousarray(self.paths.T)

    @cached_property
    def single_slot(self) -> bool:
        """Whether every weight sits in the same slot of all its paths (true for every built
        instance, where slot s holds population s; a hand-made graph may mix slots)."""
        slot_of = np.full(self.n_weights, -1)
        for s, column in enumerate(self.columns):
            slot_of[column] = s
        return all(np.all(slot_of[column] == s) for s, column in enumerate(self.columns))

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


#: how the active paths are drawn (config ``rap.model.construction``)
CONSTRUCTIONS = ("network", "independent", "iid")
#: what sign a path carries (config ``rap.model.xi``)
DISORDER = ("input", "path")


def build_instance(
    n: int,
    p1: float,
    p2: float,
    q: Sequence[float],
    seed: int | np.random.SeedSequence,
    *,
    construction: str,
    xi: str,
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
    construction : {"network", "independent", "iid"}
        ``network``: hidden units are active with probabilities p1, p2 and each connection
        survives dilution with probability 1 - q_l, so path (i, j, k) is active when j and k are
        active and its three connections survive (paths share units and connections).
        ``independent``: units are active as in ``network``, but each path through active units
        survives on its own, with probability (1 - q1)(1 - q2)(1 - q3).
        ``iid``: every triple (i, j, k) is an active path on its own, with probability
        p1 p2 (1 - q1)(1 - q2)(1 - q3) (nothing shared).
        In all three a path is active with the same probability.
    xi : {"input", "path"}
        ``input``: a path carries the sign x_i of its input unit (paths from one input share it);
        ``path``: each path carries a sign of its own (a frustrated control).

    Returns
    -------
    RAPInstance
        Weights are numbered population by population (W1, then W2, then W3), each in row-major
        order of its coordinates; only weights used by at least one active path are kept.

    Notes
    -----
    The draws of ``network`` come first, in a fixed order (x, the unit activations, the
    connections of W1, W2, W3); then a 64-bit key, from which a counter-based hash gives each
    triple (i, j, k) its own uniform number (for ``independent`` and ``iid``) and its own sign
    (for ``xi="path"``). Parameters only threshold these draws, so the instances of one seed are
    nested in q (raising a dilution removes paths, never adds any), whatever the construction.
    """
    q = tuple(float(v) for v in q)
    if len(q) != P_BODY:
        raise ValueError(f"q must give one dilution per population ({P_BODY}), got {len(q)}")
    for name, value in (("p1", p1), ("p2", p2), *zip(("q1", "q2", "q3"), q, strict=True)):
        if not 0.0 <= value <= 1.0:
            raise ValueError(f"{name} must lie in [0, 1], got {value}")
    if int(n) < 1:
        raise ValueError(f"width n must be >= 1, got {n}")
    if construction not in CONSTRUCTIONS:
        raise ValueError(f"unknown construction {construction!r}; choose one of {CONSTRUCTIONS}")
    if xi not in DISORDER:
        raise ValueError(f"unknown path sign {xi!r}; choose one of {DISORDER}")
    n = int(n)
    rng = np.random.default_rng(seed)
    # fixed draw order: every parameter only thresholds these, so instances are nested
    x = np.where(rng.random(n) < 0.5, -1.0, 1.0)
    active1 = rng.random(n) < p1
    active2 = rng.random(n) < p2
    keep1 = rng.random((n, n)) >= q[0]  # W1[i, j]
    keep2 = rng.random((n, n)) >= q[1]  # W2[j, k]
    keep3 = rng.random(n) >= q[2]  # W3[k]
    key = int(rng.integers(0, 2**63))

    if construction == "network":
        path_i, path_j, path_k = _network_paths(n, active1, active2, keep1, keep2, keep3)
    else:
        survive = (1.0 - q[0]) * (1.0 - q[1]) * (1.0 - q[2])
        if construction == "independent":
            path_i, path_j, path_k = _hashed_paths(n, active1, active2, survive, key)
        else:
            everyone = np.ones(n, dtype=bool)
            p_path = float(p1) * float(p2) * survive
            path_i, path_j, path_k = _hashed_paths(n, everyone, everyone, p_path, key)
    if xi == "input":
        signs = x[path_i]
    else:
        draws = _triple_uniform(key ^ _SIGN_KEY, path_i, path_j, path_k, n)
        signs = np.where(draws < 0.5, -1.0, 1.0)

    raw = (path_i * n + path_j, path_j * n + path_k, path_k)
    columns, coords, population = [], [], []
    offset = 0
    for level, key_l in enumerate(raw):
        used, inverse = np.unique(key_l, return_inverse=True)
        columns.append(inverse.reshape(-1) + offset)
        offset += used.size
        population.append(np.full(used.size, level, dtype=np.int8))
        first, second = (used // n, used % n) if level < 2 else (used, np.zeros_like(used))
        coords.append(np.stack([first, second], axis=1))
    return RAPInstance(
        paths=np.stack(columns, axis=1).astype(np.int64).reshape(-1, P_BODY),
        xi=signs.astype(float),
        population=np.concatenate(population),
        coords=np.concatenate(coords).astype(np.int64).reshape(-1, 2),
        x=x,
        n=n,
        p1=float(p1),
        p2=float(p2),
        q=q,
        construction=construction,
        disorder=xi,
    )


def _network_paths(n, active1, active2, keep1, keep2, keep3):
    """Paths (i, j, k) with j, k active and their three connections kept, sorted by (j, k, i)."""
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
    return path_i, pair_j[pair_of_path], pair_k[pair_of_path]


#: xor-ed into an instance's key for the signs of ``xi="path"`` (the survival draws use the key)
_SIGN_KEY = 0x5DEECE66D


def _mix64(z: np.ndarray) -> np.ndarray:
    """The splitmix64 finaliser: a bijection of uint64 that scrambles every bit."""
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def _triple_uniform(key: int, i, j, k, n: int) -> np.ndarray:
    """A uniform number in [0, 1) for each triple (i, j, k), a function of the key and the triple
    only (counter-based), so a triple keeps its number whatever else is drawn."""
    counter = (np.asarray(i, np.uint64) * np.uint64(n) + np.asarray(j, np.uint64)) * np.uint64(
        n
    ) + np.asarray(k, np.uint64)
    with np.errstate(over="ignore"):
        z = _mix64(counter * np.uint64(0x9E3779B97F4A7C15) ^ np.uint64(key))
    return (z >> np.uint64(11)).astype(np.float64) * 2.0**-53


def _hashed_paths(n, active1, active2, probability, key):
    """Triples (i, j, k) over the active units whose own uniform number is below
    ``probability``, sorted by (j, k, i), built one input unit at a time (memory N^2)."""
    units_j, units_k = np.flatnonzero(active1), np.flatnonzero(active2)
    grid_j, grid_k = np.meshgrid(units_j, units_k, indexing="ij")
    grid_j, grid_k = grid_j.ravel(), grid_k.ravel()
    found = []
    for i in range(n):
        chosen = _triple_uniform(key, i, grid_j, grid_k, n) < probability
        found.append((np.full(int(chosen.sum()), i), grid_j[chosen], grid_k[chosen]))
    path_i, path_j, path_k = (np.concatenate(parts).astype(np.int64) for parts in zip(*found))
    order = np.lexsort((path_i, path_k, path_j))
    return path_i[order], path_j[order], path_k[order]


def network_blocks(
    n: int,
    p1: float,
    p2: float,
    layer: int,
    q_values: Sequence[float],
    seed: int | np.random.SeedSequence,
) -> list[tuple[np.ndarray, np.ndarray, int]]:
    """The block sizes of the ``network`` instances of one seed at several dilutions of one
    population, without building their paths (for widths where the paths would not fit).

    The draws are those of :func:`build_instance` (same order), so entry m equals
    :func:`prunephase.rap.exact.block_sizes` of ``build_instance(n, p1, p2, dilution(layer,
    q_values[m]), seed, construction="network", xi=...)``.

    Returns
    -------
    list of (a, b, n_w3)
        Per dilution: the inputs a_j and outputs b_j of every hidden-1 unit with paths (int
        arrays, in the order of j) and the number of W3 weights on a path.
    """
    rng = np.random.default_rng(seed)
    rng.random(n)  # the input signs (not needed for the block sizes)
    active1 = rng.random(n) < p1
    active2 = rng.random(n) < p2
    u1, u2, u3 = rng.random((n, n)), rng.random((n, n)), rng.random(n)
    out = []
    for value in q_values:
        q1, q2, q3 = dilution(layer, value)
        link1 = (u1 >= q1) & active1[None, :]
        link2 = (u2 >= q2) & active1[:, None] & (active2 & (u3 >= q3))[None, :]
        a, b = link1.sum(axis=0), link2.sum(axis=1)
        used = (a > 0) & (b > 0)
        out.append((a[used], b[used], int(np.any(link2[used], axis=0).sum())))
    return out


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


def broken_gauges(instance: RAPInstance, mag: np.ndarray, threshold: float) -> int:
    """Number of hidden-unit gauge symmetries that a state with magnetisations ``mag`` breaks.

    Flipping every weight into and out of a hidden unit (w1_.j and w2_j. at hidden-1 unit j;
    w2_.k and w3_k at hidden-2 unit k) leaves every path, hence H, unchanged, whatever the
    construction and the signs. A BP fixed point breaks the symmetry of a unit when one of the
    weights it flips is magnetised (m_i^2 > ``threshold``); the flipped fixed point is then
    another one, with the same Bethe free energy, which the fixed point does not count: the
    ordered free energy of all copies is f - T ln 2 (broken units) / n_w.

    Parameters
    ----------
    mag : ndarray (n_w,)
        Full magnetisations (:func:`prunephase.rap.bp.magnetisations`).
    threshold : float
        Config ``rap.bp.order_threshold``.
    """
    polarised = np.asarray(mag) ** 2 > threshold
    pop, coords, n = instance.population, instance.coords, instance.n
    hidden1 = np.zeros(n, dtype=bool)  # j: its inputs w1_.j and its outputs w2_j.
    hidden2 = np.zeros(n, dtype=bool)  # k: its inputs w2_.k and w3_k
    np.logical_or.at(hidden1, coords[pop == 0, 1], polarised[pop == 0])
    np.logical_or.at(hidden1, coords[pop == 1, 0], polarised[pop == 1])
    np.logical_or.at(hidden2, coords[pop == 1, 1], polarised[pop == 1])
    np.logical_or.at(hidden2, coords[pop == 2, 0], polarised[pop == 2])
    return int(hidden1.sum() + hidden2.sum())


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
        construction="graph",
        disorder="given",
    )
