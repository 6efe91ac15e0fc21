"""Layer-wise activation probabilities of a trained 4-layer ReLU network (Fig. 2).

A teacher network N - N - N - 1 (ReLU hidden layers, linear output, no biases, Gaussian weights of
variance 1 / fan-in) labels random inputs x in {-1, +1}^N with y = sign(teacher(x)). A student of
the same architecture (PyTorch's default uniform initialisation) learns these binary targets with
Adam on the absolute loss |y - student(x)| (the loss that the RAP Hamiltonian mirrors). The
activation probability of a hidden layer is the fraction of (unit, test input) pairs whose ReLU is
active (pre-activation > 0): the p1 and p2 of the RAP model.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

from prunephase.rap.instance import seed_sequence

log = logging.getLogger("prunephase")

ACTIVATIONS = 5  # spawn-key stream of the root seed


@dataclass(frozen=True)
class TrainingOptions:
    """Settings of the teacher-student runs (config ``rap.activations``)."""

    width: int = 100
    train_samples: int = 5000
    test_samples: int = 2000
    epochs: int = 50
    batch_size: int = 100
    lr: float = 1e-3


def _layers(width: int, generator: torch.Generator, teacher: bool) -> list[torch.Tensor]:
    shapes = [(width, width), (width, width), (1, width)]
    if teacher:
        return [torch.randn(s, generator=generator) / np.sqrt(s[1]) for s in shapes]
    # PyTorch's default Linear initialisation: uniform in +-1/sqrt(fan_in)
    return [(2 * torch.rand(s, generator=generator) - 1) / np.sqrt(s[1]) for s in shapes]


def forward(weights: list[torch.Tensor], x: torch.Tensor) -> tuple[torch.Tensor, list]:
    """Output (shape (batch,)) and the pre-activations of the two hidden layers."""
    pre1 = x @ weights[0].T
    pre2 = torch.relu(pre1) @ weights[1].T
    return (torch.relu(pre2) @ weights[2].T).squeeze(1), [pre1, pre2]


def train_trial(options: TrainingOptions, seed: np.random.SeedSequence) -> pd.DataFrame:
    """Train one student; the activation probabilities and test error after every epoch.

    Returns
    -------
    DataFrame
        One row per epoch (0 = before training): ``epoch``, ``p_layer1``, ``p_layer2``
        (activation probabilities on the test inputs), ``test_error`` (fraction of test inputs
        with sign(output) != y), ``train_loss`` (mean absolute loss over the epoch's batches;
        NaN at epoch 0).
    """
    generator = torch.Generator().manual_seed(int(seed.generate_state(1)[0]))
    n = options.width
    n_total = options.train_samples + options.test_samples
    x = 2.0 * torch.randint(0, 2, (n_total, n), generator=generator, dtype=torch.float64) - 1.0
    teacher = [w.double() for w in _layers(n, generator, teacher=True)]
    with torch.no_grad():
        y = torch.sign(forward(teacher, x)[0])
    y[y == 0] = 1.0
    x_train, y_train = x[: options.train_samples], y[: options.train_samples]
    x_test, y_test = x[options.train_samples :], y[options.train_samples :]
    student = [w.double().requires_grad_() for w in _layers(n, generator, teacher=False)]
    optimiser = torch.optim.Adam(student, lr=options.lr)

    def evaluate(epoch: int, loss: float) -> dict[str, float]:
        with torch.no_grad():
            out, pre = forward(student, x_test)
        return {
            "epoch": epoch,
            "p_layer1": float((pre[0] > 0).double().mean()),
            "p_layer2": float((pre[1] > 0).double().mean()),
            "test_error": float((torch.sign(out) != y_test).double().mean()),
            "train_loss": loss,
        }

    rows = [evaluate(0, float("nan"))]
    for epoch in range(1, options.epochs + 1):
        order = torch.randperm(options.train_samples, generator=generator)
        losses = []
        for start in range(0, options.train_samples, options.batch_size):
            batch = order[start : start + options.batch_size]
            loss = torch.mean(torch.abs(y_train[batch] - forward(student, x_train[batch])[0]))
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            losses.append(float(loss.detach()))
        rows.append(evaluate(epoch, float(np.mean(losses))))
    return pd.DataFrame(rows)


def activation_probabilities(options: TrainingOptions, trials: int, root_seed: int) -> pd.DataFrame:
    """Independent teacher-student trials (new teacher, data and student each).

    Returns
    -------
    DataFrame
        The columns of :func:`train_trial` with ``trial`` (0-based) first.
    """
    frames = []
    for trial in range(trials):
        frame = train_trial(options, seed_sequence(root_seed, ACTIVATIONS, trial))
        frames.append(frame.assign(trial=trial))
        last = frame.iloc[-1]
        log.info(
            "trial %d: p1=%.3f p2=%.3f test error %.3f",
            trial,
            last.p_layer1,
            last.p_layer2,
            last.test_error,
        )
    table = pd.concat(frames, ignore_index=True)
    return table[["trial", *[c for c in table.columns if c != "trial"]]]
