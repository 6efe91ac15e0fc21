"""Layer-wise activation probabilities of a trained 4-layer ReLU network (Fig. 2).

A teacher network N - N - N - 1 (ReLU hidden layers, linear output, Gaussian weights and biases of
variance 1 / fan-in, or no biases at all) labels random inputs x in {-1, +1}^N with
y = sign(teacher(x)). A student of the same architecture (PyTorch's default uniform
initialisation) learns these binary targets with Adam on the absolute loss |y - student(x)| (the
loss that the RAP Hamiltonian mirrors). The activation probability of a hidden layer is the
fraction of (unit, test input) pairs whose ReLU is active (pre-activation > 0): the p1 and p2 of
the RAP model.

All trials train as one ensemble of the project's trainer
(:func:`prunephase.nn.training.train_ensemble`), one model per trial; each trial has its own
teacher and its own inputs, and model k trains on the rows of trial k only. Trial k draws
everything from the stream ``(ACTIVATIONS, k)`` of the root seed: the student's seeds
(:func:`~prunephase.nn.training.model_seeds`) from the stream itself, the teacher and the inputs
from its sub-streams ``(ACTIVATIONS, k, TEACHER)`` and ``(ACTIVATIONS, k, INPUTS)``, so a trial's
numbers do not depend on how many trials run.

The student trains in float32, the trainer's dtype (the loop before the shared trainer used
float64). That is precise enough for what Fig. 2 measures: the old loop run in float32 instead of
float64 with the same seeds (default config, 20 trials) moved a trial's final p1 by at most 6e-4
and p2 by at most 2.2e-3, left every test error unchanged, and the means over trials agreed to
1e-4. The teacher's labels are computed in float64, so the targets do not depend on the training
precision.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import torch

from prunephase.core.seeds import generator
from prunephase.nn.ensemble import MLPEnsemble, Network, pre_activations
from prunephase.nn.training import Adam, TrainingSettings, model_seeds, train_ensemble
from prunephase.rap.settings import Activations

log = logging.getLogger("prunephase")

#: the stream of the teacher-student trials under the root seed (see :mod:`prunephase.core.seeds`)
ACTIVATIONS = 5
#: sub-streams of trial k's stream: its teacher's weights and its inputs
TEACHER, INPUTS = 0, 1

#: columns of :func:`activation_probabilities`
ACTIVATION_COLUMNS = ["trial", "epoch", "p_layer1", "p_layer2", "test_error", "train_loss"]


def teacher_weights(
    width: int, bias: bool, rng: np.random.Generator
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Weights and biases of a teacher N - N - N - 1: standard normal over sqrt(fan-in), float64
    (biases zero without ``bias``).

    Returns
    -------
    list of (weight, bias)
        Input-major, as the ensemble stores them: weights (N, N), (N, N), (N, 1); biases (N,),
        (N,), (1,).
    """
    shapes = [(width, width), (width, width), (width, 1)]
    layers = []
    for shape in shapes:
        weight = rng.standard_normal(shape) / np.sqrt(shape[0])
        offset = rng.standard_normal(shape[1]) / np.sqrt(shape[0])
        layers.append((weight, offset if bias else np.zeros(shape[1])))
    return layers


def teacher_labels(layers: list[tuple[np.ndarray, np.ndarray]], x: np.ndarray) -> np.ndarray:
    """y = sign(teacher(x)) in {-1, +1} (a zero output counts as +1), shape (B,); x is (B, N)."""
    h = x
    for weight, offset in layers[:-1]:
        h = np.maximum(h @ weight + offset, 0.0)
    weight, offset = layers[-1]
    out = (h @ weight + offset)[:, 0]
    return np.where(out < 0, -1.0, 1.0)


def trial_data(
    width: int, bias: bool, n_samples: int, root_seed: int, trial: int
) -> tuple[np.ndarray, np.ndarray]:
    """Inputs and teacher labels of one trial.

    Returns
    -------
    x : ndarray, shape (n_samples, N)
        Independent uniform signs, float64.
    y : ndarray, shape (n_samples,)
        The labels of the trial's own teacher, +-1.
    """
    teacher = teacher_weights(width, bias, generator(root_seed, ACTIVATIONS, trial, TEACHER))
    inputs = generator(root_seed, ACTIVATIONS, trial, INPUTS)
    x = 2.0 * inputs.integers(0, 2, size=(n_samples, width)) - 1.0
    return x, teacher_labels(teacher, x)


