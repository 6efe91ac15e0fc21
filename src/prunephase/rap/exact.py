"""Exact thermodynamics of RAP instances: brute-force enumeration, and the block decomposition.

Block decomposition. Every path through hidden-2 unit k uses w3_k together with some w2_jk, so the
change of variables tau_jk = w2_jk w3_k (a bijection for fixed w3) removes W3 from the energy, and
the gauge w1'_ij = x_i w1_ij removes xi. What is left is H = - sum_j sum_{i in in(j), k in out(j)}
w1'_ij tau_jk: for each active hidden-1 unit j an independent Ising ferromagnet on the complete
bipartite graph between its a_j inputs and its b_j outputs. Its partition function depends only on
the two magnetisations, so

    Z = 2^{n_w3} prod_j sum_{k1=0}^{a_j} sum_{k2=0}^{b_j} C(a_j, k1) C(b_j, k2)
                          exp(beta (a_j - 2 k1)(b_j - 2 k2))

is exact for every instance built by :func:`~prunephase.rap.instance.build_instance`, at any size.
"""

from __future__ import annotations

import numpy as np
from scipy.special import gammaln, logsumexp

from prunephase.rap.instance import RAPInstance

#: largest number of weights that :func:`enumerate_thermodynamics` accepts
MAX_ENUMERATED = 24


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
    """Sizes of the bipartite blocks: (a_j, b_j) for each hidden-1 unit with paths, and n_w3.

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


def block_thermodynamics(instance: RAPInstance, beta: float) -> dict[str, float]:
    """Exact free energy, energy and entropy per weight of a built instance (block decomposition).

    Only for instances from :func:`~prunephase.rap.instance.build_instance` (the decomposition
    uses the network coordinates of the weights).
    """
    if instance.n_weights == 0:
        raise ValueError("the instance has no active path")
    a, b, n_w3 = block_sizes(instance)
    pairs, counts = np.unique(np.stack([a, b], axis=1), axis=0, return_counts=True)
    log_z = n_w3 * np.log(2.0)
    energy = 0.0
    for (size_a, size_b), count in zip(pairs, counts, strict=True):
        block_log_z, block_energy = _block_log_z(int(size_a), int(size_b), beta)
        log_z += count * block_log_z
        energy += count * block_energy
    return _per_weight(log_z, energy, beta, instance.n_weights)
