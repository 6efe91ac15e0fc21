"""Snakemake job: prune the first hidden layer of one trained MNIST network by every method."""

from prunephase.core.io import write_parquet
from prunephase.core.logs import job_log
from prunephase.mnist import flatten_inputs, load_npz
from prunephase.teacher_student.mnist_pruning import load_network, prune_mnist

snakemake = globals()["snakemake"]

with job_log(snakemake.log[0]) as log:
    config = snakemake.params.config
    opts = config["teacher_student"]["mnist"]
    mnist = load_npz(snakemake.input.mnist)
    layers, subset = load_network(snakemake.input.network)
    scaling = opts["input_scaling"]
    x_fit = flatten_inputs(
        mnist.train_images[subset[: opts["fit_samples"]]], scaling, reference=mnist.train_images
    )
    x_test = flatten_inputs(mnist.test_images, scaling, reference=mnist.train_images)
    table = prune_mnist(
        layers, x_fit.astype("float64"), x_test.astype("float64"), mnist.test_labels,
        opts["kept_percent"], opts["draws"], opts["ridge"], opts["dpp_jitter"],
        config["seed"], int(snakemake.wildcards.ts_network),
    )  # fmt: skip
    write_parquet(table, snakemake.output.pruning)
    log.info("%d rows; unpruned test error %.4f", len(table), table.test_error_unpruned.iloc[0])
