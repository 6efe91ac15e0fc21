"""Closed-form Gaussian averages of the erf soft committee machine.

For the activation ``g(z) = erf(z / sqrt(2))``, with ``g'(z) = sqrt(2 / pi) exp(-z^2 / 2)``, the
averages that enter the generalisation error and the online-SGD ODEs are elementary functions of
the covariance of the pre-activations (Saad and Solla 1995; Goldt et al. 2019). Every function here
takes the full covariance matrix ``C`` of all pre-activations (student units first, then the teacher
units) and returns the average for every combination of the indices, as an array.

Notation (``a, b, c, d`` index pre-activations, ``C_ab = E[x_a x_b]``):

- ``I2[a, b] = E[g(x_a) g(x_b)]``
- ``I3[a, b, c] = E[g'(x_a) x_b g(x_c)]``
- ``I4[a, b, c, d] = E[g'(x_a) g'(x_b) g(x_c) g(x_d)]``
- ``J2[a, b] = E[g'(x_a) g'(x_b)]``

:func:`i4_contracted` is ``I4`` summed against a weight vector over ``c`` and ``d``, the only form
the ODEs need, computed over the pairs ``a <= b`` alone (``I4`` is symmetric in ``a, b``).
"""

from __future__ import annotations

import numpy as np
from scipy.special import erf

SQRT2 = np.sqrt(2.0)


def activation(z: np.ndarray) -> np.ndarray:
    """g(z) = erf(z / sqrt(2)), elementwise."""
    return erf(z / SQRT2)


def activation_derivative(z: np.ndarray) -> np.ndarray:
    """g'(z) = sqrt(2 / pi) exp(-z^2 / 2), elementwise."""
    return np.sqrt(2.0 / np.pi) * np.exp(-0.5 * z * z)


def _arcsin(x: np.ndarray) -> np.ndarray:
    # rounding can push a correlation of exact copies a hair past +-1
    return np.arcsin(np.clip(x, -1.0, 1.0))


def i2(C: np.ndarray, rows: slice | None = None) -> np.ndarray:
    """``E[g(x_a) g(x_b)]`` for ``a`` in ``rows`` (default all) and every ``b``.

    Parameters
    ----------
    C
        Covariance of the pre-activations, shape (P, P).
    rows
        Which ``a`` to return (e.g. the student units, ``slice(0, K)``).

    Returns
    -------
    np.ndarray
        Shape (len(rows), P).
    """
    d = 1.0 + np.diag(C)
    a = slice(None) if rows is None else rows
    return (2.0 / np.pi) * _arcsin(C[a] / np.sqrt(np.outer(d[a], d)))


def j2(C: np.ndarray) -> np.ndarray:
    """``E[g'(x_a) g'(x_b)]`` for every pair; shape (P, P)."""
    d = np.diag(C)
    return (2.0 / np.pi) / np.sqrt((1.0 + d)[:, None] * (1.0 + d)[None, :] - C * C)


def i3(C: np.ndarray, rows: slice) -> np.ndarray:
    """``E[g'(x_a) x_b g(x_c)]`` for ``a`` in ``rows`` and every ``b``, ``c``.

    Returns
    -------
    np.ndarray
        Shape (len(rows), P, P), indexed ``[a, b, c]``.
    """
    d = np.diag(C)
    Ca = C[rows]  # (A, P): C_ab
    daa = 1.0 + d[rows]  # (A,)
    lam3 = daa[:, None] * (1.0 + d)[None, :] - Ca * Ca  # (A, c)
    num = C[None, :, :] * daa[:, None, None] - Ca[:, :, None] * Ca[:, None, :]
    return (2.0 / np.pi) * num / (np.sqrt(lam3)[:, None, :] * daa[:, None, None])


