"""Monte Carlo of the RAP model: single-weight Glauber dynamics, quench and simulated annealing.

A proposal picks a weight i uniformly at random and flips it with the Glauber (heat-bath)
probability 1 / (1 + exp(beta dE)), dE = 2 w_i h_i = 2 sum_{a in i} sigma_a, where
sigma_a = xi_a prod_{j in a} w_j = +-1 says whether path a is satisfied. The state keeps every
sigma_a, so a proposal costs one pass over the paths of the weight (its degree) and an accepted
flip negates them. A sweep is n_w proposals.

The inner loop is compiled with numba; the random numbers (sites and uniforms) come from a numpy
Generator, so a chain is reproducible from its seed and the compiled and pure-Python versions of
the kernel (``glauber_kernel.py_func``) give identical trajectories.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from prunephase.rap.instance import RAPInstance

#: proposals generated and run per kernel call (bounds the memory of the random numbers)
_CHUNK = 1 << 20


@numba.njit(cache=True)
def glauber_kernel(w, sigma, inc_ptr, inc_path, sites, uniforms, beta, energy):
    """Run ``len(sites)`` Glauber proposals in place; return the new total energy.

    Parameters
    ----------
    w : int8 array (n_w,)
        Weights +-1, updated in place.
    sigma : int8 array (M,)
        Satisfaction xi_a prod w of every path, updated in place.
    inc_ptr, inc_path : int64 arrays (n_w + 1,), (3M,)
        Paths of weight i: ``inc_path[inc_ptr[i]:inc_ptr[i + 1]]``.
    sites : int64 array (K,), uniforms : float64 array (K,)
        Proposed weight and uniform random number of each proposal.
    beta : float
        Inverse temperature.
    energy : int
        Total energy before the proposals.
    """
    for k in range(len(sites)):
        i = sites[k]
        local = 0
        for idx in range(inc_ptr[i], inc_ptr[i + 1]):
            local += sigma[inc_path[idx]]
        # accept with probability 1 / (1 + exp(x)), x = beta dE, written so that exp never overflows
        x = 2.0 * beta * local
        if x > 0.0:
            tail = math.exp(-x)
            accept = uniforms[k] * (1.0 + tail) < tail
        else:
            accept = uniforms[k] * (1.0 + math.exp(x)) < 1.0
        if accept:
            w[i] = -w[i]
            for idx in range(inc_ptr[i], inc_ptr[i + 1]):
                sigma[inc_path[idx]] = -sigma[inc_path[idx]]
            energy += 2 * local
    return energy


@numba.njit(cache=True)
def glauber_sweeps(
    w, sigma, inc_ptr, inc_path, sites, uniforms, beta, energy, energies, mag_sum, accumulate
):
    """Run one sweep per row of ``sites``/``uniforms`` (shape (n_sweeps, n_w)); return the energy.

    The total energy after sweep b goes to ``energies[b]``; if ``accumulate``, the configuration
    after each sweep is added to ``mag_sum`` (float array (n_w,)).
    """
    for b in range(sites.shape[0]):
        energy = glauber_kernel(w, sigma, inc_ptr, inc_path, sites[b], uniforms[b], beta, energy)
        energies[b] = energy
        if accumulate:
            for i in range(w.shape[0]):
                mag_sum[i] += w[i]
    return energy


def incidence(instance: RAPInstance) -> tuple[np.ndarray, np.ndarray]:
    """Paths of every weight as CSR arrays ``(inc_ptr, inc_path)``, shapes (n_w + 1,), (3M,)."""
    flat = instance.paths.ravel()
    order = np.argsort(flat, kind="stable")
    counts = np.bincount(flat, minlength=instance.n_weights)
    inc_ptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    return inc_ptr, (order // instance.paths.shape[1]).astype(np.int64)


class GlauberChain:
    """One Markov chain of single-weight Glauber dynamics on an instance.

    Parameters
    ----------
    instance : RAPInstance
    rng : numpy Generator
        Source of the initial configuration (if ``w0`` is None) and of every proposal.
    w0 : array of +-1, shape (n_w,), optional
        Initial configuration; default uniformly random (infinite temperature).
    """

    def __init__(
        self, instance: RAPInstance, rng: np.random.Generator, w0: np.ndarray | None = None
    ) -> None:
        self.instance = instance
        self.rng = rng
        self.inc_ptr, self.inc_path = incidence(instance)
        n_w = instance.n_weights
        if w0 is None:
            w0 = np.where(rng.random(n_w) < 0.5, -1, 1)
        self.w = np.asarray(w0, dtype=np.int8).copy()
        if self.w.shape != (n_w,) or not np.all(np.abs(self.w) == 1):
            raise ValueError(f"w0 must hold {n_w} values +-1")
        xi = instance.xi.astype(np.int8)
        self.sigma = (xi * np.prod(self.w[instance.paths], axis=1)).astype(np.int8)
        self.energy = -int(self.sigma.sum(dtype=np.int64))

    def sweeps(self, beta: float, n_sweeps: int, mag_sum: np.ndarray | None = None) -> np.ndarray:
        """Run ``n_sweeps`` sweeps at ``beta``.

        Parameters
        ----------
        mag_sum : float array (n_w,), optional
            If given, the configuration after each sweep is added to it (time averages).

        Returns
        -------
        ndarray of int64, shape (n_sweeps,)
            Total energy after each sweep.
        """
        n_w = self.instance.n_weights
        energies = np.empty(n_sweeps, dtype=np.int64)
        accumulator = np.zeros(n_w) if mag_sum is None else mag_sum
        if accumulator.dtype != np.float64 or accumulator.shape != (n_w,):
            raise ValueError(f"mag_sum must be a float64 array of shape ({n_w},)")
        per_call = max(1, _CHUNK // max(n_w, 1))
        done = 0
        while done < n_sweeps:
            block = min(per_call, n_sweeps - done)
            sites = self.rng.integers(0, n_w, size=(block, n_w))
            uniforms = self.rng.random((block, n_w))
            self.energy = glauber_sweeps(
                self.w,
                self.sigma,
                self.inc_ptr,
                self.inc_path,
                sites,
                uniforms,
                float(beta),
                self.energy,
                energies[done : done + block],
                accumulator,
                mag_sum is not None,
            )
            done += block
        return energies


def quench(
    instance: RAPInstance,
    beta: float,
    relax_sweeps: int,
    sample_sweeps: int,
    rng: np.random.Generator,
    chains: int,
) -> dict[str, float]:
    """Independent chains, each quenched from its own random configuration straight to ``beta``,
    relaxed, then sampled.

    Parameters
    ----------
    relax_sweeps, sample_sweeps, chains
        The config's ``rap.mc``; the chains run one after the other from ``rng``.

    Returns
    -------
    dict
        ``e`` mean energy per weight over the sampled sweeps of all chains; ``e_se`` its error, the
        standard deviation of the chain means over sqrt(chains) (independent batches: a chain stuck
        in another state than the others shows up in it), floored at the resolution of the
        sample, 2 d_min / (n_w sample_sweeps chains), d_min the smallest degree (one
        single-weight excitation seen for one sweep shifts the mean by that much; chains that
        never leave their state have no spread but not zero error); ``e_chain_sd`` the standard
        deviation of the chain means; ``q`` mean over chains and weights of the squared
        time-averaged weight (Edwards-Anderson order parameter; about (correlation time) /
        sample_sweeps in a paramagnet).
    """
    if relax_sweeps < 0 or sample_sweeps < 1 or chains < 2:
        raise ValueError("relax_sweeps must be >= 0, sample_sweeps >= 1 and chains >= 2")
    n_w = instance.n_weights
    means, overlaps = np.empty(chains), np.empty(chains)
    for c in range(chains):
        chain = GlauberChain(instance, rng)
        chain.sweeps(beta, relax_sweeps)
        mag_sum = np.zeros(n_w)
        means[c] = chain.sweeps(beta, sample_sweeps, mag_sum).mean() / n_w
        overlaps[c] = np.mean((mag_sum / sample_sweeps) ** 2)
    degree_min = np.diff(chain.inc_ptr).min()
    resolution = 2.0 * degree_min / (n_w * sample_sweeps * chains)
    spread = float(means.std(ddof=1))
    return {
        "e": float(means.mean()),
        "e_se": max(spread / np.sqrt(chains), resolution),
        "e_chain_sd": spread,
        "q": float(overlaps.mean()),
    }


def anneal(
    instance: RAPInstance,
    betas: np.ndarray,
    sweeps_per_temperature: int,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """Simulated annealing: ``sweeps_per_temperature`` sweeps at each inverse temperature in turn.

    Returns
    -------
    mean : ndarray, shape (len(betas),)
        Energy per weight averaged over the sweeps at each temperature.
    last : ndarray, shape (len(betas),)
        Energy per weight after the last sweep at each temperature (the last one is the final
        energy).
    """
    if sweeps_per_temperature < 1:
        raise ValueError("sweeps_per_temperature must be >= 1")
    chain = GlauberChain(instance, rng)
    mean, last = np.empty(len(betas)), np.empty(len(betas))
    for step, beta in enumerate(betas):
        energies = chain.sweeps(float(beta), sweeps_per_temperature) / instance.n_weights
        mean[step], last[step] = energies.mean(), energies[-1]
    return mean, last
