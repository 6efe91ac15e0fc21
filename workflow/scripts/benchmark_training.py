"""Benchmark: the ensemble trainer and the batched evaluation against their naive versions, the
operations they dispatch, and the cost model against a measured shard.

In one run, on one device, it
  1. counts the operations of a training step for 10 and for 200 models (64 wide, batch 32, one
     epoch of 8 steps): torch.profiler's aten events, the operations dispatched to kernels (a
     dispatch mode), and the random-number calls;
  2. times (a) a naive loop training the models one at a time (nn.Module, nn.Dropout,
     DataLoader, Adam), (b) the ensemble trainer on the same models, data sizes and epochs,
     (c) a dense float32 matrix product, the device's peak FLOP/s as torch reaches it, and prints
     b vs a and the FLOP/s of b (its matrix products) over c;
  3. times the evaluation of a chunk of networks: the naive per-mask forward pass against the
     batched path, and counts the operations of a shard's evaluation for 2 and for 20 p_eval
     values;
  4. trains and evaluates a shard of the default run (config.yaml) and compares the times with
     the cost model's prediction (prunephase.cost, this machine measured at the shard's shapes).

    python workflow/scripts/benchmark_training.py   # a paper-scale shard, minutes on 2 cores
    python workflow/scripts/benchmark_training.py --models 20 --n-train 4096   # a small shard
    python workflow/scripts/benchmark_training.py --device cuda --n-train 8192 --repeats 3
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import os
import statistics
import sys
import time
from pathlib import Path

import torch
from torch.profiler import ProfilerActivity, profile

from prunephase import cost
from prunephase.core.config import load_config, validate_config
from prunephase.core.config import settings as settings_of
from prunephase.core.devices import CPU_ALLOCATOR_ENV
from prunephase.dropout_phases.evaluation import (
    CPU_CHUNK_BYTES,
    draw_eval_masks,
    evaluate_ensemble,
    evaluate_masks,
    evaluate_naive,
    memory_budget,
)
from prunephase.dropout_phases.experiment import network, training_settings
from prunephase.dropout_phases.settings import Training
from prunephase.nn.dispatch import dispatched
from prunephase.nn.ensemble import init_ensemble
from prunephase.nn.reference import train_naive
from prunephase.nn.training import draw_subsets, model_seeds, resolve_device, train_ensemble

REPO = Path(__file__).resolve().parents[2]
#: torch operations that draw from a generator
RANDOM_OPS = {"aten::random_", "aten::randperm", "aten::uniform_", "aten::normal_",
              "aten::bernoulli_", "aten::rand", "aten::randint", "aten::exponential_"}  # fmt: skip


def timed(fn, device: torch.device, repeats: int, warmup=None) -> float:
    """Median wall time of ``fn()`` over ``repeats`` calls, after a warm-up call (of ``warmup``
    if given, a shorter stand-in for a long ``fn``)."""
    (warmup or fn)()
    times = []
    for _ in range(repeats):
        if device.type == "cuda":
            torch.cuda.synchronize()
        start = time.perf_counter()
        fn()
        if device.type == "cuda":
            torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def peak_flops(device: torch.device, repeats: int) -> float:
    """Best FLOP/s of dense float32 square products (2048 and 4096): the device's peak as torch
    reaches it. The best of several runs, so that the ratios against it are conservative."""
    best = 0.0
    for size in (2048, 4096):
        a = torch.randn(size, size, device=device)
        b = torch.randn(size, size, device=device)
        product = functools.partial(torch.mm, a, b)
        for _ in range(repeats):
            best = max(best, 2 * size**3 / timed(product, device, 1))
    return best


def training_flops(sizes: list[int], samples: int) -> float:
    """Matrix-product FLOPs of forward and backward passes over ``samples`` examples.

    Forward and weight gradients: 2 n_in n_out per layer and example each; input gradients: the
    same for every layer but the first (the data needs no gradient).
    """
    products = [a * b for a, b in zip(sizes, sizes[1:])]
    return 2.0 * samples * (2 * sum(products) + sum(products[1:]))


def operation_counts(fn) -> tuple[int, int, int]:
    """(profiler aten events and this package's named kernels, dispatched operations, random
    calls) of ``fn()``."""
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        fn()
    events = prof.key_averages()
    aten = sum(e.count for e in events if e.key.startswith(("aten::", "prunephase::")))
    drawn = sum(e.count for e in events if e.key in RANDOM_OPS)
    return aten, dispatched(fn), drawn


def step_counts(device: torch.device, n_models: int) -> tuple[float, float, float]:
    """Operations per training step of ``n_models`` 784-64-64-10 networks, batch 32: those of
    two epochs of 8 steps minus those of one (so the set-up and initialisation cancel)."""
    net = network(64, 2, "relu")
    x = torch.randn(2048, 784, device=device)
    y = torch.randint(0, 10, (2048,), device=device)
    p_train = [round(0.1 * (k % 10), 1) for k in range(n_models)]
    seeds = [model_seeds(1, 64, 2, 256, p, k) for k, p in enumerate(p_train)]
    subsets = draw_subsets(seeds, 256, len(x))
    counts = []
    for epochs in (1, 2):
        settings = dataclasses.replace(paper_settings(), batch_size=32, epochs=epochs)
        counts.append(operation_counts(
            lambda s=settings: train_ensemble(x, y, subsets, p_train, seeds, net, s)
        ))  # fmt: skip
    return tuple((b - a) / 8 for a, b in zip(*counts))


def paper_settings():
    """The paper's training (the schema's defaults of dropout_phases.training), no minimum."""
    paper = settings_of(Training, validate_config({})["dropout_phases"]["training"])
    return dataclasses.replace(training_settings(paper, rescale=True), min_steps=0)


def default_shard_check(device: torch.device, width: int, depth: int, n_train: int) -> None:
    """Train and evaluate one shard of the default run on random data of MNIST's sizes and
    compare the times with the cost model's prediction on this machine."""
    config = load_config(REPO / "config.yaml")
    dp = config["dropout_phases"]
    models = [(float(p), r) for p in dp["p_train"] for r in range(dp["runs"])]
    seeds = [model_seeds(0, width, depth, n_train, p, r) for p, r in models]
    x = torch.randn(cost.N_TRAIN_IMAGES, 784, device=device)
    y = torch.randint(0, 10, (cost.N_TRAIN_IMAGES,), device=device)
    t = dp["training"]
    settings = dataclasses.replace(
        paper_settings(), epochs=t["epochs"], min_steps=t["min_steps"],
        snapshots=tuple(t["snapshots"]), rescale=dp["rescale"],
    )  # fmt: skip
    net = network(width, depth, dp["activation"])
    subsets = draw_subsets(seeds, n_train, len(x))
    start = time.perf_counter()
    result = train_ensemble(x, y, subsets, [p for p, _ in models], seeds, net, settings)
    trained = time.perf_counter() - start
    x_test = torch.randn(cost.N_TEST_IMAGES, 784, device=device)
    y_test = torch.randint(0, 10, (cost.N_TEST_IMAGES,), device=device)
    start = time.perf_counter()
    for snapshot in result.snapshots.values():
        evaluate_ensemble(
            snapshot.to(device), [s.evaluation for s in seeds], x_test, y_test, dp["p_eval"],
            dp["evaluation"]["masks"], rescale=dp["rescale"],
            scope=dp["evaluation"]["mask_scope"], budget=memory_budget(device),
        )  # fmt: skip
    evaluated = time.perf_counter() - start
    here = cost.measure_machine()
    print(f"\ncost model: default-run shard {width}x{depth}, N = {n_train}, {len(models)} models")
    for rule, measured in (("train_shard", trained), ("evaluate_shard", evaluated)):
        work = cost.JOBS[rule](dp, width, depth, n_train)
        predicted = work.seconds(here)
        parts = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in work.parts(here).items())
        print(f"  {rule:15s} predicted {predicted:6.1f} s ({parts}); measured {measured:6.1f} s;"
              f" ratio {predicted / measured:.2f}")  # fmt: skip


