"""Speed of the RAP code, measured in one run on this machine: ratios, not absolute promises.

    PYTHONPATH=src python workflow/scripts/benchmark_rap.py

1. One BP iteration, vectorised (numpy over edges) against a plain per-edge Python loop, on the same
   instance and messages (the two give the same messages to 1e-13; see tests/test_rap_bp.py); and
   the vectorised iteration on the same factor graph with the slots of every path shuffled, where a
   weight sits in several slots and every slot's update gathers the messages of all slots (what
   the one-slot shortcut of a built instance saves).
2. Glauber Monte Carlo: proposed flips per second of the numba-compiled kernel (random numbers
   from numpy included), against the same kernel run as plain Python (``py_func``, on lists).
3. BP to convergence on an instance with more than 10^6 active paths, with the schema's BP settings
   (``rap.bp``).

Everything runs on one core (numpy element-wise code and the numba kernel are single-threaded).
"""

from __future__ import annotations

import os
import time

import numpy as np

from prunephase.core.config import settings, validate_config
from prunephase.rap.bp import bp_step, bp_step_loop, initial_messages, run_bp, thermodynamics
from prunephase.rap.instance import build_instance, dilution, factor_graph
from prunephase.rap.mc import GlauberChain, glauber_kernel, incidence
from prunephase.rap.settings import BP

#: the schema's (paper-scale) BP settings
BP_SETTINGS = settings(BP, validate_config({})["rap"]["bp"])


def best_of(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def network(n: int, q: tuple[float, float, float], seed: int):
    """The default reading's instance (network construction, input signs)."""
    return build_instance(n, 0.5, 0.3, q, seed, construction="network", xi="input")


def bp_speed() -> None:
    inst = network(100, dilution(1, 0.5), 1)
    m = initial_messages(inst, "random", np.random.default_rng(0))
    beta = 0.5
    damping, schedule = BP_SETTINGS.damping, BP_SETTINGS.schedule

    def vectorised():
        bp_step(inst, m.copy(), beta, damping, schedule=schedule)

    vec = best_of(vectorised, 10)
    loop = best_of(lambda: bp_step_loop(inst, m, beta, damping, schedule=schedule), 2)
    order = np.random.default_rng(2).permuted(np.tile(np.arange(3), (inst.n_paths, 1)), axis=1)
    mixed = factor_graph(np.take_along_axis(inst.paths, order, axis=1), inst.xi, inst.n_weights)
    m_mixed = np.take_along_axis(m.T, order, axis=1).T.copy()
    general = best_of(lambda: bp_step(mixed, m_mixed.copy(), beta, damping, schedule=schedule), 10)
    print(f"[BP] instance N=100, q1=0.5: M={inst.n_paths} paths, {3 * inst.n_paths} edges")
    print(
        f"[BP] one iteration: vectorised {vec * 1e3:.2f} ms, "
        f"per-edge Python loop {loop * 1e3:.0f} ms"
    )
    print(f"[BP] speed-up vectorised / loop: {loop / vec:.0f}x (target >= 50x)")
    print(
        f"[BP] the same graph with shuffled slots (every slot gathers all slots): "
        f"{general * 1e3:.2f} ms, {general / vec:.1f}x the one-slot iteration"
    )


def mc_speed() -> None:
    cases = [
        (
            "N=60, q1=0.98 (default Fig. 5 instance)",
            network(60, dilution(1, 0.98), 0),
        ),
        ("N=100, q1=0.9", network(100, dilution(1, 0.9), 0)),
        ("N=100, undiluted (largest degrees)", network(100, (0, 0, 0), 0)),
    ]
    beta = 0.5
    for label, inst in cases:
        chain = GlauberChain(inst, np.random.default_rng(0))
        chain.sweeps(beta, 2)  # compile (or load the cache) outside the timing
        sweeps = max(2, int(3e6 // inst.n_weights))
        compiled = best_of(lambda chain=chain, sweeps=sweeps: chain.sweeps(beta, sweeps), 3)
        rate = sweeps * inst.n_weights / compiled
        mean_degree = 3 * inst.n_paths / inst.n_weights
        print(f"[MC] {label}: n_w={inst.n_weights}, mean degree {mean_degree:.1f}")
        print(f"[MC]   compiled (numba) Glauber: {rate:.3g} proposed flips/s (target >= 1e6)")
        # the same kernel as plain Python on lists, for a fixed batch of proposals
        inc_ptr, inc_path = incidence(inst)
        rng = np.random.default_rng(1)
        k = 20000
        sites, uniforms = rng.integers(0, inst.n_weights, k), rng.random(k)
        args = [
            chain.w.tolist(),
            chain.sigma.tolist(),
            inc_ptr.tolist(),
            inc_path.tolist(),
            sites.tolist(),
            uniforms.tolist(),
            beta,
            chain.energy,
        ]
        start = time.perf_counter()
        glauber_kernel.py_func(*args)
        python_rate = k / (time.perf_counter() - start)
        print(
            f"[MC]   plain Python loop: {python_rate:.3g} proposed flips/s; "
            f"compiled / Python: {rate / python_rate:.0f}x"
        )


def bp_large() -> None:
    start = time.perf_counter()
    inst = network(200, (0.0, 0.0, 0.0), 0)
    built = time.perf_counter() - start
    print(
        f"[BP large] N=200 undiluted: M={inst.n_paths:,} active paths, n_w={inst.n_weights:,} "
        f"(built in {built:.1f} s)"
    )
    for start_kind, beta in (("polarised", 0.5), ("random", 0.5)):
        m0 = initial_messages(
            inst, start_kind, np.random.default_rng(0), polarisation=BP_SETTINGS.polarisation
        )
        start = time.perf_counter()
        result = run_bp(
            inst,
            beta,
            m0,
            damping=BP_SETTINGS.damping,
            tol=BP_SETTINGS.tol,
            max_iter=BP_SETTINGS.max_iter,
            schedule=BP_SETTINGS.schedule,
        )
        elapsed = time.perf_counter() - start
        thermo = thermodynamics(inst, result.m, beta)
        print(
            f"[BP large] {start_kind} start, beta={beta}: converged={result.converged} in "
            f"{result.iterations} iterations, {elapsed:.1f} s (target < 60 s); "
            f"q={thermo['q']:.4f}, f={thermo['f']:.5f}"
        )


if __name__ == "__main__":
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    print(f"load average before: {os.getloadavg()}, cores: {os.cpu_count()}")
    bp_speed()
    mc_speed()
    bp_large()
    print(f"load average after: {os.getloadavg()}")
