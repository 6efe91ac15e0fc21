"""Teacher-student theory: closed-form Gaussian averages, generalisation error, ODEs vs SGD."""

from __future__ import annotations

import numpy as np
import pytest

from prunephase.teacher_student.experiments import initial_networks, time_grid
from prunephase.teacher_student.gaussian_averages import (
    activation,
    activation_derivative,
    i2,
    i3,
    i4,
    j2,
)
from prunephase.teacher_student.ode import integrate_ode, time_derivatives
from prunephase.teacher_student.order_parameters import (
    OrderParameters,
    generalisation_error,
    order_parameters,
)
from prunephase.teacher_student.settings import Dynamics, Run
from prunephase.teacher_student.simulation import simulate_online_sgd


def _random_covariance(rng, P):
    A = rng.normal(size=(P, P + 2)) * 0.7
    return A @ A.T / (P + 2) + 0.2 * np.eye(P)


def _mc_close(exact, samples, n_se=5.0):
    se = samples.std() / np.sqrt(len(samples))
    assert abs(samples.mean() - exact) < n_se * se + 1e-12, (exact, samples.mean(), se)


def test_gaussian_averages_match_monte_carlo():
    rng = np.random.default_rng(0)
    C = _random_covariance(rng, 4)
    x = rng.multivariate_normal(np.zeros(4), C, size=400_000)
    g, gp = activation(x), activation_derivative(x)
    I2, J2, I3, I4 = i2(C), j2(C), i3(C, slice(0, 3)), i4(C, slice(0, 3))
    for a, b in [(0, 1), (2, 2), (1, 3)]:
        _mc_close(I2[a, b], g[:, a] * g[:, b])
        _mc_close(J2[a, b], gp[:, a] * gp[:, b])
    for a, b, c in [(0, 1, 2), (0, 0, 1), (1, 2, 1), (2, 3, 3)]:
        _mc_close(I3[a, b, c], gp[:, a] * x[:, b] * g[:, c])
    for a, b, c, d in [(0, 1, 2, 3), (0, 0, 1, 1), (1, 2, 2, 2), (0, 1, 0, 1), (2, 2, 3, 0)]:
        _mc_close(I4[a, b, c, d], gp[:, a] * gp[:, b] * g[:, c] * g[:, d])


def test_generalisation_error_matches_sampled_outputs():
    rng = np.random.default_rng(1)
    N, K, M = 200, 3, 2
    W, Ws = rng.normal(size=(K, N)), rng.normal(size=(M, N))
    v, vs = rng.normal(size=K), np.full(M, 4.0)
    x = rng.normal(size=(100_000, N))
    diff = activation(x @ W.T / np.sqrt(N)) @ v - activation(x @ Ws.T / np.sqrt(N)) @ vs
    _mc_close(generalisation_error(order_parameters(W, v, Ws, vs)), 0.5 * diff**2)


def test_perfect_student_has_zero_error():
    rng = np.random.default_rng(2)
    Ws = rng.normal(size=(2, 100))
    vs = np.array([4.0, -1.0])
    assert generalisation_error(order_parameters(Ws, vs, Ws, vs)) == pytest.approx(0, abs=1e-12)


