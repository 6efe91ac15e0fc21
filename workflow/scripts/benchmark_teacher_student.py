"""Benchmark of the teacher-student simulation and ODE (run by hand, prints ratios of one run).

    PYTHONPATH=src OPENBLAS_NUM_THREADS=1 python workflow/scripts/benchmark_teacher_student.py

1. Online SGD at N = 500: the chunked update (inputs' Gram matrix, BLAS once per chunk) against the
   plain step-by-step update (chunk = 1), same random stream, one replica and four.
2. The ODE right-hand side for K = 20, M = 5: time per evaluation, and the share of the
   four-point average I4 in it.
"""

from __future__ import annotations

import time

import numpy as np

from prunephase.core.config import settings, validate_config
from prunephase.teacher_student.experiments import initial_networks
from prunephase.teacher_student.gaussian_averages import i4
from prunephase.teacher_student.ode import time_derivatives
from prunephase.teacher_student.order_parameters import order_parameters
from prunephase.teacher_student.settings import Run, TeacherStudent
from prunephase.teacher_student.simulation import simulate_online_sgd


def _time(fn, repeat: int = 1) -> float:
    start = time.perf_counter()
    for _ in range(repeat):
        fn()
    return (time.perf_counter() - start) / repeat


def main() -> None:
    # the schema's (paper-scale) values: N = 500
    dynamics = settings(TeacherStudent, validate_config({})["teacher_student"])
    W_star, v_star, W0, v0 = initial_networks(Run(K=6, M=2, t_max=1.0, sigma=0.25), dynamics, 0)
    times = np.array([0.0, 10.0])  # 5,000 steps
    steps = int(times[-1] * dynamics.N)
    for replicas in (1, 4):
        runs = {}
        for chunk in (1, 64):
            rng = np.random.default_rng(1)
            runs[chunk] = _time(
                lambda chunk=chunk, rng=rng, replicas=replicas: simulate_online_sgd(
                    W0, v0, W_star, v_star, dynamics.eta, 0.25, times, replicas, rng, chunk
                )
            )
        print(
            f"SGD K=6 N=500, {replicas} replica(s): plain {1e6 * runs[1] / steps:.1f} us/step, "
            f"chunked {1e6 * runs[64] / steps:.1f} us/step, speed-up x{runs[1] / runs[64]:.2f}"
        )
    W_star, v_star, W0, v0 = initial_networks(Run(K=20, M=5, t_max=1.0, sigma=0.0), dynamics, 0)
    op = order_parameters(W0, v0, W_star, v_star)
    rhs = _time(lambda: time_derivatives(op, dynamics.eta, 0.0), 20)
    four = _time(lambda: i4(op.covariance(), slice(0, 20)), 20)
    print(
        f"ODE K=20 M=5: {1e3 * rhs:.2f} ms per right-hand side, of which I4 "
        f"{1e3 * four:.2f} ms ({100 * four / rhs:.0f}%)"
    )


if __name__ == "__main__":
    main()
