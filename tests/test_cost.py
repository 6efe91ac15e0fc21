"""The cost model: its counts follow the code, and the rules can use it without torch."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
import torch
from conftest import REPO, TINY, snakemake
from torch.profiler import ProfilerActivity, profile

from prunephase import cost
from prunephase.core.config import load_config, validate_config
from prunephase.nn.dispatch import dispatched
from prunephase.nn.ensemble import Network, layer_sizes
from prunephase.nn.training import (
    Adam,
    TrainingSettings,
    draw_subsets,
    model_seeds,
    schedule,
    train_ensemble,
)


def settings(epochs: int) -> TrainingSettings:
    return TrainingSettings(optimiser=Adam(lr=1e-3, betas=(0.9, 0.999), eps=1e-8),
                            loss="cross_entropy", batch_size=32, epochs=epochs, min_steps=0,
                            snapshots=(1.0,), rescale=True)  # fmt: skip


def ops_per_step(depth: int, n_models: int, p: float) -> float:
    """Dispatched operations of an epoch of 8 steps (two epochs minus one: no setup), per step."""
    x, y = torch.randn(500, 784), torch.randint(0, 10, (500,))
    net = Network(sizes=tuple(layer_sizes(12, depth)), activation="relu", init="torch", bias=True)
    seeds = [model_seeds(0, k) for k in range(n_models)]
    subsets = draw_subsets(seeds, 256, len(x))
    counts = [
        dispatched(
            lambda e=e: train_ensemble(x, y, subsets, [p] * n_models, seeds, net, settings(e))
        )  # fmt: skip
        for e in (1, 2)
    ]
    return (counts[1] - counts[0]) / 8


RANDOM_OPS = ("random_", "randperm", "uniform_", "normal_", "bernoulli", "rand", "randint",
              "multinomial", "exponential_")  # fmt: skip


def profiled_per_step(n_models: int) -> tuple[float, float]:
    """(aten events, random-number calls) per step in torch.profiler's record of a 784-12-12-10
    ensemble with dropout: those of two epochs of 8 steps minus those of one."""
    x, y = torch.randn(500, 784), torch.randint(0, 10, (500,))
    net = Network(sizes=tuple(layer_sizes(12, 2)), activation="relu", init="torch", bias=True)
    seeds = [model_seeds(1, k) for k in range(n_models)]
    subsets = draw_subsets(seeds, 256, len(x))
    p_train = [0.1 * (k % 10) for k in range(n_models)]
    counts = []
    for epochs in (1, 2):
        with profile(activities=[ProfilerActivity.CPU]) as prof:
            train_ensemble(x, y, subsets, p_train, seeds, net, settings(epochs))
        events = prof.key_averages()
        counts.append((
            sum(e.count for e in events if e.key.startswith("aten::")),
            sum(e.count for e in events if e.key.removeprefix("aten::") in RANDOM_OPS),
        ))  # fmt: skip
    return tuple((b - a) / 8 for a, b in zip(*counts))


def test_profiled_ops_and_random_calls_per_step_do_not_grow_with_the_models():
    (few, few_random), (many, many_random) = profiled_per_step(2), profiled_per_step(20)
    assert many <= 1.1 * few
    # every draw of a step (dropout) and of an epoch (batch orders) is counter-based
    assert few_random == many_random == 0


@pytest.mark.parametrize("depth", [1, 2, 3])
@pytest.mark.parametrize("p", [0.0, 0.3])
def test_train_ops_per_step_are_counted_and_do_not_grow_with_the_models(depth, p):
    few, many = ops_per_step(depth, 2, p), ops_per_step(depth, 40, p)
    assert few == many
    # the per-epoch batch order (a few operations) is shared by the 8 steps of the epoch
    assert cost.train_ops_per_step(depth, dropout=p > 0) == int(few)


def test_the_cost_model_imports_neither_torch_nor_numpy():
    code = (
        "import sys; import prunephase.cost; "
        "print(sorted(m for m in ('torch', 'numba', 'numpy', 'pandas') if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=REPO,
        env={"PYTHONPATH": str(REPO / "src")},
        check=True,
    )
    assert result.stdout.strip() == "[]"


def test_schedule_is_the_trainers():
    training = {"batch_size": 128, "epochs": 100, "min_steps": 4000}
    settings_ = TrainingSettings(optimiser=Adam(lr=1e-3, betas=(0.9, 0.999), eps=1e-8),
                                 loss="cross_entropy", snapshots=(1.0,), rescale=True,
                                 **training)  # fmt: skip
    for n in (938, 1875, 60000, 129):
        plan = schedule(n, settings_)
        assert cost.schedule(n, training) == (plan.epochs, plan.steps_per_epoch)


def section(**changes):
    dp = load_config(TINY)["dropout_phases"]
    dp.update(changes)
    return dp


def test_training_flops_by_hand():
    dp = section(p_train=[0.0, 0.5], runs=3)
    work = cost.train_work(dp, width=8, depth=1, n_train=256)
    epochs, _ = cost.schedule(256, dp["training"])
    # 6 models, every example once per epoch: forward and weight gradient of both layers, input
    # gradient of the second
    per_example = 2 * (2 * (784 * 8 + 8 * 10) + 8 * 10)
    assert work.flops == 6 * epochs * 256 * per_example
    batch = dp["training"]["batch_size"]
    assert work.product == cost.Product(6, batch, 784, 8)
    # each product at its own shape: forward, weight gradient (the input transposed), input
    # gradient (the weights transposed) of the second layer only
    assert {shape for _, shape in work.products} == {
        cost.Product(6, batch, 784, 8), cost.Product(6, 784, batch, 8, "tn"),
        cost.Product(6, batch, 8, 10), cost.Product(6, 8, batch, 10, "tn"),
        cost.Product(6, batch, 10, 8, "nt"),
    }  # fmt: skip
    # one dropout draw per hidden unit and example (p_train 0.5 drops)
    assert work.draws == 6 * epochs * 256 * 8
    assert cost.train_work(section(p_train=[0.0], runs=6), 8, 1, 256).draws == 0
    # twice the models: twice the FLOPs and bytes, the same operations per step
    double = cost.train_work(section(p_train=[0.0, 0.5], runs=6), 8, 1, 256)
    assert double.flops == 2 * work.flops and double.bytes == 2 * work.bytes
    assert double.ops - work.ops == 8 * 1 * 6  # the initialisation of the extra models only


def test_evaluation_flops_by_hand():
    dp = section(p_eval=[0.0, 0.5], runs=1, p_train=[0.0])
    dp["evaluation"] = {"masks": 4, "mask_scope": "network"}
    work = cost.evaluate_work(dp, width=16, depth=2, n_train=256)
    t, snapshots = 10000, cost.n_snapshots(dp)
    first = 2 * t * 784 * 16
    # p_eval 0: one slot, every unit; 0.5: four masks keeping 8 of the 16 units of layer 2
    masks = 1 * 2 * t * (16 * 16 + 16 * 10) + 4 * 2 * t * (16 * 8 + 8 * 10)
    assert work.flops == snapshots * (first + masks)
    image = dict(dp, evaluation={"masks": 4, "mask_scope": "image"})
    assert cost.evaluate_work(image, 16, 2, 256).flops == snapshots * (
        first + 5 * 2 * t * (16 * 16 + 16 * 10)
    )


def test_time_and_rule_resources():
    work = cost.Work(products=((2e12, cost.Product(1, 1, 1, 1)),), traffic=((4e9, 100),),
                     ops=1e6, memory=2**30, draws=1e8)  # fmt: skip
    machine = cost.constant_machine("m", flops=1e12, bandwidth=2e9, op_seconds=1e-6)
    draws = 1e8 * cost.DRAW_BYTES / 2e9
    assert work.seconds(machine) == pytest.approx(2 + 2 + 1 + draws)
    assert cost.runtime_minutes(work, machine) == 11
    assert cost.mem_mb(work) == 1280
    config = load_config(TINY)
    assert cost.scheduler_machine(config) is cost.SCHEDULER_CPU  # tiny: device cpu
    jobs = cost.jobs(config)
    assert len(jobs) == 2 * 2 * 3  # two rules, two architectures, three sizes
    assert all(j.work.flops > 0 and j.work.memory > cost.PROCESS_BYTES for j in jobs)


def test_the_command_line_prints_every_rule_and_a_total():
    result = subprocess.run(
        [sys.executable, "-m", "prunephase.cost", "--configfile", str(TINY), "--gpu-tflops", "10"],
        capture_output=True, text=True, cwd=REPO / "tests", check=True,
        env={"PYTHONPATH": str(REPO / "src"), "PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    lines = result.stdout.splitlines()
    assert lines[0].split()[:3] == ["rule", "architecture", "jobs"]
    assert {line.split()[0] for line in lines[1:5]} == {"train_shard", "evaluate_shard"}
    assert lines[5].startswith("total") and "GPU at 10 TFLOP/s" in result.stdout


def test_the_command_line_stops_on_a_bad_key_naming_it(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("dropout_phases:\n  runs: 0\n  trainig: {epochs: 1}\n")
    result = subprocess.run(
        [sys.executable, "-m", "prunephase.cost", "--configfile", str(bad)],
        capture_output=True, text=True, cwd=tmp_path,
        env={"PYTHONPATH": str(REPO / "src"), "PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    assert result.returncode == 2
    assert "dropout_phases.trainig" in result.stderr and "Traceback" not in result.stderr


def test_the_cost_model_reads_only_schema_keys():
    """Every key the counts read has a schema default: the schema's defaults alone (paper
    scale) give every job's work, and the paper config's jobs are the DAG's."""
    defaults = validate_config({})
    for job in cost.jobs(defaults):
        assert job.work.flops > 0 and job.work.ops > 0 and job.work.memory > cost.PROCESS_BYTES
    paper = load_config(REPO / "config" / "paper.yaml")
    assert len(cost.jobs(paper)) == 2 * 49  # as test_workflow's paper-scale DAG
    # the main product of a paper shard: every model of the shard in one batched product
    main = cost.jobs(paper)[0]
    assert main.work.product.batch == cost.n_models(paper["dropout_phases"]) == 200


@pytest.mark.workflow
def test_the_rules_resources_are_the_cost_models(tmp_path):
    """Every shard job of the DAG declares the cost model's mem_mb and runtime."""
    result = snakemake("-n", "--directory", str(tmp_path), "--configfile", str(TINY))
    declared = {
        (m["rule"], int(m["width"]), int(m["depth"]), int(m["n"])): (int(m["runtime"]),
                                                                     int(m["mem_mb"]))
        for m in re.finditer(
            r"^rule (?P<rule>\w+_shard):\n(?:    .*\n)*?    wildcards: width=(?P<width>\d+), "
            r"depth=(?P<depth>\d+), n=(?P<n>\d+)\n    resources: .*runtime=(?P<runtime>\d+), "
            r"mem_mb=(?P<mem_mb>\d+)",
            result.stdout,
            re.M,
        )
    }  # fmt: skip
    config = load_config(TINY)
    expected = {
        (j.rule, j.width, j.depth, j.n_train): (
            cost.runtime_minutes(j.work, cost.SCHEDULER_CPU), cost.mem_mb(j.work)
        )
        for j in cost.jobs(config)
    }  # fmt: skip
    assert declared == expected
