"""Order parameters of a soft committee student and its teacher; the exact generalisation error.

A student with first-layer weights ``W`` (K, N) and second-layer weights ``v`` (K,) learns from a
teacher ``W_star`` (M, N), ``v_star`` (M,). For Gaussian inputs ``x ~ N(0, I_N)`` the
pre-activations ``lambda = W x / sqrt(N)`` and ``nu = W_star x / sqrt(N)`` are jointly Gaussian
with covariances

``Q = W W^T / N`` (K, K), ``R = W W_star^T / N`` (K, M), ``T = W_star W_star^T / N`` (M, M),

so that every average over inputs, the generalisation error included, is a function of
``(Q, R, T, v, v_star)`` alone.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from prunephase.teacher_student.gaussian_averages import i2


@dataclass(frozen=True)
class OrderParameters:
    """The macroscopic state of a student-teacher pair.

    Attributes
    ----------
    Q : (K, K) student-student overlaps.
    R : (K, M) student-teacher overlaps.
    T : (M, M) teacher-teacher overlaps.
    v : (K,) student second-layer weights.
    v_star : (M,) teacher second-layer weights.
    """

    Q: np.ndarray
    R: np.ndarray
    T: np.ndarray
    v: np.ndarray
    v_star: np.ndarray

    @property
    def K(self) -> int:
        return len(self.v)

    @property
    def M(self) -> int:
        return len(self.v_star)

    def covariance(self) -> np.ndarray:
        """Covariance of (student, teacher) pre-activations, shape (K + M, K + M)."""
        return np.block([[self.Q, self.R], [self.R.T, self.T]])


def order_parameters(
    W: np.ndarray, v: np.ndarray, W_star: np.ndarray, v_star: np.ndarray
) -> OrderParameters:
    """Order parameters of a student ``W`` (K, N), ``v`` (K,) and a teacher ``W_star`` (M, N),
    ``v_star`` (M,)."""
    N = W.shape[-1]
    return OrderParameters(
        Q=W @ W.T / N, R=W @ W_star.T / N, T=W_star @ W_star.T / N, v=np.asarray(v), v_star=v_star
    )


def generalisation_error(op: OrderParameters) -> float:
    """Exact generalisation error ``eps_g = E[(student - teacher)^2] / 2`` of erf committees.

    ``eps_g = (1/pi) [sum_ik v_i v_k asin(Q_ik / sqrt((1 + Q_ii)(1 + Q_kk)))
    + sum_nm v*_n v*_m asin(T_nm / ...)
    - 2 sum_in v_i v*_n asin(R_in / sqrt((1 + Q_ii)(1 + T_nn)))]``,
    i.e. the error against the noiseless teacher output (output noise adds ``sigma^2 / 2`` to the
    error on noisy labels and is left out, as in Goldt et al. 2019).
    """
    coeff = np.concatenate([op.v, -op.v_star])
    return float(0.5 * coeff @ i2(op.covariance()) @ coeff)