def test_ode_drift_matches_expected_sgd_step():
    """N times the mean one-step change of (Q, R, v) under the SGD rule, sampled over inputs, equals
    the ODE's right-hand side (drift and the eta^2 term), for a noisy teacher."""
    rng = np.random.default_rng(3)
    K, M, eta, sigma = 3, 2, 0.7, 0.5
    C = _random_covariance(rng, K + M)
    op = OrderParameters(C[:K, :K], C[:K, K:], C[K:, K:], rng.normal(size=K), np.array([2.0, -1.5]))
    dQ, dR, dv = time_derivatives(op, eta, sigma)
    n = 1_000_000
    z = rng.multivariate_normal(np.zeros(K + M), C, size=n)
    lam, nu = z[:, :K], z[:, K:]
    delta = activation(lam) @ op.v - activation(nu) @ op.v_star - sigma * rng.normal(size=n)
    a = -eta * op.v * delta[:, None] * activation_derivative(lam)  # N dw_k . x / sqrt(N)
    # N dQ_kl = a_k lambda_l + a_l lambda_k + a_k a_l |x|^2 / N, and |x|^2 / N -> 1
    sample_Q = a[:, :, None] * lam[:, None, :] + a[:, None, :] * lam[:, :, None]
    sample_Q += a[:, :, None] * a[:, None, :]
    sample_R = a[:, :, None] * nu[:, None, :]
    sample_v = -eta * delta[:, None] * activation(lam)
    for exact, samples in [(dQ, sample_Q), (dR, sample_R), (dv, sample_v)]:
        se = samples.std(axis=0) / np.sqrt(n)
        assert np.all(np.abs(samples.mean(axis=0) - exact) < 5 * se + 1e-9)


def test_simulation_chunking_is_plain_sgd():
    """With one replica the Gram-matrix blocks reproduce the step-by-step update exactly."""
    rng = np.random.default_rng(4)
    K, M, N = 3, 2, 60
    W0, Ws = rng.normal(size=(K, N)), rng.normal(size=(M, N))
    v0, vs = rng.normal(size=K), np.full(M, 4.0)
    times = np.array([0.0, 1.0, 3.0])
    runs = [
        simulate_online_sgd(W0, v0, Ws, vs, 0.5, 0.3, times, 1, np.random.default_rng(9), chunk)
        for chunk in (1, 7, 64)
    ]
    for _, W, v in runs[1:]:
        np.testing.assert_allclose(W, runs[0][1], rtol=1e-10, atol=1e-10)
        np.testing.assert_allclose(v, runs[0][2], rtol=1e-10, atol=1e-10)


def test_ode_agrees_with_sgd_at_n500():
    """Small scale check of the theory: K = 4, M = 2, N = 500, up to t = 15 (7,500 steps), four
    replicas from the same initial state. The ODE lies within three replica standard deviations of
    the replica mean (plus 2% of eps_g for the O(1/N) bias) at every recorded time."""
    run = Run(K=4, M=2, t_max=15.0, sigma=0.25)
    dynamics = Dynamics(N=500, eta=0.5, v_star=4.0, w_init_std=1.0, v_init_std=1.0, replicas=4,
                        record_points=8, ode_rtol=1e-6)  # fmt: skip
    W_star, v_star, W0, v0 = initial_networks(run, dynamics, 7)
    times = time_grid(run.t_max, dynamics.record_points, dynamics.N)
    sims, _, _ = simulate_online_sgd(
        W0, v0, W_star, v_star, dynamics.eta, run.sigma, times, 4, np.random.default_rng(8)
    )
    start = order_parameters(W0, v0, W_star, v_star)
    ode = integrate_ode(start, dynamics.eta, run.sigma, times, dynamics.ode_rtol)
    eps = np.stack([s.eps_g for s in sims])
    mean, std = eps.mean(0)[1:], eps.std(0, ddof=1)[1:]
    assert ode.eps_g[-1] < 0.5 * ode.eps_g[0]  # it learned something
    assert np.all(np.abs(ode.eps_g[1:] - mean) < 3 * std + 0.02 * ode.eps_g[1:])
    # and the ODE at the wrong learning rate does not
    wrong = integrate_ode(start, 0.35, run.sigma, times, dynamics.ode_rtol)
    assert np.any(np.abs(wrong.eps_g[1:] - mean) > 3 * std + 0.02 * wrong.eps_g[1:])


def test_integrate_ode_rejects_bad_times():
    op = OrderParameters(np.eye(2), np.zeros((2, 1)), np.eye(1), np.ones(2), np.ones(1))
    with pytest.raises(ValueError, match="increasing"):
        integrate_ode(op, 0.5, 0.0, np.array([0.0, 2.0, 1.0]), 1e-6)
