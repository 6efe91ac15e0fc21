"""Snakemake job: train one 784-500-500-10 sigmoid network on MNIST for the pruning study."""

import torch

from prunephase.core.io import write_parquet
from prunephase.core.logs import job_log
from prunephase.mnist import flatten_inputs, load_npz
from prunephase.teacher_student.mnist_pruning import Layers, TrainingConfig, save_network, train_mlp

snakemake = globals()["snakemake"]

with job_log(snakemake.log[0]) as log:
    torch.set_num_threads(snakemake.threads)
    config = snakemake.params.config
    opts = config["teacher_student"]["mnist"]
    mnist = load_npz(snakemake.input.mnist)
    scaling = opts["input_scaling"]
    x_train = flatten_inputs(mnist.train_images, scaling, reference=mnist.train_images)
    x_test = flatten_inputs(mnist.test_images, scaling, reference=mnist.train_images)
    training = TrainingConfig(
        hidden=tuple(opts["hidden"]), lr=opts["lr"], momentum=opts["momentum"],
        batch_size=opts["batch_size"], epochs=opts["epochs"], n_train=opts["n_train"],
    )  # fmt: skip
    network = int(snakemake.wildcards.ts_network)
    model, history, subset = train_mlp(
        x_train,
        mnist.train_labels,
        x_test,
        mnist.test_labels,
        training,
        config["seed"],
        network,
    )
    save_network(Layers.from_model(model), subset, snakemake.output.network)
    write_parquet(history, snakemake.output.history)
