"""Direct online-SGD simulation of a soft committee student learning from a teacher.

Each step draws a fresh input ``x ~ N(0, I_N)`` and applies, to both layers at once,

``dw_k = -(eta / sqrt(N)) v_k Delta g'(lambda_k) x``, ``dv_k = -(eta / N) Delta g(lambda_k)``,

with ``Delta = sum_k v_k g(lambda_k) - (sum_n v*_n g(nu_n) + sigma eps)``. Several replicas (same
teacher, same initial student, independent input streams) run at once, vectorised over the replica
axis, so that their spread measures the finite-N fluctuations around the ODE.
"""

from __future__ import annotations

import numpy as np

from prunephase.teacher_student.gaussian_averages import activation, activation_derivative
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
    replicas: int,
    rng: np.random.Generator,
    chunk: int = 64,
) -> tuple[list[Trajectory], np.ndarray, np.ndarray]:
    """Train ``replicas`` copies of the student ``(W0, v0)`` by online SGD on independent samples.

    Parameters
    ----------
    W0, v0
        Initial student weights, shapes (K, N) and (K,).
    W_star, v_star
        Teacher weights, shapes (M, N) and (M,).
    eta, sigma
        Learning rate and teacher output-noise standard deviation.
    times
        Increasing times (units of N steps, so step ``round(t N)``) at which the order parameters
        are recorded; 0 records the initial state.
    replicas
        Number of independent runs.
    rng
        Source of the inputs and the output noise.
    chunk
        Steps per block (see ``_sgd_chunk``). With one replica the result does not depend on
        it beyond rounding; with several it changes which random numbers a step gets.

    Returns
    -------
    trajectories
        One :class:`~prunephase.teacher_student.ode.Trajectory` per replica.
    W, v
        Final weights of every replica, shapes (replicas, K, N) and (replicas, K).
    """
    K, N = W0.shape
    record = np.round(np.asarray(times, dtype=float) * N).astype(np.int64)
    if np.any(np.diff(record) <= 0) or record[0] < 0:
        raise ValueError("times must be increasing and at least 1/N apart")
    W = np.repeat(W0[None].astype(float), replicas, axis=0)
    v = np.repeat(np.asarray(v0, dtype=float)[None], replicas, axis=0)
    snapshots: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    step = 0
    for target in record:
        while step < target:
            n = int(min(chunk, target - step))
            _sgd_chunk(W, v, W_star, v_star, eta, sigma, n, rng)
            step += n
        snapshots.append((W @ W.transpose(0, 2, 1) / N, W @ W_star.T / N, v.copy()))

    T = W_star @ W_star.T / N
    t = record / N
    trajectories = []
    for r in range(replicas):
        Q, R, vr = (np.stack([snap[i][r] for snap in snapshots]) for i in range(3))
        eps = np.array(
            [
                generalisation_error(OrderParameters(q, rr, T, w, v_star))
                for q, rr, w in zip(Q, R, vr, strict=True)
            ]
        )
        trajectories.append(Trajectory(t, Q, R, vr, T, v_star, eps))
    return trajectories, W, v


def _sgd_chunk(
    W: np.ndarray,
    v: np.ndarray,
    W_star: np.ndarray,
    v_star: np.ndarray,
    eta: float,
    sigma: float,
    n: int,
    rng: np.random.Generator,
) -> None:
    """Apply ``n`` online-SGD steps to every replica, in place (W: (R, K, N), v: (R, K)).

    Within a chunk the first-layer weights are ``W_s = W_0 + sum_{s' < s} a_{s'} x_{s'}^T`` with
    ``a = -eta v Delta g'(lambda)`` and inputs scaled by ``1 / sqrt(N)``, so the pre-activations
    need only the chunk's input Gram matrix,
    ``lambda_s = W_0 x_s + sum_{s' < s} a_{s'} (x_{s'} . x_s)``, accumulated step by step.
    The sequential loop then works on K-vectors, and the (R, K, N) products are done by BLAS once
    per chunk; the arithmetic is that of the plain update.
    """
    replicas, K, N = W.shape
    # input and output noise of a step are drawn together, so that with one replica the random
    # stream does not depend on the chunk length
    Z = rng.standard_normal((replicas, n, N + 1))
    X = Z[:, :, :N] / np.sqrt(N)
    teacher = activation(X @ W_star.T) @ v_star + sigma * Z[:, :, N]
    # per replica, so that every product is a 2-d BLAS call (numpy's batched matmul of transposed
    # views is not)
    lam0 = np.stack([x @ w.T for x, w in zip(X, W, strict=True)])  # (R, n, K)
    gram = np.stack([x @ x.T for x in X])  # (R, n, n)
    a = np.empty((replicas, n, K))
    for s in range(n):
        lam = lam0[:, s]
        g = activation(lam)
        delta = np.sum(v * g, axis=1) - teacher[:, s]
        a[:, s] = -eta * v * delta[:, None] * activation_derivative(lam)
        v -= (eta / N) * delta[:, None] * g
        # the later pre-activations of the chunk see this step's update
        lam0[:, s + 1 :] += gram[:, s + 1 :, s, None] * a[:, s, None, :]
    for w, a_r, x in zip(W, a, X, strict=True):
        w += a_r.T @ x
