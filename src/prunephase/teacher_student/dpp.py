"""Exact sampling of k-determinantal point processes (k-DPPs).

A k-DPP with a positive semi-definite kernel ``L`` (n, n) draws a subset ``S`` of size k with
probability ``det(L_S) / e_k(lambda)``, where ``e_k`` is the k-th elementary symmetric polynomial of
the eigenvalues of ``L`` (Kulesza and Taskar 2012, sec. 5.2). The sampler is the standard spectral
one (their Algorithm 8): choose k eigenvectors, eigenvector n with the probability that makes the
mixture exact, then draw from the projection DPP they span. The projection DPP is drawn by
sequential Schur complements (the chain rule), O(n k^2) per sample.

DPPy (the maintained-looking library) imports with numpy 2 but computes the elementary symmetric
polynomials in linear scale, which underflows for the near-singular kernels of redundant hidden
units; here they are kept in log scale.
"""

from __future__ import annotations

import itertools

import numpy as np


def _spectrum(L: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    L = np.asarray(L, dtype=float)
    if L.ndim != 2 or L.shape[0] != L.shape[1]:
        raise ValueError(f"kernel must be a square matrix, got shape {L.shape}")
    if not np.all(np.isfinite(L)):
        raise ValueError("kernel has non-finite entries")
    eigval, eigvec = np.linalg.eigh(0.5 * (L + L.T))
    # eigenvalues below rounding level are zero: L is positive semi-definite by construction
    tol = eigval.max(initial=0.0) * L.shape[0] * np.finfo(float).eps
    if eigval.min(initial=0.0) < -1e3 * max(tol, np.finfo(float).tiny):
        raise ValueError(f"kernel is not positive semi-definite (eigenvalue {eigval.min():.3g})")
    eigval[eigval <= tol] = 0.0
    return eigval, eigvec


def log_elementary_symmetric(eigval: np.ndarray, k: int) -> np.ndarray:
    """``log e_l(lambda_1, ..., lambda_m)`` for ``l = 0..k`` and ``m = 0..n``.

    Parameters
    ----------
    eigval
        Non-negative eigenvalues, shape (n,).
    k
        Largest order.

    Returns
    -------
    np.ndarray
        Shape (k + 1, n + 1); entry ``[l, m]`` is the log of ``e_l`` of the first ``m``
        eigenvalues (``-inf`` where it is zero), from the recursion
        ``e_l^m = e_l^{m-1} + lambda_m e_{l-1}^{m-1}``.
    """
    n = len(eigval)
    with np.errstate(divide="ignore"):
        log_lam = np.log(eigval)
    E = np.full((k + 1, n + 1), -np.inf)
    E[0, :] = 0.0
    for m in range(1, n + 1):
        E[1:, m] = np.logaddexp(E[1:, m - 1], log_lam[m - 1] + E[:-1, m - 1])
    return E


def sample_k_dpp(L: np.ndarray, k: int, rng: np.random.Generator, n_samples: int = 1) -> np.ndarray:
    """Draw exact samples of the k-DPP with kernel ``L``.

    Parameters
    ----------
    L
        Positive semi-definite kernel, shape (n, n).
    k
        Size of every sample, ``0 <= k <= rank(L)``.
    rng
        Random source.
    n_samples
        Number of independent samples.

    Returns
    -------
    np.ndarray
        int array of shape (n_samples, k); each row holds the sorted indices of one sample.

    Raises
    ------
    ValueError
        If ``L`` is not a finite symmetric PSD matrix or its rank is below ``k``.
    """
    eigval, eigvec = _spectrum(L)
    n = len(eigval)
    if not 0 <= k <= n:
        raise ValueError(f"k = {k} is outside 0..{n}")
    rank = int(np.count_nonzero(eigval))
    if k > rank:
        raise ValueError(
            f"a k-DPP with k = {k} needs a kernel of rank >= k; this one has rank {rank}"
        )
    logE = log_elementary_symmetric(eigval, k)
    with np.errstate(divide="ignore"):
        log_lam = np.log(eigval)
    samples = np.empty((n_samples, k), dtype=np.int64)
    for s in range(n_samples):
        # phase 1: which eigenvectors span the projection DPP
        chosen = []
        remaining = k
        for m in range(n, 0, -1):
            if remaining == 0:
                break
            log_p = log_lam[m - 1] + logE[remaining - 1, m - 1] - logE[remaining, m]
            if rng.random() < np.exp(min(log_p, 0.0)):
                chosen.append(m - 1)
                remaining -= 1
        samples[s] = np.sort(_sample_projection(eigvec[:, chosen], rng))
    return samples


def _sample_projection(V: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One sample of the projection DPP with kernel ``V V^T`` (V has orthonormal columns)."""
    n, k = V.shape
    residual = np.einsum("ij,ij->i", V, V)  # diagonal of the kernel conditioned on the picks
    factors = np.zeros((k, n))
    picked = np.empty(k, dtype=np.int64)
    for t in range(k):
        p = np.clip(residual, 0.0, None)
        i = rng.choice(n, p=p / p.sum())
        picked[t] = i
        column = V @ V[i] - factors[:t].T @ factors[:t, i]
        factors[t] = column / np.sqrt(column[i])
        residual = residual - factors[t] ** 2
        residual[picked[: t + 1]] = 0.0
    return picked


def k_dpp_probabilities(L: np.ndarray, k: int) -> dict[tuple[int, ...], float]:
    """Exact probability ``det(L_S) / e_k`` of every k-subset ``S`` (enumeration; small n only)."""
    L = np.asarray(L, dtype=float)
    n = L.shape[0]
    subsets = list(itertools.combinations(range(n), k))
    dets = np.array([np.linalg.det(L[np.ix_(s, s)]) if k else 1.0 for s in subsets])
    dets = np.clip(dets, 0.0, None)
    return dict(zip(subsets, dets / dets.sum(), strict=True))


def k_dpp_log_normaliser(L: np.ndarray, k: int) -> float:
    """``log e_k(eigenvalues of L)``, the log of the k-DPP's normalising constant."""
    eigval, _ = _spectrum(L)
    return float(log_elementary_symmetric(eigval, k)[k, -1])
