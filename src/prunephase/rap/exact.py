"""Exact thermodynamics of RAP instances: brute-force enumeration, and the block decomposition.

Gauge. Every path through hidden-2 unit k uses w3_k together with some w2_jk, so the change of
variables tau_jk = w2_jk w3_k (a bijection for fixed w3) removes W3 from the energy, whatever the
construction and the signs: H = - sum_a xi_a w1_ij tau_jk, a pairwise model on the graph whose
nodes are the W1 and W2 weights and whose edges are the paths, times 2^{n_w3}. Both ends of an
edge carry the hidden-1 unit j, so the graph falls apart into one block per hidden-1 unit (and a
block into its connected components), and Z is the product over components.

- ``network`` construction, ``input`` signs: the block of unit j is the complete bipartite graph
  between its a_j inputs and its b_j outputs, and the gauge w1'_ij = x_i w1_ij makes every coupling
  +1: an Ising ferromagnet whose partition function depends only on the two magnetisations,

      Z = 2^{n_w3} prod_j sum_{k1=0}^{a_j} sum_{k2=0}^{b_j} C(a_j, k1) C(b_j, k2)
                            exp(beta (a_j - 2 k1)(b_j - 2 k2)),

  exact at any size (:func:`block_thermodynamics`).
- any other reading: each connected component is summed over the configurations of its smaller
  side (the other side then sits in independent fields), Z_c = sum_sigma prod_l 2 cosh(beta h_l),
  which is exact where every component has a side of at most :data:`MAX_SIDE` weights; a tree
  component is 2^{nodes} cosh(beta)^{edges} (:func:`component_thermodynamics`).
"""

from __future__ import annotations

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.special import gammaln, logsumexp

from prunephase.rap.instance import RAPInstance

#: largest number of weights that :func:`enumerate_thermodynamics` accepts
MAX_ENUMERATED = 24
#: largest side of a component that :func:`component_thermodynamics` sums over (2^(side - 1)
#: configurations); a larger component makes the exact solution unavailable (NaN)
MAX_SIDE = 16
#: configurations per chunk of that sum (bounds its memory)
_CHUNK = 1 << 13


def _per_weight(log_z: float, mean_energy: float, beta: float, n_w: int) -> dict[str, float]:
    f = -log_z / (beta * n_w)
    e = mean_energy / n_w
    return {"f": float(f), "e": float(e), "s": float(beta * (e - f))}


def enumerate_thermodynamics(instance: RAPInstance, beta: float) -> dict[str, float]:
    """Free energy, energy and entropy per weight by summing over all 2^n_w configurations.

    Also returns ``e2``, the mean of (energy per weight)^2, for fluctuation checks.
    """
    n_w = instance.n_weights
    if n_w > MAX_ENUMERATED:
        raise ValueError(f"enumeration is limited to {MAX_ENUMERATED} weights, got {n_w}")
    configs = np.arange(2**n_w, dtype=np.int64)
    energy = np.zeros(configs.size)
    for path, sign in zip(instance.paths, instance.xi, strict=True):
        parity = np.zeros(configs.size, dtype=np.int64)
        for i in path:
            parity ^= (configs >> int(i)) & 1  # bit 1 means w_i = -1
        energy -= sign * (1 - 2 * parity)
    log_weight = -beta * energy
    log_z = logsumexp(log_weight)
    prob = np.exp(log_weight - log_z)
    out = _per_weight(log_z, float(prob @ energy), beta, n_w)
    out["e2"] = float(prob @ (energy / n_w) ** 2)
    return out


def block_sizes(instance: RAPInstance) -> tuple[np.ndarray, np.ndarray, int]:
    """Sizes of the blocks: (a_j, b_j) for each hidden-1 unit with paths, and n_w3.

    Returns
    -------
    a, b : int arrays (n_blocks,)
        Number of W1 weights (inputs) and of W2 weights (outputs) of each block.
    n_w3 : int
        Number of W3 weights.
    """
    pop, coords = instance.population, instance.coords
    a = np.bincount(coords[pop == 0, 1], minlength=instance.n)
    b = np.bincount(coords[pop == 1, 0], minlength=instance.n)
    if np.any((a > 0) != (b > 0)):
        raise ValueError("inconsistent instance: a hidden-1 unit has inputs but no outputs")
    used = a > 0
    return a[used], b[used], int(np.sum(pop == 2))


def _block_log_z(a: int, b: int, beta: float) -> tuple[float, float]:
    """ln Z and mean energy of the complete bipartite ferromagnet K(a, b) at ``beta``."""
    k1 = np.arange(a + 1)
    k2 = np.arange(b + 1)
    log_c1 = gammaln(a + 1) - gammaln(k1 + 1) - gammaln(a - k1 + 1)
    log_c2 = gammaln(b + 1) - gammaln(k2 + 1) - gammaln(b - k2 + 1)
    coupling = np.outer(a - 2 * k1, b - 2 * k2).astype(float)
    log_w = log_c1[:, None] + log_c2[None, :] + beta * coupling
    log_z = logsumexp(log_w)
    return float(log_z), float(-np.sum(np.exp(log_w - log_z) * coupling))


