"""Check: test accuracy of unpruned networks (p_train = p_eval = 0) trained on all 60000 images.

Uses the training settings of a config (default: config/paper.yaml) and the main architecture,
trains ``--runs`` networks with the ensemble trainer and prints each one's test accuracy.

    python workflow/scripts/unpruned_accuracy.py --runs 3
"""

from __future__ import annotations

import argparse
import time

import torch

from prunephase.core.config import load_config, settings
from prunephase.dropout_phases.experiment import network, split_tensors, training_settings
from prunephase.dropout_phases.settings import Training
from prunephase.mnist import locate_mnist, read_mnist
from prunephase.nn.ensemble import forward
from prunephase.nn.training import draw_subsets, model_seeds, resolve_device, train_ensemble


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--config", default="config/paper.yaml")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--n-train", type=int, default=60000)
    args = parser.parse_args()
    config = load_config(args.config)
    study = config["dropout_phases"]
    width, depth = study["architectures"][0]["width"], study["architectures"][0]["depth"]
    device = resolve_device(config["device"])
    data = config["data"]
    mnist = read_mnist(locate_mnist(data["mnist_dirs"], download=False, mirrors=data["mirrors"]))
    x, y = split_tensors(mnist, "train", study["input_scaling"], device)
    x_test, y_test = split_tensors(mnist, "test", study["input_scaling"], device)
    training = settings(Training, study["training"])
    seeds = [
        model_seeds(config["seed"], width, depth, args.n_train, 0.0, r) for r in range(args.runs)
    ]
    start = time.perf_counter()
    result = train_ensemble(
        x,
        y,
        draw_subsets(seeds, args.n_train, len(x)),
        [0.0] * args.runs,
        seeds,
        network(width, depth, study["activation"]),
        training_settings(training, study["rescale"]),
    )
    minutes = (time.perf_counter() - start) / 60
    model = result.snapshots[1.0].to(device)
    with torch.no_grad():
        logits = forward(model, x_test.expand(args.runs, -1, -1))
    accuracy = (logits.argmax(-1) == y_test).float().mean(-1)
    plan = result.schedule
    print(
        f"width {width}, depth {depth}, N = {args.n_train}, {plan.epochs} epochs x "
        f"{plan.steps_per_epoch} steps, lr {training.lr}, batch {training.batch_size}, "
        f"{minutes:.1f} min on {device}"
    )
    for run, acc in enumerate(accuracy.tolist()):
        print(f"run {run}: test accuracy {acc:.4f}")
    print(f"mean {accuracy.mean():.4f}, min {accuracy.min():.4f}")


if __name__ == "__main__":
    main()
