"""Teacher-student theory: closed-form Gaussian averages, generalisation error, ODEs vs SGD."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from prunephase.teacher_student.experiments import initial_networks, time_grid, train
from prunephase.teacher_student.gaussian_averages import (
    activation,
    activation_derivative,
    i2,
    i3,
    i4,
    i4_contracted,
    j2,
)
from prunephase.teacher_student.ode import integrate_ode, time_derivatives
from prunephase.teacher_student.order_parameters import (
    OrderParameters,
    generalisation_error,
    order_parameters,
)
from prunephase.teacher_student.settings import Dynamics, Run
from prunephase.teacher_student.simulation import (
    _draw_inputs,
    _sequential_steps,
    simulate_online_sgd,
)


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


@pytest.mark.parametrize("K,M", [(3, 2), (20, 5)])
def test_contracted_i4_is_i4_summed(K, M):
    """The ODE's form of I4 (pairs a <= b only) equals the full tensor contracted with weights."""
    rng = np.random.default_rng(K)
    C = _random_covariance(rng, K + M)
    coeff = rng.normal(size=K + M)
    full = np.einsum("klcd,c,d->kl", i4(C, slice(0, K)), coeff, coeff)
    np.testing.assert_allclose(i4_contracted(C, slice(0, K), coeff), full, rtol=1e-12, atol=1e-12)


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


def _students(rng, S, K, M, N):
    W0, Ws = rng.normal(size=(S, K, N)), rng.normal(size=(S, M, N))
    return W0, rng.normal(size=(S, K)), Ws, np.full((S, M), 4.0)


def _generators(seeds):
    return [torch.Generator().manual_seed(s) for s in seeds]


def test_simulation_is_plain_sgd_and_students_are_independent():
    """The Gram-matrix blocks (any chunk length) are the textbook step-by-step update on the same
    inputs, for each of two students with their own teachers; a student's run does not depend on
    the other students of the call."""
    rng = np.random.default_rng(4)
    S, K, M, N, eta, sigma = 2, 3, 2, 60, 0.5, 0.3
    W0, v0, Ws, vs = _students(rng, S, K, M, N)
    times = np.array([0.0, 1.0, 3.0])
    runs = [
        simulate_online_sgd(W0, v0, Ws, vs, eta, sigma, times, _generators([9, 10]), chunk)
        for chunk in (1, 7, 64)
    ]
    for _, W, v in runs[1:]:
        np.testing.assert_allclose(W, runs[0][1], rtol=1e-10, atol=1e-10)
        np.testing.assert_allclose(v, runs[0][2], rtol=1e-10, atol=1e-10)
    for s, seed in enumerate((9, 10)):  # the textbook update, one input at a time
        W, v, g = W0[s].copy(), v0[s].copy(), torch.Generator().manual_seed(seed)
        for _ in range(3 * N):
            z = _draw_inputs(g, 1, N)[0]
            x = z[:N]
            lam, nu = W @ x / np.sqrt(N), Ws[s] @ x / np.sqrt(N)
            delta = v @ activation(lam) - (vs[s] @ activation(nu) + sigma * z[N])
            dW = -(eta / np.sqrt(N)) * np.outer(v * delta * activation_derivative(lam), x)
            v = v - (eta / N) * delta * activation(lam)
            W = W + dW
        np.testing.assert_allclose(runs[1][1][s], W, rtol=1e-9, atol=1e-9)
        np.testing.assert_allclose(runs[1][2][s], v, rtol=1e-9, atol=1e-9)
    alone = simulate_online_sgd(
        W0[1:], v0[1:], Ws[1:], vs[1:], eta, sigma, times, _generators([10])
    )
    np.testing.assert_allclose(alone[1][0], runs[2][1][1], rtol=1e-12, atol=1e-12)
    with pytest.raises(ValueError, match="2 students need"):
        simulate_online_sgd(W0, v0, Ws[:1], vs, eta, sigma, times, _generators([1, 2]))


def test_compiled_steps_are_the_python_steps():
    rng = np.random.default_rng(5)
    lam, gram = rng.normal(size=(2, 9, 4)), rng.normal(size=(2, 9, 9))
    teacher, v = rng.normal(size=(2, 9)), rng.normal(size=(2, 4))
    args = [lam.copy(), gram, teacher, v.copy(), 0.5, 100]
    expected = _sequential_steps.py_func(*args)
    np.testing.assert_allclose(
        _sequential_steps(lam.copy(), gram, teacher, v.copy(), 0.5, 100), expected, rtol=1e-12
    )


def test_every_student_has_its_own_teacher_and_ode():
    run = Run(K=4, M=2, t_max=2.0, sigma=0.25)
    base = dict(N=60, eta=0.5, v_star=4.0, w_init_std=1.0, v_init_std=1.0, record_points=4,
                ode_rtol=1e-6)  # fmt: skip
    table, students = train(run, Dynamics(students=3, **base), 1)
    assert students["W_star"].shape == (3, 2, 60) and students["ode_Q"].shape == (3, 4, 4)
    assert not np.allclose(students["W_star"][0], students["W_star"][1])
    assert set(table.replica) == {0, 1, 2}
    ode = table[table.source == "ode"].pivot(index="t", columns="replica", values="eps_g")
    assert ode[0].iloc[0] != ode[1].iloc[0]  # each ODE starts at its own student
    sgd = table[table.source == "sgd"].pivot(index="t", columns="replica", values="eps_g")
    np.testing.assert_allclose(ode.iloc[0], sgd.iloc[0])  # from the same initial state
    # a student's numbers do not depend on how many students the run has
    fewer, _ = train(run, Dynamics(students=2, **base), 1)
    pd_cols = ["source", "replica", "t"]
    merged = fewer.merge(table, on=pd_cols, suffixes=("_2", "_3"))
    assert len(merged) == len(fewer)
    np.testing.assert_allclose(merged.eps_g_2, merged.eps_g_3, rtol=1e-12)


def test_ode_agrees_with_sgd_at_n500():
    """Small scale check of the theory: K = 4, M = 2, N = 500, up to t = 15 (7,500 steps), four
    runs of one student from the same initial state with independent inputs. The ODE lies within
    three standard deviations of the runs' mean (plus 2% of eps_g for the O(1/N) bias) at every
    recorded time."""
    run = Run(K=4, M=2, t_max=15.0, sigma=0.25)
    dynamics = Dynamics(N=500, eta=0.5, v_star=4.0, w_init_std=1.0, v_init_std=1.0, students=4,
                        record_points=8, ode_rtol=1e-6)  # fmt: skip
    W_star, v_star, W0, v0 = initial_networks(run, dynamics, 7, 0)
    times = time_grid(run.t_max, dynamics.record_points, dynamics.N)
    copies = [np.repeat(a[None], 4, axis=0) for a in (W0, v0, W_star, v_star)]
    sims, _, _ = simulate_online_sgd(
        *copies, dynamics.eta, run.sigma, times, _generators([8, 9, 10, 11])
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
