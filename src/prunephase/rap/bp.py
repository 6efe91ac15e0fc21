"""Belief propagation (replica-symmetric cavity method) for the RAP model, vectorised over edges.

Messages live on the edges (a, s) of the factor graph, s = 0, 1, 2 the slot of the weight in path a,
stored as arrays of shape (3, M) aligned with ``instance.paths``. With t = tanh(beta) and an
optional external field h_i on the weights (the RAP model has none; tests use it):

    u_{a->i} = xi_a t prod_{j in a, j != i} m_{j->a}                       (factor -> weight)
    m_{i->a} = tanh( beta h_i + sum_{b in i, b != a} atanh u_{b->i} )       (weight -> factor)

The sum runs over every factor of weight i, in whatever slot the weight sits there. Schedules:
``sequential`` updates the messages of slot 0, then 1, then 2, each slot's edges all at once from
the current messages (in a built instance a slot is a weight population: a vectorised
Gauss-Seidel schedule); ``parallel`` updates every message from the previous iteration's. Damping
m <- damping * m_old + (1 - damping) * m_new; converged when no message moved by more than ``tol``
in one iteration. With G_a = xi_a prod_{i in a} m_{i->a}, the Bethe free energy per weight is

    -beta f = (1/n_w) [ sum_i ( d_i ln cosh beta
                                + ln( e^{beta h_i} prod_a (1 + u_{a->i})
                                      + e^{-beta h_i} prod_a (1 - u_{a->i}) ) )
                        - (p - 1) sum_a ( ln cosh beta + ln(1 + t G_a) ) ],

the energy per weight e = -(1/n_w) [ sum_a (t + G_a) / (1 + t G_a) + sum_i h_i m_i ], and the
entropy s = beta (e - f).
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
    # prefix and suffix products, one slot at a time (numpy's cumprod along the short first axis
    # of a (3, M) array is far slower than these row products)
    n_slots = m.shape[0]
    left, right = np.ones_like(m), np.ones_like(m)
    for s in range(1, n_slots):
        np.multiply(left[s - 1], m[s - 1], out=left[s])
        np.multiply(right[n_slots - s], m[n_slots - s], out=right[n_slots - s - 1])
    left *= right
    left *= instance.xi * np.tanh(beta)
    return left


SCHEDULES = ("sequential", "parallel")


def _external(instance: RAPInstance, field: np.ndarray | None, beta: float) -> np.ndarray | None:
    """beta h_i as an array (n_w,), or None without a field."""
    if field is None:
        return None
    field = np.asarray(field, dtype=float)
    if field.shape != (instance.n_weights,):
        raise ValueError(f"field has shape {field.shape}, expected ({instance.n_weights},)")
    return beta * field


def _slot_fields(instance: RAPInstance, m: np.ndarray, beta: float, s: int):
    """atanh u on the edges of slot s, and the total cavity field sum_a atanh u_{a->i} of every
    weight, from the current messages.

    When every weight sits in one slot only (:attr:`RAPInstance.single_slot`, true for every built
    instance) the weights of slot s receive messages from slot s only, so one slot's edges
    suffice; otherwise the sum runs over the edges of every slot.
    """
    if instance.single_slot:
        others = [r for r in range(m.shape[0]) if r != s]
        h_s = instance.xi * np.tanh(beta) * m[others[0]]
        for r in others[1:]:
            h_s *= m[r]
        np.arctanh(h_s, out=h_s)
        return h_s, np.bincount(instance.columns[s], weights=h_s, minlength=instance.n_weights)
    h = np.arctanh(factor_messages(instance, m, beta))
    fields = np.bincount(instance.columns.ravel(), weights=h.ravel(), minlength=instance.n_weights)
    return h[s], fields


def bp_step(
    instance: RAPInstance,
    m: np.ndarray,
    beta: float,
    damping: float,
    *,
    schedule: str,
    field: np.ndarray | None = None,
) -> float:
    """One BP iteration, in place.

    Parameters
    ----------
    m : ndarray, shape (3, M)
        Cavity magnetisations m_{i->a}, row s for the weight in slot s of each path; overwritten
        by the new messages.
    damping : float
        New message = damping * old + (1 - damping) * BP update.
    schedule : {"sequential", "parallel"}
        Slot by slot from the current messages, or every slot from the previous iteration's
        (config ``rap.bp.schedule``). On the nearly bipartite RAP graph the parallel schedule can
        cycle with period 2 where the sequential one converges.
    field : ndarray (n_w,), optional
        External field h_i on each weight.

    Returns
    -------
    float
        Largest change of a message.
    """
    if schedule not in SCHEDULES:
        raise ValueError(f"unknown BP schedule {schedule!r}; choose one of {SCHEDULES}")
    external = _external(instance, field, beta)
    n_slots = m.shape[0]
    if schedule == "parallel":
        updates = [_slot_fields(instance, m, beta, s) for s in range(n_slots)]
    residual = 0.0
    for s in range(n_slots):
        h_s, fields = updates[s] if schedule == "parallel" else _slot_fields(instance, m, beta, s)
        if external is not None:
            fields += external
        change = fields.take(instance.columns[s])
        change -= h_s
        np.tanh(change, out=change)
        change -= m[s]
        if damping:
            change *= 1.0 - damping
        if change.size:
            residual = max(residual, float(change.max()), -float(change.min()))
        m[s] += change
    return residual


def bp_step_loop(
    instance: RAPInstance,
    m: np.ndarray,
    beta: float,
    damping: float,
    *,
    schedule: str,
    field: np.ndarray | None = None,
) -> tuple[np.ndarray, float]:
    """The same iteration as :func:`bp_step` written as plain Python loops over edges.

    Returns the new messages (shape (3, M)) and the largest change; ``m`` is not modified. It
    makes no use of :attr:`RAPInstance.single_slot`: every weight gathers the messages of all its
    factors, in any slot.

    The reference for the vectorised code (tests) and the baseline of the speed benchmark.
    """
    if schedule not in SCHEDULES:
        raise ValueError(f"unknown BP schedule {schedule!r}; choose one of {SCHEDULES}")
    t = math.tanh(beta)
    paths = instance.paths.tolist()
    xi = instance.xi.tolist()
    external = [0.0] * instance.n_weights if field is None else [beta * h for h in field]
    new = m.tolist()
    old = m.tolist()
    n_slots = len(new)
    residual = 0.0
    for s in range(n_slots):
        source = old if schedule == "parallel" else new
        incoming = [[0.0] * len(paths) for _ in range(n_slots)]  # atanh u on every edge
        fields = list(external)
        for a, path in enumerate(paths):
            for r in range(n_slots):
                u = xi[a] * t
                for r2 in range(n_slots):
                    if r2 != r:
                        u *= source[r2][a]
                incoming[r][a] = math.atanh(u)
                fields[path[r]] += incoming[r][a]
        for a, path in enumerate(paths):
            update = math.tanh(fields[path[s]] - incoming[s][a])
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
    schedule: str,
    field: np.ndarray | None = None,
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
    schedule : {"sequential", "parallel"}
        See :func:`bp_step`.
    field : ndarray (n_w,), optional
        External field on the weights (none in the RAP model).

    The first four after ``m0`` are the config's ``rap.bp.damping``, ``tol``, ``max_iter`` and
    ``schedule``.
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
        residual = bp_step(instance, m, beta, damping, schedule=schedule, field=field)
        if residual < tol:
            return BPResult(m=m, converged=True, iterations=iteration, residual=residual)
    return BPResult(m=m, converged=False, iterations=max_iter, residual=residual)


def magnetisations(
    instance: RAPInstance, m: np.ndarray, beta: float, field: np.ndarray | None = None
) -> np.ndarray:
    """Full magnetisations m_i = tanh(beta h_i + sum_a atanh u_{a->i}), shape (n_w,)."""
    u = factor_messages(instance, m, beta)
    total = np.bincount(
        instance.columns.ravel(), weights=np.arctanh(u).ravel(), minlength=instance.n_weights
    )
    external = _external(instance, field, beta)
    return np.tanh(total if external is None else total + external)


def thermodynamics(
    instance: RAPInstance, m: np.ndarray, beta: float, field: np.ndarray | None = None
) -> dict[str, float]:
    """Bethe free energy, energy, entropy and order parameters per weight at messages ``m``.

    Returns
    -------
    dict
        ``f`` (free energy per weight), ``e`` (energy per weight), ``s`` (entropy per weight,
        beta (e - f)), ``q`` (mean over weights of the squared full magnetisation, see
        :func:`magnetisations`), ``q_w1``, ``q_w2``, ``q_w3`` (the same per population),
        ``overlap`` (mean of m_i times the planted ground state).
    """
    t = np.tanh(beta)
    n_w = instance.n_weights
    log_cosh = np.logaddexp(beta, -beta) - np.log(2.0)
    u = factor_messages(instance, m, beta)
    flat = instance.columns.ravel()
    log_plus = np.bincount(flat, weights=np.log1p(u).ravel(), minlength=n_w)
    log_minus = np.bincount(flat, weights=np.log1p(-u).ravel(), minlength=n_w)
    external = _external(instance, field, beta)
    if external is not None:
        log_plus += external
        log_minus -= external
    deg = np.bincount(flat, minlength=n_w)
    g = instance.xi * np.prod(m, axis=0)
    p = m.shape[0]
    minus_beta_f = (
        np.sum(deg * log_cosh + np.logaddexp(log_plus, log_minus))
        - (p - 1) * np.sum(log_cosh + np.log1p(t * g))
    ) / n_w
    f = -minus_beta_f / beta
    mag = magnetisations(instance, m, beta, field)
    e = -np.sum((t + g) / (1.0 + t * g)) / n_w
    if field is not None:
        e -= float(np.dot(field, mag)) / n_w
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