def blocks_thermodynamics(a: np.ndarray, b: np.ndarray, n_w3: int, beta: float) -> dict[str, float]:
    """Exact f, e, s per weight of the complete bipartite ferromagnets K(a_j, b_j) and n_w3 free
    W3 weights (the gauged ``network`` instance with input signs)."""
    pairs, counts = np.unique(np.stack([a, b], axis=1), axis=0, return_counts=True)
    log_z = n_w3 * np.log(2.0)
    energy = 0.0
    for (size_a, size_b), count in zip(pairs, counts, strict=True):
        block_log_z, block_energy = _block_log_z(int(size_a), int(size_b), beta)
        log_z += count * block_log_z
        energy += count * block_energy
    return _per_weight(log_z, energy, beta, int(np.sum(a) + np.sum(b) + n_w3))


def block_thermodynamics(instance: RAPInstance, beta: float) -> dict[str, float]:
    """Exact free energy, energy and entropy per weight of a ``network`` instance with ``input``
    signs (the closed-form block decomposition)."""
    if (instance.construction, instance.disorder) != ("network", "input"):
        raise ValueError(
            "the closed-form blocks need the network construction with input signs, got "
            f"{instance.construction!r} with {instance.disorder!r} signs"
        )
    if instance.n_weights == 0:
        raise ValueError("the instance has no active path")
    return blocks_thermodynamics(*block_sizes(instance), beta)


def _bipartite_log_z(coupling: np.ndarray, beta: float) -> tuple[float, float]:
    """ln Z and mean energy of H = - sigma^T J tau summed over sigma (the rows of ``coupling``,
    shape (s, l)) and tau; sigma -> -sigma leaves Z unchanged, so sigma_0 = +1 and a factor 2."""
    side = coupling.shape[0]
    n_configs = 1 << (side - 1)
    logs, energies = [], []
    bits = np.arange(side - 1)
    for start in range(0, n_configs, _CHUNK):
        index = np.arange(start, min(start + _CHUNK, n_configs))
        sigma = np.ones((index.size, side))
        sigma[:, 1:] = 1.0 - 2.0 * ((index[:, None] >> bits) & 1)
        h = sigma @ coupling  # (configs, l): the field on each tau
        log_w = np.sum(np.logaddexp(beta * h, -beta * h), axis=1)  # ln prod 2 cosh(beta h)
        logs.append(log_w)
        energies.append(-np.sum(h * np.tanh(beta * h), axis=1))
    log_w = np.concatenate(logs)
    log_z = logsumexp(log_w)
    mean_energy = float(np.exp(log_w - log_z) @ np.concatenate(energies))
    return float(log_z + np.log(2.0)), mean_energy


def component_thermodynamics(instance: RAPInstance, beta: float) -> dict[str, float]:
    """Exact free energy, energy and entropy per weight of any built instance, component by
    component (module docstring); NaN where a component has no side of at most MAX_SIDE weights.

    Also returns ``largest_side``, the smaller side of the largest component (the cost).
    """
    if instance.n_weights == 0:
        raise ValueError("the instance has no active path")
    pop = instance.population
    n_w1, n_w2 = int(np.sum(pop == 0)), int(np.sum(pop == 1))
    n_w3 = instance.n_weights - n_w1 - n_w2
    # W1 weights are 0 .. n_w1 - 1 and W2 weights n_w1 .. n_w1 + n_w2 - 1 (build_instance)
    left, right = instance.paths[:, 0], instance.paths[:, 1] - n_w1
    n_nodes = n_w1 + n_w2
    graph = coo_matrix((np.ones(left.size), (left, right + n_w1)), shape=(n_nodes, n_nodes)).tocsr()
    _, label = connected_components(graph, directed=False)
    edge_label = label[left]
    order = np.argsort(edge_label, kind="stable")
    edge_starts = np.searchsorted(edge_label[order], np.arange(label.max() + 2))
    node_count = np.bincount(label)
    log_z, energy, largest = n_w3 * np.log(2.0), 0.0, 0
    log_cosh = float(np.logaddexp(beta, -beta) - np.log(2.0))
    for c in range(label.max() + 1):
        edges = order[edge_starts[c] : edge_starts[c + 1]]
        if edges.size == node_count[c] - 1:  # a tree: every edge sums freely
            log_z += node_count[c] * np.log(2.0) + edges.size * log_cosh
            energy -= edges.size * np.tanh(beta)
            continue
        rows, row_index = np.unique(left[edges], return_inverse=True)
        cols, col_index = np.unique(right[edges], return_inverse=True)
        coupling = np.zeros((rows.size, cols.size))
        np.add.at(coupling, (row_index, col_index), instance.xi[edges])
        if rows.size > cols.size:
            coupling = coupling.T
        largest = max(largest, coupling.shape[0])
        if coupling.shape[0] > MAX_SIDE:
            nan = float("nan")
            return {"f": nan, "e": nan, "s": nan, "largest_side": largest}
        block_log_z, block_energy = _bipartite_log_z(coupling, beta)
        log_z += block_log_z
        energy += block_energy
    return _per_weight(log_z, energy, beta, instance.n_weights) | {"largest_side": largest}


def exact_thermodynamics(instance: RAPInstance, beta: float) -> dict[str, float]:
    """Exact f, e, s per weight of a built instance: the closed-form blocks where they apply,
    else the component sum (NaN where a component is too large to sum)."""
    if (instance.construction, instance.disorder) == ("network", "input"):
        return block_thermodynamics(instance, beta)
    out = component_thermodynamics(instance, beta)
    return {key: out[key] for key in ("f", "e", "s")}