def i4(C: np.ndarray, rows: slice) -> np.ndarray:
    """``E[g'(x_a) g'(x_b) g(x_c) g(x_d)]`` for ``a, b`` in ``rows`` and every ``c``, ``d``.

    With ``Lambda4 = (1 + C_aa)(1 + C_bb) - C_ab^2`` and ``D = C - U^T (I + C_{ab})^{-1} U``, where
    the columns of ``U`` (2, P) are ``(C_ac, C_bc)``, the average is
    ``(4 / pi^2) Lambda4^{-1/2} asin(D_cd / sqrt((1 + D_cc)(1 + D_dd)))``: the Gaussian weight of
    ``g'(x_a) g'(x_b)`` turns the covariance of ``(x_c, x_d)`` into ``D``. Multiplied out, this is
    the Lambda_0, Lambda_1, Lambda_2 expression of Saad and Solla (1995).

    Returns
    -------
    np.ndarray
        Shape (A, A, P, P) with ``A = len(rows)``, indexed ``[a, b, c, d]``.
    """
    d = np.diag(C)
    S = C[rows]  # (A, P)
    A = S.shape[0]
    saa = 1.0 + d[rows]
    Cab = C[rows, rows]
    lam4 = saa[:, None] * saa[None, :] - Cab * Cab
    U = np.empty((A, A, 2, C.shape[0]))
    U[:, :, 0, :] = S[:, None, :]
    U[:, :, 1, :] = S[None, :, :]
    # (I + C_ab)^{-1} = [[1 + C_bb, -C_ab], [-C_ab, 1 + C_aa]] / Lambda4
    inv = np.empty((A, A, 2, 2))
    inv[:, :, 0, 0] = saa[None, :]
    inv[:, :, 1, 1] = saa[:, None]
    inv[:, :, 0, 1] = inv[:, :, 1, 0] = -Cab
    inv /= lam4[:, :, None, None]
    D = C - np.swapaxes(U, 2, 3) @ (inv @ U)
    scale = 1.0 / np.sqrt(1.0 + np.diagonal(D, axis1=2, axis2=3))
    D *= scale[:, :, :, None]
    D *= scale[:, :, None, :]
    np.clip(D, -1.0, 1.0, out=D)
    np.arcsin(D, out=D)
    D *= ((4.0 / np.pi**2) / np.sqrt(lam4))[:, :, None, None]
    return D


def i4_contracted(C: np.ndarray, rows: slice, coeff: np.ndarray) -> np.ndarray:
    """``sum_cd I4[a, b, c, d] coeff_c coeff_d`` for ``a, b`` in ``rows``: :func:`i4` contracted.

    The same closed form as :func:`i4`, evaluated once per unordered pair ``(a, b)``: half the
    arcsines, which are most of the cost of an ODE step, and the contraction as one matrix-vector
    product (five times faster than :func:`i4` and a contraction for K = 20, M = 5).

    Parameters
    ----------
    C
        Covariance of the pre-activations, shape (P, P).
    rows
        The ``a`` and ``b`` (e.g. the student units, ``slice(0, K)``).
    coeff
        Weights of the pre-activations, shape (P,).

    Returns
    -------
    np.ndarray
        Shape (A, A), symmetric, ``A = len(rows)``.
    """
    d = np.diag(C)
    S = C[rows]  # (A, P)
    A = S.shape[0]
    ia, ib = np.triu_indices(A)
    s_a, s_b = 1.0 + d[rows][ia], 1.0 + d[rows][ib]  # (pairs,)
    c_ab = C[rows, rows][ia, ib]
    lam4 = s_a * s_b - c_ab * c_ab
    Ua, Ub = S[ia], S[ib]  # (pairs, P): C_ac and C_bc
    # D = C - U^T (I + C_ab)^{-1} U with U = (Ua; Ub) and
    # (I + C_ab)^{-1} = [[s_b, -c_ab], [-c_ab, s_a]] / lam4
    U = np.stack([Ua, Ub], axis=1)  # (pairs, 2, P)
    inv_a, inv_b, inv_ab = (s_b / lam4)[:, None], (s_a / lam4)[:, None], (c_ab / lam4)[:, None]
    G = np.stack([inv_a * Ua - inv_ab * Ub, inv_b * Ub - inv_ab * Ua], axis=1)
    D = C - np.matmul(U.transpose(0, 2, 1), G)  # (pairs, P, P)
    scale = 1.0 / np.sqrt(1.0 + np.diagonal(D, axis1=1, axis2=2))
    D *= scale[:, :, None]
    D *= scale[:, None, :]
    np.clip(D, -1.0, 1.0, out=D)
    np.arcsin(D, out=D)
    pairs = (
        (4.0 / np.pi**2) / np.sqrt(lam4) * (D.reshape(len(ia), -1) @ np.outer(coeff, coeff).ravel())
    )
    out = np.empty((A, A))
    out[ia, ib] = pairs
    out[ib, ia] = pairs
    return out
