"""Benchmark: the ensemble trainer and the fast evaluation against their naive versions.

In one run, on one device, it times
  (a) a naive loop training the models one at a time (nn.Module, nn.Dropout, DataLoader, Adam),
  (b) the ensemble trainer on the same models, data sizes and number of epochs,
  (c) a dense float32 matrix product, the device's peak FLOP/s as torch reaches it,
and prints b vs a and the FLOP/s of b (counted: the matrix products of forward and backward) over
(c). Then the same for evaluation: the naive per-mask forward pass vs the fast path.

    python workflow/scripts/benchmark_training.py   # a paper-scale shard, ~3 min on 2 cores
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

import torch

from prunephase.core.config import settings as settings_of
from prunephase.core.config import validate_config
from prunephase.core.devices import CPU_ALLOCATOR_ENV
from prunephase.dropout_phases.evaluation import draw_eval_masks, evaluate_fast, evaluate_naive
from prunephase.dropout_phases.experiment import network, training_settings
from prunephase.dropout_phases.settings import Training
from prunephase.nn.ensemble import init_ensemble
from prunephase.nn.reference import train_naive
from prunephase.nn.training import (
    draw_subsets,
    model_seeds,
    resolve_device,
    train_ensemble,
)


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
    parser.add_argument("--masks", type=int, default=50)
    parser.add_argument("--repeats", type=int, default=1, help="timings of each (median)")
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    device = resolve_device(args.device)
    net = network(args.width, args.depth, "relu")
    sizes = list(net.sizes)
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(60000, 784, generator=generator).to(device)
    y = torch.randint(0, 10, (60000,), generator=generator).to(device)
    p_train = [round(0.1 * (k % 10), 1) for k in range(args.models)]
    seeds = [
        model_seeds(0, args.width, args.depth, args.n_train, p, k) for k, p in enumerate(p_train)
    ]
    # the paper's training (the schema's defaults of dropout_phases.training), for a fixed length
    paper = settings_of(Training, validate_config({})["dropout_phases"]["training"])
    settings = dataclasses.replace(
        training_settings(paper, rescale=True), epochs=args.epochs, min_steps=0
    )
    print(f"device {device}, {torch.get_num_threads()} threads, torch {torch.__version__}")
    print(f"{args.models} models {sizes}, N = {args.n_train}, {args.epochs} epochs, batch 128")

    peak_before = peak_flops(device, 5)
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
    peak = max(peak_before, peak_flops(device, 5))
    flops = training_flops(sizes, args.models * args.n_train * args.epochs)
    print("\ntraining")
    print(f"  (a) naive loop      {naive:8.2f} s")
    print(f"  (b) ensemble        {ensemble:8.2f} s   {flops / ensemble / 1e9:8.1f} GFLOP/s")
    print(f"  (c) matmul peak                   {peak / 1e9:8.1f} GFLOP/s")
    print(
        f"  b vs a: {naive / ensemble:.2f}x faster;  b / c: {flops / ensemble / peak:.0%} of peak"
    )

    model = init_ensemble([1], net, device)
    x_test, y_test = x[:10000], y[:10000]
    masks = [
        draw_eval_masks(
            k,
            args.masks,
            model.hidden_sizes,
            p,
            rescale=True,
            scope="network",
            n_images=1,
            device=device,
        )  # fmt: skip
        for k, p in enumerate([0.1, 0.5, 0.9])
    ]
    repeats = max(3, args.repeats)
    naive_eval = timed(lambda: [evaluate_naive(model, x_test, y_test, m) for m in masks], device,
                       repeats)  # fmt: skip
    fast_eval = timed(lambda: [evaluate_fast(model, x_test, y_test, m) for m in masks], device,
                      repeats)  # fmt: skip
    print(f"\nevaluation ({3 * args.masks} masks x 10000 test images, one network)")
    print(f"  naive per-mask forward  {naive_eval:8.3f} s")
    print(f"  fast path               {fast_eval:8.3f} s")
    print(f"  fast vs naive: {naive_eval / fast_eval:.2f}x faster")


if __name__ == "__main__":
    main()