def main() -> None:
    if any(k not in os.environ for k in CPU_ALLOCATOR_ENV):
        # the allocator reads these at start-up: run again with them, as the workflow's jobs do
        os.execve(sys.executable, [sys.executable, *sys.argv], {**CPU_ALLOCATOR_ENV, **os.environ})
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--device", default="auto")
    parser.add_argument("--width", type=int, default=256)
    parser.add_argument("--depth", type=int, default=2)
    parser.add_argument(
        "--models", type=int, default=200, help="models: p_train 0..0.9 x runs (a paper shard: 200)"
    )
    parser.add_argument("--n-train", type=int, default=2048)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--eval-models", type=int, default=10, help="networks evaluated together")
    parser.add_argument("--masks", type=int, default=10, help="masks per network and p_eval")
    parser.add_argument("--repeats", type=int, default=1, help="timings of each (median)")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--skip", nargs="*", default=[], choices=["ops", "train", "eval", "cost"])
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    device = resolve_device(args.device)
    print(f"device {device}, {torch.get_num_threads()} threads, torch {torch.__version__}; "
          f"load average {os.getloadavg()[0]:.2f}")  # fmt: skip

    if "ops" not in args.skip:
        print("\noperations per training step (784-64-64-10, batch 32, 8 steps per epoch)")
        print("  models  profiler aten ops  dispatched ops  random-number calls")
        counts = {m: step_counts(device, m) for m in (10, 200)}
        for m, (aten, dispatched, drawn) in counts.items():
            print(f"  {m:6d}  {aten:17.1f}  {dispatched:14.1f}  {drawn:19.1f}")
        print(f"  200 vs 10 models: {counts[200][0] / counts[10][0]:.3f}x the aten ops, "
              f"{counts[200][1] / counts[10][1]:.3f}x the dispatched ops")  # fmt: skip

    net = network(args.width, args.depth, "relu")
    sizes = list(net.sizes)
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(60000, 784, generator=generator).to(device)
    y = torch.randint(0, 10, (60000,), generator=generator).to(device)
    peak = peak_flops(device, 5)
    if "train" not in args.skip:
        p_train = [round(0.1 * (k % 10), 1) for k in range(args.models)]
        seeds = [model_seeds(0, args.width, args.depth, args.n_train, p, k)
                 for k, p in enumerate(p_train)]  # fmt: skip
        settings = dataclasses.replace(paper_settings(), epochs=args.epochs)
        print(f"\ntraining: {args.models} models {sizes}, N = {args.n_train}, {args.epochs} "
              f"epochs, batch {settings.batch_size}")  # fmt: skip
        naive = timed(
            lambda: [
                train_naive(x, y, p, s.init, net, args.n_train, settings, args.epochs)
                for p, s in zip(p_train, seeds)
            ],
            device,
            args.repeats,
            warmup=lambda: train_naive(x, y, 0.5, 0, net, args.n_train, settings, 1),
        )
        subsets = draw_subsets(seeds, args.n_train, len(x))
        ensemble = timed(
            lambda: train_ensemble(x, y, subsets, p_train, seeds, net, settings),
            device,
            args.repeats,
            warmup=lambda: train_ensemble(
                x, y, subsets[:2, :512], p_train[:2], seeds[:2], net, settings
            ),  # fmt: skip
        )
        peak = max(peak, peak_flops(device, 5))
        flops = training_flops(sizes, args.models * args.n_train * args.epochs)
        print(f"  (a) naive loop      {naive:8.2f} s")
        print(f"  (b) ensemble        {ensemble:8.2f} s   {flops / ensemble / 1e9:8.1f} GFLOP/s")
        print(f"  (c) matmul peak                   {peak / 1e9:8.1f} GFLOP/s")
        print(f"  b vs a: {naive / ensemble:.2f}x faster;  b / c: {flops / ensemble / peak:.0%} "
              "of peak")  # fmt: skip

    if "eval" not in args.skip:
        k = args.eval_models
        model = init_ensemble(list(range(k)), net, device)
        x_test, y_test = x[:10000], y[:10000]
        p_eval = [0.1, 0.5, 0.9]
        slots = len(p_eval) * args.masks
        seeds_ = torch.arange(k * slots, device=device).view(k, slots)
        masks = torch.arange(args.masks, device=device).repeat(len(p_eval)).expand(k, -1)
        rates = torch.tensor(p_eval, device=device).repeat_interleave(args.masks).expand(k, -1)
        factors = draw_eval_masks(seeds_, masks, rates, model.hidden_sizes, rescale=True,
                                  scope="network", n_images=1)  # fmt: skip
        budget = memory_budget(device)
        repeats = max(3, args.repeats)
        naive_eval = timed(
            lambda: [evaluate_naive(model.select(j), x_test, y_test, [f[j] for f in factors])
                     for j in range(k)],
            device, repeats,
        )  # fmt: skip
        fast_eval = timed(
            lambda: evaluate_masks(model, x_test, y_test, factors, budget=budget), device, repeats
        )
        print(f"\nevaluation: {k} networks {sizes} x {slots} masks (p_eval {p_eval}) x 10000 "
              f"test images, chunk budget {budget / 2**20:.0f} MiB")  # fmt: skip
        print(f"  naive per-mask forward  {naive_eval:8.3f} s")
        print(f"  batched                 {fast_eval:8.3f} s")
        print(f"  batched vs naive: {naive_eval / fast_eval:.2f}x faster")
        # a shard's evaluation: the operations for 2 and 20 p_eval values (5 masks each), once
        # with a budget that holds the shard (no chunks forced by memory), once with the CPU's
        small = init_ensemble(list(range(k)), network(64, 2, "relu"), device)
        grids = {2: [0.0, 0.5], 20: [round(0.05 * i, 2) for i in range(20)]}
        print(
            f"  operations of a shard's evaluation ({k} networks 784-64-64-10, 5 masks per "
            "p_eval): dispatched ops for 2 / 20 p_eval values"
        )
        for label, chunk_bytes in (
            ("budget holding the shard", 2**40),
            (f"budget {CPU_CHUNK_BYTES / 2**20:.0f} MiB", CPU_CHUNK_BYTES),
        ):
            ops = [
                operation_counts(lambda g=g, b=chunk_bytes: evaluate_ensemble(
                    small, list(range(k)), x_test, y_test, g, 5, rescale=True, scope="network",
                    budget=b))[1]
                for g in grids.values()
            ]  # fmt: skip
            print(f"    {label:26s} {ops[0]:6d} / {ops[1]:6d}")

    if "cost" not in args.skip:
        default_shard_check(device, 64, 2, 2000)
    print(f"\nload average at the end {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
