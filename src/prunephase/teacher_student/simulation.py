"""Direct online-SGD simulation of soft committee students learning from teachers.

Each step draws a fresh input ``x ~ N(0, I_N)`` and applies, to both layers at once,

``dw_k = -(eta / sqrt(N)) v_k Delta g'(lambda_k) x``, ``dv_k = -(eta / N) Delta g(lambda_k)``,

with ``Delta = sum_k v_k g(lambda_k) - (sum_n v*_n g(nu_n) + sigma eps)``. Several students run at
once, each with its own teacher, initial weights and random stream, vectorised over the student
axis; a student's trajectory does not depend on which other students share the run.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numba
import numpy as np
import torch

from prunephase.teacher_student.gaussian_averages import activation
from prunephase.teacher_student.ode import Trajectory
from prunephase.teacher_student.order_parameters import OrderParameters, generalisation_error


def simulate_online_sgd(
    W0: np.ndarray,
    v0: np.ndarray,
    W_star: np.ndarray,
    v_star: np.ndarray,
    eta: float,
    sigma: float,
    times: np.ndarray,
    rngs: Sequence[torch.Generator],
    chunk: int = 64,
) -> tuple[list[Trajectory], np.ndarray, np.ndarray]:
    """Train S students by online SGD, student ``s`` on its teacher and its own input stream.

    Parameters
    ----------
    W0, v0
        Initial student weights, shapes (S, K, N) and (S, K).
    W_star, v_star
        Teacher weights, shapes (S, M, N) and (S, M): student ``s`` learns from teacher ``s``.
    eta, sigma
        Learning rate and teacher output-noise standard deviation.
    times
        Increasing times (units of N steps, so step ``round(t N)``) at which the order parameters
        are recorded; 0 records the initial state.
    rngs
        One torch generator per student (CPU): its inputs and output noise, drawn as float32
        normals (:func:`_draw_inputs`).
    chunk
        Steps per block (see ``_sgd_chunk``); the result does not depend on it beyond rounding.

    Returns
    -------
    trajectories
        One :class:`~prunephase.teacher_student.ode.Trajectory` per student.
    W, v
        Final weights of every student, shapes (S, K, N) and (S, K).
    """
    W = np.array(W0, dtype=float)
    v = np.array(v0, dtype=float)
    W_star = np.asarray(W_star, dtype=float)
    v_star = np.asarray(v_star, dtype=float)
    students, K, N = W.shape
    if W_star.shape[0] != students or v_star.shape[0] != students or len(rngs) != students:
        raise ValueError(
            f"{students} students need as many teachers and generators; got {W_star.shape[0]} "
            f"teachers, {v_star.shape[0]} second layers and {len(rngs)} generators"
        )
    record = np.round(np.asarray(times, dtype=float) * N).astype(np.int64)
    if np.any(np.diff(record) <= 0) or record[0] < 0:
        raise ValueError("times must be increasing and at least 1/N apart")
    snapshots: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    step = 0
    for target in record:
        while step < target:
            n = int(min(chunk, target - step))
            _sgd_chunk(W, v, W_star, v_star, eta, sigma, n, rngs)
            step += n
        snapshots.append(
            (W @ W.transpose(0, 2, 1) / N, W @ W_star.transpose(0, 2, 1) / N, v.copy())
        )

    t = record / N
    trajectories = []
    for s in range(students):
        T = W_star[s] @ W_star[s].T / N
        Q, R, vs = (np.stack([snap[i][s] for snap in snapshots]) for i in range(3))
        eps = np.array(
            [
                generalisation_error(OrderParameters(q, r, T, w, v_star[s]))
                for q, r, w in zip(Q, R, vs, strict=True)
            ]
        )
        trajectories.append(Trajectory(t, Q, R, vs, T, v_star[s], eps))
    return trajectories, W, v


def _sgd_chunk(
    W: np.ndarray,
    v: np.ndarray,
    W_star: np.ndarray,
    v_star: np.ndarray,
    eta: float,
    sigma: float,
    n: int,
    rngs: Sequence[torch.Generator],
) -> None:
    """Apply ``n`` online-SGD steps to every student, in place (W: (S, K, N), v: (S, K)).

    Within a chunk the first-layer weights are ``W_s = W_0 + sum_{s' < s} a_{s'} x_{s'}^T`` with
    ``a = -eta v Delta g'(lambda)`` and inputs scaled by ``1 / sqrt(N)``, so the pre-activations
    need only the chunk's input Gram matrix,
    ``lambda_s = W_0 x_s + sum_{s' < s} a_{s'} (x_{s'} . x_s)``, accumulated step by step.
    The sequential part (:func:`_sequential_steps`, compiled) works on K-vectors, and the
    (S, K, N) products are done by BLAS once per chunk; the arithmetic is that of the plain update.
    """
    students, K, N = W.shape
    Z = np.stack([_draw_inputs(rng, n, N) for rng in rngs])
    X = Z[:, :, :N] / np.sqrt(N)
    teacher = np.einsum("snm,sm->sn", activation(X @ W_star.transpose(0, 2, 1)), v_star)
    teacher += sigma * Z[:, :, N]
    # per student, so that every product is a 2-d BLAS call (numpy's batched matmul of transposed
    # views is not)
    lam = np.stack([x @ w.T for x, w in zip(X, W, strict=True)])  # (S, n, K)
    gram = np.stack([x @ x.T for x in X])  # (S, n, n)
    a = _sequential_steps(lam, gram, teacher, v, eta, N)
    for w, a_s, x in zip(W, a, X, strict=True):
        w += a_s.T @ x


def _draw_inputs(rng: torch.Generator, n: int, N: int) -> np.ndarray:
    """The inputs (first N columns) and output noise (column N) of ``n`` steps, (n, N + 1) float64.

    torch draws float32 normals about three times faster than numpy draws float64 ones, which is
    most of the cost of a step; a float32 Gaussian sample is as good an input as any. Each step
    draws a row of a multiple of 16 numbers, so that the stream does not depend on how the steps
    are split into chunks (torch generates normals in blocks of 16 and redraws a partial last
    block).
    """
    width = 16 * -(-(N + 1) // 16)
    draws = torch.randn((n, width), generator=rng, dtype=torch.float32)
    return draws[:, : N + 1].numpy().astype(np.float64)


@numba.njit(cache=True)
def _sequential_steps(lam, gram, teacher, v, eta, N):
    """The steps of one chunk in order, for every student: returns ``a`` (S, n, K), updates ``v``.

    ``lam`` (S, n, K) holds the pre-activations from the chunk's initial weights and is
    overwritten: step ``s`` adds ``gram[:, s', s] a_s`` to every later step ``s'``, so that each
    step sees the first-layer updates before it.
    """
    students, n, K = lam.shape
    a = np.empty((students, n, K))
    g = np.empty(K)
    norm = math.sqrt(2.0 / math.pi)
    root2 = math.sqrt(2.0)
    for r in range(students):
        for s in range(n):
            out = 0.0
            for k in range(K):
                g[k] = math.erf(lam[r, s, k] / root2)
                out += v[r, k] * g[k]
            delta = out - teacher[r, s]
            for k in range(K):
                x = lam[r, s, k]
                a[r, s, k] = -eta * v[r, k] * delta * norm * math.exp(-0.5 * x * x)
                v[r, k] -= (eta / N) * delta * g[k]
            for later in range(s + 1, n):
                weight = gram[r, later, s]
                for k in range(K):
                    lam[r, later, k] += weight * a[r, s, k]
    return a
