"""Benchmark of the teacher-student simulation and ODE (run by hand, prints ratios of one run).

    PYTHONPATH=src OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 \
        python workflow/scripts/benchmark_teacher_student.py

1. Online SGD at N = 500, K = 6: the blocked update (inputs' Gram matrix, BLAS once per block of
   64 steps, the sequential part compiled) against the textbook step-by-step numpy update on the
   same inputs, for one student and for four.
2. The inputs: torch's float32 normals (what the simulation draws) against numpy's float64 ones.
3. The ODE right-hand side for K = 20, M = 5: time per evaluation with the contracted four-point
   average (``i4_contracted``) and with the full ``i4`` tensor contracted afterwards.
"""

from __future__ import annotations

import time

import numpy as np
import torch

from prunephase.core.config import settings, validate_config
from prunephase.teacher_student.experiments import initial_networks
from prunephase.teacher_student.gaussian_averages import (
    activation,
    activation_derivative,
    i4,
    i4_contracted,
)
from prunephase.teacher_student.ode import time_derivatives
from prunephase.teacher_student.order_parameters import order_parameters
from prunephase.teacher_student.settings import Run, TeacherStudent
from prunephase.teacher_student.simulation import _draw_inputs, simulate_online_sgd


def _time(fn, repeat: int = 1) -> float:
    start = time.perf_counter()
    for _ in range(repeat):
        fn()
    return (time.perf_counter() - start) / repeat


def _textbook(W0, v0, W_star, v_star, eta, sigma, steps, seeds) -> None:
    """The plain update, one input at a time, for every student in turn."""
    N = W0.shape[-1]
    for s, seed in enumerate(seeds):
        W, v, g = W0[s].copy(), v0[s].copy(), torch.Generator().manual_seed(seed)
        for _ in range(steps):
            z = _draw_inputs(g, 1, N)[0]
            x = z[:N]
            lam, nu = W @ x / np.sqrt(N), W_star[s] @ x / np.sqrt(N)
            delta = v @ activation(lam) - (v_star[s] @ activation(nu) + sigma * z[N])
            W -= (eta / np.sqrt(N)) * np.outer(v * delta * activation_derivative(lam), x)
            v -= (eta / N) * delta * activation(lam)


def _sgd_speed(ts: TeacherStudent, S: int) -> None:
    run = Run(K=6, M=2, t_max=1.0, sigma=0.25)
    steps = 10 * ts.N
    W_star, v_star, W0, v0 = (
        np.stack(a) for a in zip(*(initial_networks(run, ts, 0, s) for s in range(S)))
    )
    seeds = list(range(S))

    def blocked_run(times):
        generators = [torch.Generator().manual_seed(s) for s in seeds]
        simulate_online_sgd(W0, v0, W_star, v_star, ts.eta, 0.25, times, generators)

    blocked_run(np.array([0.0, 1.0]))  # loads the compiled sequential part
    blocked = _time(lambda: blocked_run(np.array([0.0, steps / ts.N])))
    plain = _time(lambda: _textbook(W0, v0, W_star, v_star, ts.eta, 0.25, steps, seeds))
    per = 1e6 / (steps * S)
    print(
        f"SGD K=6 N=500, {S} student(s): textbook {plain * per:.1f} us/step, blocked "
        f"{blocked * per:.1f} us/step per student, speed-up x{plain / blocked:.2f}"
    )


def main() -> None:
    # the schema's (paper-scale) values: N = 500
    ts = settings(TeacherStudent, validate_config({})["teacher_student"])
    for S in (1, 4):
        _sgd_speed(ts, S)
    rng, gen = np.random.default_rng(0), torch.Generator().manual_seed(0)
    block = (64, ts.N + 1)
    numpy_draws = _time(lambda: rng.standard_normal(block), 200)
    torch_draws = _time(lambda: _draw_inputs(gen, *block[:1], ts.N), 200)
    n = block[0] * block[1]
    print(
        f"inputs: numpy float64 {1e9 * numpy_draws / n:.1f} ns, torch float32 "
        f"{1e9 * torch_draws / n:.1f} ns per number, x{numpy_draws / torch_draws:.2f}"
    )
    W_star, v_star, W0, v0 = initial_networks(Run(K=20, M=5, t_max=1.0, sigma=0.0), ts, 0, 0)
    op = order_parameters(W0, v0, W_star, v_star)
    rhs = _time(lambda: time_derivatives(op, ts.eta, 0.0), 20)
    C, coeff = op.covariance(), np.concatenate([op.v, -op.v_star])
    full = _time(lambda: np.einsum("klcd,c,d->kl", i4(C, slice(0, 20)), coeff, coeff), 20)
    contracted = _time(lambda: i4_contracted(C, slice(0, 20), coeff), 20)
    print(
        f"ODE K=20 M=5: {1e3 * rhs:.2f} ms per right-hand side; four-point average "
        f"{1e3 * contracted:.2f} ms contracted, {1e3 * full:.2f} ms as the full tensor "
        f"(x{full / contracted:.2f})"
    )


if __name__ == "__main__":
    main()
