"""Order-parameter ODEs of online SGD in the soft committee machine (both layers trained).

In the limit N -> infinity with ``t = steps / N`` fixed, the order parameters of a student trained
by online SGD on fresh samples (``dw_k = -(eta / sqrt(N)) v_k Delta g'(lambda_k) x``,
``dv_k = -(eta / N) Delta g(lambda_k)``, ``Delta`` = student minus noisy teacher output) follow the
deterministic equations of Goldt et al. (2019, NeurIPS), eqs. (9)-(11):

``dR_kn/dt = -eta v_k E[Delta g'(lambda_k) nu_n]``

``dQ_kl/dt = -eta v_k E[Delta g'(lambda_k) lambda_l] - eta v_l E[Delta g'(lambda_l) lambda_k]
+ eta^2 v_k v_l (E[Delta^2 g'(lambda_k) g'(lambda_l)] + sigma^2 E[g'(lambda_k) g'(lambda_l)])``

``dv_k/dt = -eta E[Delta g(lambda_k)]``

where from here on ``Delta`` is the noiseless difference. Every average is one of the closed forms
of :mod:`prunephase.teacher_student.gaussian_averages`; nothing is sampled.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.integrate import solve_ivp

from prunephase.teacher_student.gaussian_averages import i2, i3, i4_contracted, j2
from prunephase.teacher_student.order_parameters import OrderParameters, generalisation_error


def time_derivatives(
    op: OrderParameters, eta: float, sigma: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(dQ/dt, dR/dt, dv/dt)`` of online SGD at the state ``op``.

    Parameters
    ----------
    op
        Current order parameters (K student units, M teacher units).
    eta
        Learning rate of both layers.
    sigma
        Standard deviation of the teacher's output noise.

    Returns
    -------
    tuple of np.ndarray
        Shapes (K, K), (K, M) and (K,).
    """
    K = op.K
    C = op.covariance()
    coeff = np.concatenate([op.v, -op.v_star])  # Delta = sum_c coeff_c g(x_c)
    student = slice(0, K)
    # E[Delta g'(lambda_k) x_b] for every student k and every pre-activation b: (K, K + M)
    delta_gp_x = i3(C, student) @ coeff
    # E[Delta^2 g'(lambda_k) g'(lambda_l)]: (K, K)
    delta2_gp_gp = i4_contracted(C, student, coeff)
    gp_gp = j2(C)[student, student]
    vv = np.outer(op.v, op.v)

    drift = op.v[:, None] * delta_gp_x[:, :K]  # v_k E[Delta g'_k lambda_l]
    dQ = -eta * (drift + drift.T) + eta**2 * vv * (delta2_gp_gp + sigma**2 * gp_gp)
    dR = -eta * op.v[:, None] * delta_gp_x[:, K:]
    dv = -eta * (i2(C, student) @ coeff)
    return dQ, dR, dv


@dataclass(frozen=True)
class Trajectory:
    """Order parameters along a training run.

    Attributes
    ----------
    t : (n,) times in units of N steps.
    Q : (n, K, K), R : (n, K, M), v : (n, K).
    T : (M, M), v_star : (M,) (constant).
    eps_g : (n,) generalisation error at each time.
    """

    t: np.ndarray
    Q: np.ndarray
    R: np.ndarray
    v: np.ndarray
    T: np.ndarray
    v_star: np.ndarray
    eps_g: np.ndarray

    def at(self, i: int) -> OrderParameters:
        """The order parameters at time index ``i``."""
        return OrderParameters(self.Q[i], self.R[i], self.T, self.v[i], self.v_star)


def integrate_ode(
    initial: OrderParameters,
    eta: float,
    sigma: float,
    times: np.ndarray,
    rtol: float,
    atol: float = 1e-9,
) -> Trajectory:
    """Integrate the ODEs from ``initial`` and return the order parameters at ``times``.

    Uses ``scipy.integrate.solve_ivp`` (explicit Runge-Kutta, RK45) with the given tolerances
    (``rtol`` is the config's ``teacher_student.ode_rtol``; ``atol`` a floor for order parameters
    near zero); ``times`` must be increasing and start at or after 0.

    Raises
    ------
    RuntimeError
        If the integrator fails (e.g. the learning rate is so large that the dynamics diverge).
    """
    times = np.asarray(times, dtype=float)
    if times.ndim != 1 or np.any(np.diff(times) <= 0) or times[0] < 0:
        raise ValueError("times must be a 1-d increasing array of non-negative values")
    K, M = initial.R.shape
    T, v_star = initial.T, initial.v_star

    def unpack(y: np.ndarray) -> OrderParameters:
        Q = y[: K * K].reshape(K, K)
        R = y[K * K : K * K + K * M].reshape(K, M)
        return OrderParameters(Q, R, T, y[K * K + K * M :], v_star)

    def rhs(_t: float, y: np.ndarray) -> np.ndarray:
        dQ, dR, dv = time_derivatives(unpack(y), eta, sigma)
        return np.concatenate([dQ.ravel(), dR.ravel(), dv])

    y0 = np.concatenate([initial.Q.ravel(), initial.R.ravel(), initial.v])
    sol = solve_ivp(rhs, (0.0, times[-1]), y0, t_eval=times, rtol=rtol, atol=atol, method="RK45")
    if not sol.success or not np.all(np.isfinite(sol.y)):
        raise RuntimeError(f"ODE integration failed: {sol.message}")
    ys = sol.y.T
    Q = ys[:, : K * K].reshape(-1, K, K)
    Q = 0.5 * (Q + Q.transpose(0, 2, 1))
    R = ys[:, K * K : K * K + K * M].reshape(-1, K, M)
    v = ys[:, K * K + K * M :]
    eps = np.array(
        [
            generalisation_error(OrderParameters(q, r, T, w, v_star))
            for q, r, w in zip(Q, R, v, strict=True)
        ]
    )
    return Trajectory(sol.t, Q, R, v, T, v_star, eps)
