"""What paper A's network jobs cost, before they run: FLOPs, memory traffic, operations, memory.

A job (``train_shard`` or ``evaluate_shard`` of one shard) is counted from the configuration alone
as a :class:`Work`: the FLOPs of its matrix products by shape, the bytes its elementwise
operations read and write (and the size of the memory they sweep), the counter-based dropout draws
it makes, the operations it dispatches (each has a fixed cost: a kernel launch on a GPU, dispatch,
autograd and allocation on a CPU) and its peak memory. A :class:`Machine` turns that into seconds:

    time = sum(flops / rate(product)) + sum(bytes / bandwidth(size)) + draws * draw_seconds
           + ops * op_seconds

A CPU's rates depend on the shapes (a small batched product runs below the dense peak; a tensor
that stays in the caches streams faster than one from memory), so on this machine both are
measured at the job's own shapes.

The counts follow the code: the trainer (:mod:`prunephase.nn.training`) does, per model and
example, the forward products, the weight-gradient products (whose first operand is a transposed
view of the layer's input) and the input-gradient products (second operand transposed) of every
layer but the first, each product at its own shape; per hidden unit and example a fixed number of
elementwise passes (bias copy, activation, dropout factor and product, and their backward) over
the activations a step keeps for its backward pass; per example the gather of its image from the
training set; per parameter and step a fused Adam update sweeping parameters, gradients and both
moments; per hidden unit and example one counter-based dropout draw (if any model drops); and a
number of dispatched operations per step that does not depend on the number of models
(:func:`train_ops_per_step`, checked against a count of dispatched operations in the tests).
The evaluation (:mod:`prunephase.dropout_phases.evaluation`) computes each network's first layer
once per snapshot, and for each mask the products restricted to the kept units (on average a
fraction 1 - p_eval of each hidden layer beyond the first, for network-scope masks; every unit for
image-scope masks).

This part imports neither torch nor numpy: the rules' ``runtime`` and ``mem_mb`` come from it
when the DAG is built (:data:`SCHEDULER_CPU`, :data:`SCHEDULER_GPU`, deliberately slow machines,
so that a time limit is a bound). ``python -m prunephase.cost --configfile config/paper.yaml``
measures this machine with torch (its matmul peak, memory bandwidth and cost per operation) and
prints every job's estimate here and on a GPU of a given FLOP/s.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

#: MNIST: training and test images, pixels, classes
N_TRAIN_IMAGES, N_TEST_IMAGES, N_PIXELS, N_CLASSES = 60000, 10000, 784, 10
#: float32
FLOAT = 4
#: memory of a Python process with torch, pandas and the job's modules loaded (measured: ~0.4 GB)
PROCESS_BYTES = 600 * 2**20
#: elementwise bytes per hidden unit and training example: bias copy into the product's output
#: (4) and its update (8), activation (8), backward of the activation (12), bias gradient (4),
#: input gradient (4); with dropout also the factor (4), the product (12) and its backward (12)
TRAIN_UNIT_BYTES, DROPOUT_UNIT_BYTES = 40, 28
#: elementwise bytes per input pixel and example (the gather of the batch: read and write) and
#: per class and example (logits, log-softmax and its backward)
TRAIN_PIXEL_BYTES, TRAIN_CLASS_BYTES = 8, 56
#: bytes per parameter and step: fused Adam reads parameter, gradient and both moments and writes
#: three of them (28), the gradient is written (4)
ADAM_PARAMETER_BYTES = 32
#: elementwise bytes per kept hidden unit (beyond the first layer) and test image of a mask: the
#: product's output, the bias and the activation in place, the read by the next product; and per
#: class: logits, their maximum, the exponentials, the sum, the true class
EVAL_UNIT_BYTES, EVAL_CLASS_BYTES = 16, 32
#: operations the evaluation dispatches per chunk of masks (index gathers, products, scores) and
#: per chunk of networks (first layer, masks, sorting)
EVAL_OPS_PER_CHUNK, EVAL_OPS_PER_MODEL_CHUNK = 60, 40
#: the evaluation's chunk budget on a CPU (``prunephase.dropout_phases.evaluation``)
CPU_CHUNK_BYTES = 2**30
#: bytes per dropout draw of the tensor-operation generator (GPUs): a 64-bit word holds four
#: draws and is read and written by about a dozen passes (mix64 and the logical shifts), then the
#: threshold and the factor (float32) are written
DRAW_BYTES = 12 * 2 * 8 // 4 + 2 * FLOAT


@dataclass(frozen=True)
class Product:
    """A batched matrix product (batch, m, k) @ (batch, k, n).

    ``layout`` says which operands are transposed views of contiguous tensors, as in a backward
    pass: ``"nn"`` neither, ``"tn"`` the first (stored (batch, k, m)), ``"nt"`` the second
    (stored (batch, n, k)); a CPU runs them at different rates.
    """

    batch: int
    m: int
    k: int
    n: int
    layout: str = "nn"


@dataclass(frozen=True)
class Machine:
    """What a device does per second.

    Attributes
    ----------
    name
        For the printout.
    flops
        float32 FLOP/s of a batched product of a given shape.
    bandwidth
        Bytes per second that an elementwise operation reads and writes on tensors of a given
        size (bytes).
    op_seconds
        Fixed cost of one dispatched operation (s): a kernel launch on a GPU, the dispatch,
        autograd and allocation of an operation on a CPU.
    draw_seconds
        Time per counter-based int16 dropout draw turned into a factor (s).
    """

    name: str
    flops: Callable[[Product], float]
    bandwidth: Callable[[int], float]
    op_seconds: float
    draw_seconds: float


def constant_machine(name: str, flops: float, bandwidth: float, op_seconds: float) -> Machine:
    """A :class:`Machine` whose rates do not depend on the shapes (e.g. a GPU's datasheet).

    Its draws are made by tensor operations (:func:`prunephase.nn.streams.words`), which move
    :data:`DRAW_BYTES` per draw at ``bandwidth``.
    """
    return Machine(name, lambda _: flops, lambda _: bandwidth, op_seconds, DRAW_BYTES / bandwidth)


#: slow machines for the scheduler's time limits: a shared CPU core pair, an old GPU
SCHEDULER_CPU = constant_machine("scheduler bound, CPU", 10e9, 2e9, 50e-6)
SCHEDULER_GPU = constant_machine("scheduler bound, GPU", 2e12, 100e9, 20e-6)


@dataclass(frozen=True)
class Work:
    """What one job does.

    Attributes
    ----------
    products
        (matrix-product FLOPs, the shape of the products that do them) for each shape.
    traffic
        (bytes read and written by elementwise operations, size in bytes of the memory they
        sweep) for each kind of tensor.
    ops
        Dispatched operations.
    memory
        Peak memory of the process (bytes).
    draws
        Counter-based dropout draws.
    """

    products: tuple[tuple[float, Product], ...]
    traffic: tuple[tuple[float, int], ...]
    ops: float
    memory: float
    draws: float = 0.0

    @property
    def flops(self) -> float:
        """Matrix-product FLOPs, all shapes together."""
        return sum(flops for flops, _ in self.products)

    @property
    def product(self) -> Product:
        """The shape of the products that do most of the FLOPs."""
        return max(self.products, key=lambda item: item[0])[1]

    @property
    def bytes(self) -> float:
        """Bytes moved by elementwise operations, all kinds of tensor together."""
        return sum(moved for moved, _ in self.traffic)

    def parts(self, machine: Machine) -> dict[str, float]:
        """Seconds on ``machine`` of the products, the memory traffic, the draws and the fixed
        costs of the operations."""
        return {
            "products": sum(flops / machine.flops(shape) for flops, shape in self.products),
            "traffic": sum(moved / machine.bandwidth(size) for moved, size in self.traffic),
            "draws": self.draws * machine.draw_seconds,
            "operations": self.ops * machine.op_seconds,
        }

    def seconds(self, machine: Machine) -> float:
        """The time on ``machine``: products, memory traffic, draws and fixed costs, one after
        another."""
        return sum(self.parts(machine).values())


def layer_sizes(width: int, depth: int) -> list[int]:
    """(784, width, ..., width, 10)."""
    return [N_PIXELS, *([width] * depth), N_CLASSES]


def parameters(sizes: Sequence[int]) -> int:
    """Weights and biases of one network."""
    return sum(a * b + b for a, b in zip(sizes, sizes[1:]))


def n_models(dp: Mapping[str, Any]) -> int:
    """Models of a shard: p_train values x runs."""
    return len(dp["p_train"]) * dp["runs"]


def n_snapshots(dp: Mapping[str, Any]) -> int:
    """Snapshots kept per model (the end of training is always one)."""
    return len(set(dp["training"]["snapshots"]) | {1.0})


def schedule(n_train: int, training: Mapping[str, Any]) -> tuple[int, int]:
    """(epochs, steps per epoch) of a model trained on ``n_train`` examples, as the trainer runs
    them (``prunephase.nn.training.schedule``)."""
    steps_per_epoch = -(-n_train // training["batch_size"])
    return max(training["epochs"], -(-training["min_steps"] // steps_per_epoch)), steps_per_epoch


def train_ops_per_step(depth: int, dropout: bool) -> int:
    """Operations the trainer dispatches per step, whatever the number of models: 68 + 16 per
    hidden layer with dropout, 46 + 14 without (counted with a dispatch mode; tested)."""
    return 68 + 16 * depth if dropout else 46 + 14 * depth


def train_work(dp: Mapping[str, Any], width: int, depth: int, n_train: int) -> Work:
    """:class:`Work` of ``train_shard`` for the shard (width, depth, N) of the section ``dp``
    (``config["dropout_phases"]``)."""
    sizes = layer_sizes(width, depth)
    models, params = n_models(dp), parameters(sizes)
    training = dp["training"]
    epochs, steps_per_epoch = schedule(n_train, training)
    steps, samples = epochs * steps_per_epoch, epochs * n_train
    batch = training["batch_size"]
    products = []
    for layer, (a, b) in enumerate(zip(sizes, sizes[1:])):
        flops = 2.0 * models * samples * a * b  # per pass over the examples
        forward, weight_gradient = Product(models, batch, a, b), Product(models, a, batch, b, "tn")
        products += [(flops, forward), (flops, weight_gradient)]
        if layer > 0:  # the data needs no gradient
            products.append((flops, Product(models, batch, b, a, "nt")))
    dropout = any(p > 0 for p in dp["p_train"])
    unit_bytes = TRAIN_UNIT_BYTES + (DROPOUT_UNIT_BYTES if dropout else 0)
    per_sample = unit_bytes * width * depth + TRAIN_CLASS_BYTES * N_CLASSES
    # what a step keeps for its backward pass: the batch, every layer's outputs and their
    # activations and dropout products, the logits and their softmax
    activations = models * batch * (N_PIXELS + 6 * width * depth + 4 * N_CLASSES) * FLOAT
    images = N_TRAIN_IMAGES * N_PIXELS * FLOAT
    return Work(
        products=tuple(products),
        traffic=(
            (float(models) * samples * per_sample, activations),
            (float(models) * samples * TRAIN_PIXEL_BYTES * N_PIXELS, images),
            # parameters, gradients and both moments, swept together by the fused update
            (float(models) * steps * params * ADAM_PARAMETER_BYTES, 4 * models * params * FLOAT),
        ),
        # per step; per epoch the batch orders (about 20); per model the initialisation
        ops=float(steps * train_ops_per_step(depth, dropout) + 20 * epochs + 8 * depth * models),
        memory=PROCESS_BYTES
        + 2 * images  # the images as float32 (and their scaling)
        + models * params * FLOAT * (4 + n_snapshots(dp))  # parameters, gradients, Adam, kept
        + activations,
        draws=float(models) * samples * width * depth if dropout else 0.0,
    )


def _kept(width: int, p: float, scope: str) -> float:
    """Expected kept units of a hidden layer of ``width`` under a mask of rate ``p``."""
    return width if scope == "image" else (1.0 - p) * width


def evaluate_work(
    dp: Mapping[str, Any], width: int, depth: int, n_train: int, budget: int = CPU_CHUNK_BYTES
) -> Work:
    """:class:`Work` of ``evaluate_shard`` (every snapshot of every model of the shard, every
    p_eval and mask) with a chunk budget of ``budget`` bytes."""
    del n_train  # a shard's evaluation does not depend on its training-set size
    scope, masks = dp["evaluation"]["mask_scope"], dp["evaluation"]["masks"]
    sizes = layer_sizes(width, depth)
    t = N_TEST_IMAGES
    flops = bytes_ = slot_bytes = rows = 0.0
    for p in dp["p_eval"]:
        count = 1 if p == 0 else masks
        m = [width] + [_kept(width, p, scope)] * (depth - 1)  # first layer: whole
        if depth == 1:
            products = width * N_CLASSES  # masked output weights, every unit
        else:
            products = width * m[1] + sum(a * b for a, b in zip(m[1:], m[2:])) + m[-1] * N_CLASSES
        flops += count * 2.0 * t * products
        kept_bytes = EVAL_UNIT_BYTES * sum(m[1:]) + (8 * width if scope == "image" else 0)
        bytes_ += count * t * (kept_bytes + EVAL_CLASS_BYTES * N_CLASSES)
        slot_bytes += count * FLOAT * t * (sum(m[1:]) + 3 * N_CLASSES)
        rows += count * (m[1] if depth > 1 else N_CLASSES)  # of the main product, per mask
    models, snapshots = n_models(dp), n_snapshots(dp)
    first = 2.0 * t * N_PIXELS * width
    chunks = math.ceil(models * slot_bytes / budget)
    shard_bytes = models * snapshots * parameters(sizes) * FLOAT
    # the main product: 16 masks of each network of a chunk into the kept units of layer 2 (the
    # classes of a one-layer network), from its first layer's activations
    slots = sum(1 if p == 0 else masks for p in dp["p_eval"])
    per_model = FLOAT * t * width + min(16, slots) * slot_bytes / slots
    chunk_models = max(1, min(models, int(budget // per_model)))
    mean_rows = max(1, round(rows / slots))
    return Work(
        products=(
            (
                snapshots * models * (flops + first),
                Product(chunk_models, min(16, slots) * mean_rows, width, t),
            ),
        ),
        traffic=((snapshots * models * bytes_, budget),),
        ops=float(snapshots * (chunks * EVAL_OPS_PER_CHUNK + EVAL_OPS_PER_MODEL_CHUNK)),
        memory=PROCESS_BYTES
        + (N_TRAIN_IMAGES + N_TEST_IMAGES) * N_PIXELS * (1 + FLOAT)  # the file and the test set
        + 2 * shard_bytes  # the file as read, and on the device
        + budget,
    )


#: the jobs whose cost is modelled, and how
JOBS = {"train_shard": train_work, "evaluate_shard": evaluate_work}


@dataclass(frozen=True)
class Job:
    """One network job of the run."""

    rule: str
    width: int
    depth: int
    n_train: int
    work: Work


def jobs(config: Mapping[str, Any]) -> list[Job]:
    """Every ``train_shard`` and ``evaluate_shard`` job of a validated config."""
    dp = config["dropout_phases"]
    return [
        Job(rule, a["width"], a["depth"], n, cost(dp, a["width"], a["depth"], n))
        for rule, cost in JOBS.items()
        for a in dp["architectures"]
        for n in dp["n_train"]
    ]


def scheduler_machine(config: Mapping[str, Any]) -> Machine:
    """The machine a rule's time limit assumes: :data:`SCHEDULER_CPU` with ``device: cpu``,
    else :data:`SCHEDULER_GPU` (the job asks for a GPU)."""
    return SCHEDULER_CPU if config["device"] == "cpu" else SCHEDULER_GPU


def runtime_minutes(work: Work, machine: Machine) -> int:
    """A rule's ``runtime`` (minutes): the time on ``machine`` and 10 minutes to start."""
    return int(10 + math.ceil(work.seconds(machine) / 60))


def mem_mb(work: Work) -> int:
    """A rule's ``mem_mb``: the peak memory with a quarter of headroom."""
    return int(math.ceil(1.25 * work.memory / 2**20))


# --- the command line: measure this machine, print the table -------------------------------------


def measure_machine(repeats: int = 3) -> Machine:  # pragma: no cover - timing
    """This machine, measured with torch at the shapes asked for: the best rate of a batched
    float32 product of the shape and layout (random operands), the bandwidth of an elementwise
    operation (``clamp_min`` into a preallocated tensor) on tensors of the size, the time per
    dropout draw (:func:`prunephase.nn.dropout.keep_factors` at a paper shard's size) and the
    time per dispatched operation of a training step of one tiny network (whose products and
    traffic are negligible, so its time is fixed costs). Each shape is measured once."""
    import functools
    import time

    import torch

    def best_of(fn) -> float:
        fn()
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            fn()
            times.append(time.perf_counter() - start)
        return min(times)

    @functools.cache
    def flops(product: Product) -> float:
        def operand(batch: int, rows: int, columns: int, transposed: bool):
            if transposed:  # a transposed view of a contiguous tensor, as autograd makes them
                return torch.randn(batch, columns, rows).transpose(1, 2)
            return torch.randn(batch, rows, columns)

        batch, m, k, n = product.batch, product.m, product.k, product.n
        a = operand(batch, m, k, product.layout == "tn")
        b = operand(batch, k, n, product.layout == "nt")
        out = torch.empty(batch, m, n)
        seconds = best_of(lambda: torch.bmm(a, b, out=out))
        return 2.0 * product.batch * product.m * product.k * product.n / seconds

    @functools.cache
    def bandwidth(size: int) -> float:
        x = torch.randn(max(1, size // FLOAT))
        out = torch.empty_like(x)
        return 2.0 * x.numel() * FLOAT / best_of(lambda: torch.clamp_min(x, 0, out=out))

    from prunephase.nn.dropout import keep_factors, keep_scale, keep_threshold

    rows, rates = torch.arange(64, dtype=torch.int64), torch.full((64,), 0.5)
    threshold, scale = keep_threshold(rates), keep_scale(rates, rescale=True)
    draws = 64 * 2**16  # a step of a 64-model shard, batch 128, two layers of 256
    draw_seconds = best_of(lambda: keep_factors(rows, 2**16, threshold, scale)) / draws
    threads = torch.get_num_threads()
    return Machine(
        f"this machine ({threads} threads)", flops, bandwidth, _op_seconds(), draw_seconds
    )


def dense_peak(repeats: int = 3, sizes: Sequence[int] = (2048,)) -> float:  # pragma: no cover
    """The best FLOP/s of dense float32 square products on the CPU (timing)."""
    import time

    import torch

    best = 0.0
    for size in sizes:
        a, b = torch.randn(size, size), torch.randn(size, size)
        torch.mm(a, b)
        for _ in range(repeats):
            start = time.perf_counter()
            torch.mm(a, b)
            best = max(best, 2 * size**3 / (time.perf_counter() - start))
    return best


def _op_seconds() -> float:  # pragma: no cover - timing
    """Seconds per dispatched operation of a training step of one 784-8-10 network, batch 1."""
    import time

    import torch

    from prunephase.nn.ensemble import Network
    from prunephase.nn.training import Adam, TrainingSettings, model_seeds, train_ensemble

    network = Network(sizes=(N_PIXELS, 8, N_CLASSES), activation="relu", init="torch", bias=True)
    x, y = torch.zeros(64, N_PIXELS), torch.zeros(64, dtype=torch.int64)
    settings = TrainingSettings(
        optimiser=Adam(lr=1e-3, betas=(0.9, 0.999), eps=1e-8), loss="cross_entropy",
        batch_size=1, epochs=1, min_steps=0, snapshots=(1.0,), rescale=True,
    )  # fmt: skip
    seeds = [model_seeds(0, 0)]
    times = []
    for _ in range(3):
        start = time.perf_counter()
        train_ensemble(x, y, torch.arange(64)[None], [0.5], seeds, network, settings)
        times.append(time.perf_counter() - start)
    return min(times) / 64 / train_ops_per_step(1, dropout=True)


def _table(rows: list[tuple[str, ...]]) -> str:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join(
        "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths)))
        for r in rows
    )


def _hours(seconds: float) -> str:
    return f"{seconds / 3600:.2f} h" if seconds >= 360 else f"{seconds:.0f} s"


def report(config: Mapping[str, Any], here: Machine, gpu: Machine) -> str:
    """The table: per rule and architecture (summed over the training-set sizes) and in total,
    the FLOPs, the peak memory of one job, the time on ``here`` and on ``gpu``."""
    groups: dict[tuple[str, str], list[Job]] = {}
    for job in jobs(config):
        groups.setdefault((job.rule, f"{job.width}x{job.depth}"), []).append(job)
    rows = [("rule", "architecture", "jobs", "PFLOP", "GB moved", "peak GB", "GFLOP/s here",
             here.name, gpu.name)]  # fmt: skip
    totals = {"flops": 0.0, "here": 0.0, "gpu": 0.0}
    for (rule, arch), group in groups.items():
        flops = sum(j.work.flops for j in group)
        moved = sum(j.work.bytes for j in group)
        t_here = sum(j.work.seconds(here) for j in group)
        t_gpu = sum(j.work.seconds(gpu) for j in group)
        peak = max(j.work.memory for j in group)
        rate = here.flops(group[0].work.product)
        rows.append((rule, arch, str(len(group)), f"{flops / 1e15:.3f}", f"{moved / 1e9:.0f}",
                     f"{peak / 1e9:.1f}", f"{rate / 1e9:.0f}", _hours(t_here),
                     f"{t_gpu / 60:.1f} min"))  # fmt: skip
        totals["flops"] += flops
        totals["here"] += t_here
        totals["gpu"] += t_gpu
    rows.append(("total", "", str(len(jobs(config))), f"{totals['flops'] / 1e15:.3f}", "", "", "",
                 _hours(totals["here"]), f"{totals['gpu'] / 60:.1f} min"))  # fmt: skip
    return _table(rows)


def main(argv: Sequence[str] | None = None) -> None:  # pragma: no cover - command line
    import argparse
    import os

    from prunephase.core.config import ConfigError, load_config

    parser = argparse.ArgumentParser(
        prog="python -m prunephase.cost", description=__doc__.split("\n")[0]
    )
    parser.add_argument(
        "--configfile",
        nargs="*",
        default=[],
        help="merged into config.yaml (if in the current folder), as snakemake",
    )
    parser.add_argument(
        "--gpu-tflops",
        type=float,
        default=19.5,
        help="float32 TFLOP/s of the GPU (default: an A100's float32 peak)",
    )
    parser.add_argument(
        "--gpu-bandwidth",
        type=float,
        default=1555,
        help="its memory bandwidth, GB/s (default: an A100 40GB's)",
    )
    parser.add_argument(
        "--gpu-launch-us",
        type=float,
        default=5.0,
        help="microseconds per kernel launch (default 5)",
    )
    parser.add_argument("--threads", type=int, default=None, help="CPU threads (torch's default)")
    args = parser.parse_args(argv)
    files = (["config.yaml"] if os.path.exists("config.yaml") else []) + list(args.configfile)
    try:
        config = load_config(*files)
    except ConfigError as error:  # the message names the key: no traceback
        parser.exit(2, f"{parser.prog}: {error}\n")
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    gpu = constant_machine(f"GPU at {args.gpu_tflops:g} TFLOP/s", args.gpu_tflops * 1e12,
                           args.gpu_bandwidth * 1e9, args.gpu_launch_us * 1e-6)  # fmt: skip
    here = measure_machine()
    print(report(config, here, gpu))
    print(
        f"\n{here.name}: dense float32 matmul peak {dense_peak() / 1e9:.0f} GFLOP/s, "
        f"{here.op_seconds * 1e6:.0f} us per dispatched operation; products and elementwise "
        "operations measured at each job's shapes (GFLOP/s here: its main product).\n"
        f"{gpu.name}: {args.gpu_bandwidth:g} GB/s, {args.gpu_launch_us:g} us per launch, at every "
        "shape.\nTimes are sums of jobs run one after another; peak GB is one job's."
    )


if __name__ == "__main__":
    main()
