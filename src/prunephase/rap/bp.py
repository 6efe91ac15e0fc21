"""Belief propagation (replica-symmetric cavity method) for the RAP model, vectorised over edges.

Messages live on the edges (a, s) of the factor graph, s = 0, 1, 2 the slot of the weight in path a,
stored as arrays of shape (3, M) aligned with ``instance.paths``. With t = tanh(beta):

    u_{a->i} = xi_a t prod_{j in a, j != i} m_{j->a}                   (factor -> weight)
    m_{i->a} = tanh( sum_{b in i, b != a} atanh u_{b->i} )              (weight -> factor)

One iteration updates the messages of the three weight populations in turn, each population's
edges all at once, with damping m <- damping * m_old + (1 - damping) * m_new; the iteration has
converged when no message moved by more than ``tol`` in one iteration. With
G_a = xi_a prod_{i in a} m_{i->a}, the Bethe free energy per weight is

    -beta f = (1/n_w) [ sum_i ( d_i ln cosh beta
                                + ln( prod_a (1 + u_{a->i}) + prod_a (1 - u_{a->i}) ) )
                        - (p - 1) sum_a ( ln cosh beta + ln(1 + t G_a) ) ],

the energy per weight e = -(1/n_w) sum_a (t + G_a) / (1 + t G_a), and the entropy s = beta (e - f).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from prunephase.rap.instance import RAPInstance, gauge_state

STARTS = ("paramagnetic", "random", "polarised")


@dataclass(frozen=True)
class BPResult:
    """A belief-propagation run.

    Attributes
    ----------
    m : ndarray, shape (3, M)
        Cavity magnetisations m_{i->a} at the last iteration.
    converged : bool
        Whether the largest message change fell below the tolerance within ``max_iter`` iterations.
    iterations : int
        Iterations performed.
    residual : float
        Largest message change in the last iteration.
    """

    m: np.ndarray
    converged: bool
    iterations: int
    residual: float


def factor_messages(instance: RAPInstance, m: np.ndarray, beta: float) -> np.ndarray:
    """u_{a->i} = xi_a tanh(beta) prod_{j in a, j != i} m_{j->a}, shape (3, M)."""
    left = np.ones_like(m)
    right = np.ones_like(m)
    left[1:] = np.cumprod(m[:-1], axis=0)
    right[:-1] = np.cumprod(m[:0:-1], axis=0)[::-1]
    return instance.xi * np.tanh(beta) * left * right


def bp_step(instance: RAPInstance, m: np.ndarray, beta: float, damping: float = 0.0) -> float:
    """One BP iteration, in place: each slot (population) in turn, all its edges at once.

    Updating population by population (a vectorised Gauss-Seidel schedule) avoids the period-2
    oscillation that a fully parallel schedule shows on this nearly bipartite graph.

    Parameters
    ----------
    m : ndarray, shape (3, M)
        Cavity magnetisations m_{i->a}, row s for the weight in slot s of each path; overwritten
        by the new messages.
    damping : float
        New message = damping * old + (1 - damping) * BP update.

    Returns
    -------
    float
        Largest change of a message.
    """
    columns = instance.columns
    scaled_xi = instance.xi * np.tanh(beta)
    n_slots, n_paths = m.shape
    field_in = np.empty(n_paths)
    residual = 0.0
    for s in range(n_slots):
        others = [r for r in range(n_slots) if r != s]
        np.multiply(scaled_xi, m[others[0]], out=field_in)
        for r in others[1:]:
            field_in *= m[r]
        np.arctanh(field_in, out=field_in)
        fields = np.bincount(columns[s], weights=field_in, minlength=instance.n_weights)
        change = fields.take(columns[s])
        change -= field_in
        np.tanh(change, out=change)
        change -= m[s]
        if damping:
            change *= 1.0 - damping
        if n_paths:
            residual = max(residual, float(change.max()), -float(change.min()))
        m[s] += change
    return residual


def bp_step_loop(
    instance: RAPInstance, m: np.ndarray, beta: float, damping: float = 0.0
) -> tuple[np.ndarray, float]:
    """The same iteration as :func:`bp_step` written as plain Python loops over edges.

    Returns the new messages (shape (3, M)) and the largest change; ``m`` is not modified.

    The reference for the vectorised code (tests) and the baseline of the speed benchmark.
    """
    t = math.tanh(beta)
    paths = instance.paths.tolist()
    xi = instance.xi.tolist()
    new = m.tolist()
    n_slots = len(new)
    residual = 0.0
    for s in range(n_slots):
        field_in = [0.0] * len(paths)
        fields = [0.0] * instance.n_weights
        for a, path in enumerate(paths):
            u = xi[a] * t
            for r in range(n_slots):
                if r != s:
                    u *= new[r][a]
            field_in[a] = math.atanh(u)
            fields[path[s]] += field_in[a]
        for a, path in enumerate(paths):
            update = math.tanh(fields[path[s]] - field_in[a])
            update += damping * (new[s][a] - update)
            residual = max(residual, abs(update - new[s][a]))
            new[s][a] = update
    return np.array(new, dtype=float).reshape(m.shape), residual


def initial_messages(
    instance: RAPInstance,
    start: str,
    rng: np.random.Generator | None = None,
    *,
    polarisation: float | None = None,
) -> np.ndarray:
    """Starting cavity magnetisations, shape (3, M).

    Parameters
    ----------
    start : {"paramagnetic", "random", "polarised"}
        paramagnetic: all zero (a fixed point itself); random: independent uniform in (-1, 1) on
        every edge; polarised: ``polarisation`` times the planted ground state (w1 = x_i,
        w2 = w3 = 1) on every edge.
    rng : numpy Generator
        Needed for the random start (only).
    polarisation : float
        Strength of the polarised start, in (0, 1] (config ``rap.bp.polarisation``); needed for
        the polarised start (only).
    """
    shape = instance.columns.shape
    if start == "paramagnetic":
        return np.zeros(shape)
    if start == "random":
        if rng is None:
            raise ValueError("the random start needs a random generator")
        return rng.uniform(-1.0, 1.0, size=shape)
    if start == "polarised":
        if polarisation is None:
            raise ValueError("the polarised start needs its polarisation")
        if not 0.0 < polarisation <= 1.0:
            raise ValueError(f"polarisation must lie in (0, 1], got {polarisation}")
        return polarisation * gauge_state(instance)[instance.columns]
    raise ValueError(f"unknown BP start {start!r}; choose one of {STARTS}")


def run_bp(
    instance: RAPInstance,
    beta: float,
    m0: np.ndarray,
    *,
    damping: float,
    tol: float,
    max_iter: int,
) -> BPResult:
    """Iterate BP from the cavity magnetisations ``m0`` (shape (3, M)) until convergence.

    Parameters
    ----------
    beta : float
        Inverse temperature (> 0).
    damping : float
        Weight of the old message in the update, in [0, 1).
    tol : float
        Convergence threshold on the largest change of a message in one iteration.
    max_iter : int
        Iterations allowed; a run that reaches it has ``converged=False`` (never hidden).

    The three are the config's ``rap.bp.damping``, ``tol`` and ``max_iter``.
    """
    if not beta > 0:
        raise ValueError(f"beta must be positive, got {beta}")
    if not 0.0 <= damping < 1.0:
        raise ValueError(f"damping must lie in [0, 1), got {damping}")
    m = np.array(m0, dtype=float, copy=True)
    if m.shape != instance.columns.shape:
        raise ValueError(f"messages have shape {m.shape}, expected {instance.columns.shape}")
    residual = np.inf
    for iteration in range(1, max_iter + 1):
        residual = bp_step(instance, m, beta, damping)
        if residual < tol:
            return BPResult(m=m, converged=True, iterations=iteration, residual=residual)
    return BPResult(m=m, converged=False, iterations=max_iter, residual=residual)


def thermodynamics(instance: RAPInstance, m: np.ndarray, beta: float) -> dict[str, float]:
    """Bethe free energy, energy, entropy and order parameters per weight at messages ``m``.

    Returns
    -------
    dict
        ``f`` (free energy per weight), ``e`` (energy per weight), ``s`` (entropy per weight,
        beta (e - f)), ``q`` (mean over weights of the squared full magnetisation
        m_i = tanh(sum_a atanh u_{a->i})), ``q_w1``, ``q_w2``, ``q_w3`` (the same per population),
        ``overlap`` (mean of m_i times the planted ground state).
    """
    t = np.tanh(beta)
    n_w = instance.n_weights
    log_cosh = np.logaddexp(beta, -beta) - np.log(2.0)
    u = factor_messages(instance, m, beta)
    flat = instance.columns.ravel()
    log_plus = np.bincount(flat, weights=np.log1p(u).ravel(), minlength=n_w)
    log_minus = np.bincount(flat, weights=np.log1p(-u).ravel(), minlength=n_w)
    deg = np.bincount(flat, minlength=n_w)
    g = instance.xi * np.prod(m, axis=0)
    p = m.shape[0]
    minus_beta_f = (
        np.sum(deg * log_cosh + np.logaddexp(log_plus, log_minus))
        - (p - 1) * np.sum(log_cosh + np.log1p(t * g))
    ) / n_w
    f = -minus_beta_f / beta
    e = -np.sum((t + g) / (1.0 + t * g)) / n_w
    mag = np.tanh(np.bincount(flat, weights=np.arctanh(u).ravel(), minlength=n_w))
    out = {"f": float(f), "e": float(e), "s": float(beta * (e - f)), "q": float(np.mean(mag**2))}
    for level in range(3):
        sel = instance.population == level
        out[f"q_w{level + 1}"] = float(np.mean(mag[sel] ** 2)) if sel.any() else float("nan")
    out["overlap"] = float(np.mean(mag * gauge_state(instance)))
    return out


def paramagnetic(alpha: float | np.ndarray, beta: float | np.ndarray) -> dict[str, np.ndarray]:
    """Closed forms at the paramagnetic fixed point (all m = 0), per weight.

    -beta f = ln 2 + alpha ln cosh beta, e = -alpha tanh beta,
    s = ln 2 + alpha (ln cosh beta - beta tanh beta).
    """
    alpha = np.asarray(alpha, dtype=float)
    beta = np.asarray(beta, dtype=float)
    log_cosh = np.logaddexp(beta, -beta) - np.log(2.0)
    return {
        "f": -(np.log(2.0) + alpha * log_cosh) / beta,
        "e": -alpha * np.tanh(beta),
        "s": np.log(2.0) + alpha * (log_cosh - beta * np.tanh(beta)),
    }