def student_network(width: int, bias: bool) -> Network:
    """The student N - N - N - 1: ReLU, ``torch.nn.Linear``'s initialisation, with or without
    (trained) biases."""
    return Network(sizes=(width, width, width, 1), activation="relu", init="torch", bias=bias)


def training_settings(settings: Activations) -> TrainingSettings:
    """Adam on mini-batches of the mean absolute loss, without dropout."""
    return TrainingSettings(
        optimiser=Adam(lr=settings.lr, betas=settings.betas, eps=settings.eps),
        loss="absolute",
        batch_size=settings.batch_size,
        epochs=settings.epochs,
        min_steps=0,
        snapshots=(1.0,),
        rescale=False,  # no dropout: nothing to rescale
    )


def measure(model: MLPEnsemble, x_test: torch.Tensor, y_test: torch.Tensor) -> np.ndarray:
    """Activation probabilities and test error of every model on its own test inputs.

    Parameters
    ----------
    model
        M students.
    x_test, y_test
        Model k's test inputs ``x_test[k]`` (M, T, N) and labels ``y_test[k]`` (M, T), +-1.

    Returns
    -------
    ndarray, shape (M, 3)
        Per model: p1 and p2, the fractions of (unit, test input) pairs of hidden layer 1 and 2
        with a positive pre-activation, and the test error, the fraction of test inputs with
        sign(output) != y (an output of exactly 0 counts as an error).
    """
    pre1, pre2, out = pre_activations(model, x_test)
    # integer counts, divided in float64: the fractions do not carry float32 rounding
    counts = torch.stack(
        [
            (pre1 > 0).sum(dim=(1, 2)),
            (pre2 > 0).sum(dim=(1, 2)),
            (torch.sign(out[..., 0]) != y_test).sum(dim=1),
        ],
        dim=1,
    ).cpu()
    pairs = [pre1[0].numel(), pre2[0].numel(), y_test.shape[1]]
    return counts.numpy() / np.array(pairs, dtype=float)


def activation_probabilities(settings: Activations, root_seed: int) -> pd.DataFrame:
    """Independent teacher-student trials (new teacher, data and student each), trained at once.

    Returns
    -------
    DataFrame
        One row per (trial, epoch), epoch 0 being before training; columns
        :data:`ACTIVATION_COLUMNS`: ``trial`` (0-based), ``epoch``, ``p_layer1``, ``p_layer2``
        and ``test_error`` on the trial's test inputs (see :func:`measure`), ``train_loss`` (mean
        absolute loss over the epoch's training examples, as the parameters moved during the
        epoch; NaN at epoch 0).
    """
    trials, width = settings.trials, settings.width
    n_train, n_test = settings.train_samples, settings.test_samples
    data = [trial_data(width, settings.bias, n_train + n_test, root_seed, k) for k in range(trials)]
    x = torch.from_numpy(np.stack([d[0] for d in data])).float()  # (trials, n_train + n_test, N)
    y = torch.from_numpy(np.stack([d[1] for d in data])).float()
    # one training set of all trials' examples; model k gets the rows of trial k
    x_train = x[:, :n_train].reshape(trials * n_train, width)
    y_train = y[:, :n_train].reshape(trials * n_train)
    subsets = torch.arange(trials * n_train).view(trials, n_train)
    x_test, y_test = x[:, n_train:].contiguous(), y[:, n_train:].contiguous()

    measured: list[np.ndarray] = []  # per epoch, (trials, 3)
    trained = train_ensemble(
        x_train,
        y_train,
        subsets,
        [0.0] * trials,
        [model_seeds(root_seed, ACTIVATIONS, k) for k in range(trials)],
        student_network(width, settings.bias),
        training_settings(settings),
        on_epoch=lambda epoch, model: measured.append(measure(model, x_test, y_test)),
    )
    values = np.stack(measured, axis=1)  # (trials, epochs + 1, 3)
    epochs = values.shape[1]
    loss = np.vstack([np.full((1, trials), np.nan), trained.train_loss]).T  # (trials, epochs + 1)
    table = pd.DataFrame(
        {
            "trial": np.repeat(np.arange(trials), epochs),
            "epoch": np.tile(np.arange(epochs), trials),
            "p_layer1": values[..., 0].ravel(),
            "p_layer2": values[..., 1].ravel(),
            "test_error": values[..., 2].ravel(),
            "train_loss": loss.ravel(),
        }
    )
    for last in table[table["epoch"] == epochs - 1].itertuples():
        log.info(
            "trial %d: p1=%.3f p2=%.3f test error %.3f",
            last.trial,
            last.p_layer1,
            last.p_layer2,
            last.test_error,
        )
    return table[ACTIVATION_COLUMNS]
