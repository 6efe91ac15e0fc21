"""Check: test accuracy of unpruned networks (p_train = p_eval = 0) trained on all 60000 images.

Uses the training settings of a config (default: config/paper.yaml) and the main architecture,
trains ``--runs`` networks with the ensemble trainer and prints each one's test accuracy.

    python workflow/scripts/unpruned_accuracy.py --runs 3
"""

from __future__ import annotations

import argparse
import time

import torch

from prunephase.config import load_config
from prunephase.data import locate_mnist, read_mnist
from prunephase.dropout_phases import inputs, training_settings
from prunephase.models import forward, layer_sizes
from prunephase.training import model_seeds, resolve_device, train_ensemble


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
    mnist = read_mnist(locate_mnist(config["data"]["mnist_dirs"], download=False))
    x, y = inputs(mnist, study["input_scaling"], device, "train")
    x_test, y_test = inputs(mnist, study["input_scaling"], device, "test")
    settings = training_settings(study)
    seeds = [
        model_seeds(config["seed"], width, depth, args.n_train, 0.0, r) for r in range(args.runs)
    ]
    start = time.perf_counter()
    sizes = layer_sizes(width, depth)
    result = train_ensemble(
        x, y, [0.0] * args.runs, seeds, sizes, args.n_train, settings, study["activation"]
    )
    minutes = (time.perf_counter() - start) / 60
    model = result.snapshots[1.0].to(device)
    with torch.no_grad():
        logits = forward(model, x_test.expand(args.runs, -1, -1))
    accuracy = (logits.argmax(-1) == y_test).float().mean(-1)
    plan = result.schedule
    print(
        f"width {width}, depth {depth}, N = {args.n_train}, {plan.epochs} epochs x "
        f"{plan.steps_per_epoch} steps, lr {settings.lr}, batch {settings.batch_size}, "
        f"{minutes:.1f} min on {device}"
    )
    for run, acc in enumerate(accuracy.tolist()):
        print(f"run {run}: test accuracy {acc:.4f}")
    print(f"mean {accuracy.mean():.4f}, min {accuracy.min():.4f}")


if __name__ == "__main__":
    main()
