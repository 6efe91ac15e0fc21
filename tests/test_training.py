"""The ensemble trainer against plain torch.nn, one model at a time."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from prunephase.models import forward, init_ensemble, layer_sizes
from prunephase.reference import build_reference, train_reference
from prunephase.training import (
    DropoutStream,
    TrainingDivergedError,
    TrainingSettings,
    keep_factors,
    model_seeds,
    schedule,
    train_ensemble,
)

N_TOTAL, N_TRAIN = 2000, 300


@pytest.fixture(scope="module")
def data():
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(N_TOTAL, 784, generator=generator)
    y = torch.randint(0, 10, (N_TOTAL,), generator=generator)
    return x, y


def test_init_is_nn_linear_default_init():
    sizes = layer_sizes(24, 3)
    ensemble = init_ensemble([11, 12], sizes)
    for k, seed in enumerate([11, 12]):
        reference = build_reference(seed, sizes)
        for layer, linear in enumerate(reference.linears):
            assert torch.equal(ensemble.weights[layer][k], linear.weight.detach().T)
            assert torch.equal(ensemble.biases[layer][k], linear.bias.detach())


@pytest.mark.parametrize("depth,rescale", [(2, True), (1, False), (3, True)])
def test_ensemble_model_is_the_torch_nn_model_trained_alone(data, depth, rescale):
    x, y = data
    sizes = layer_sizes(32, depth)
    p_train = [0.0, 0.5, 0.3]
    seeds = [model_seeds(3, 32, depth, N_TRAIN, p, run) for run, p in enumerate(p_train)]
    # 64 does not divide 300: the last batch of each epoch is smaller
    settings = TrainingSettings(batch_size=64, epochs=3, min_steps=0, rescale=rescale)
    ensemble = train_ensemble(x, y, p_train, seeds, sizes, N_TRAIN, settings).snapshots[1.0]
    probe = x[:500]
    logits = forward(ensemble, probe.expand(len(p_train), -1, -1))
    for k, p in enumerate(p_train):
        reference = train_reference(x, y, p, seeds[k], sizes, N_TRAIN, settings)
        with torch.no_grad():
            reference_logits = reference(probe, [torch.ones(h) for h in sizes[1:-1]])
        # the same function: outputs agree to float32 rounding
        torch.testing.assert_close(logits[k], reference_logits, rtol=1e-4, atol=1e-5)
        # and the same parameters. Adam divides by sqrt(v): a weight whose gradients are all but
        # zero (a unit that rarely fires) moves by ~lr whatever their size, so rounding can move it
        # by up to a few 1e-6 - far below the lr-sized steps an unrelated model would take.
        for layer, linear in enumerate(reference.linears):
            torch.testing.assert_close(
                ensemble.weights[layer][k], linear.weight.detach().T, rtol=0, atol=2e-5
            )
            torch.testing.assert_close(
                ensemble.biases[layer][k], linear.bias.detach(), rtol=0, atol=2e-5
            )
        close = (ensemble.weights[0][k] - reference.linears[0].weight.detach().T).abs() < 1e-6
        assert close.float().mean() > 0.999


def test_a_model_does_not_depend_on_its_ensemble(data):
    x, y = data
    sizes = layer_sizes(16, 2)
    settings = TrainingSettings(batch_size=50, epochs=2, min_steps=0)
    seeds = [model_seeds(5, 16, 2, N_TRAIN, p, 0) for p in (0.0, 0.2, 0.7)]
    together = train_ensemble(x, y, [0.0, 0.2, 0.7], seeds, sizes, N_TRAIN, settings)
    alone = train_ensemble(x, y, [0.2], seeds[1:2], sizes, N_TRAIN, settings)
    for layer in range(3):
        torch.testing.assert_close(
            together.snapshots[1.0].weights[layer][1], alone.snapshots[1.0].weights[layer][0]
        )


def test_same_seed_same_numbers_and_snapshots(data):
    x, y = data
    sizes = layer_sizes(16, 2)
    settings = TrainingSettings(batch_size=50, epochs=4, min_steps=0, snapshots=(0.5,))
    seeds = [model_seeds(5, 16, 2, N_TRAIN, p, 0) for p in (0.0, 0.4)]
    first = train_ensemble(x, y, [0.0, 0.4], seeds, sizes, N_TRAIN, settings)
    second = train_ensemble(x, y, [0.0, 0.4], seeds, sizes, N_TRAIN, settings)
    assert sorted(first.snapshots) == [0.5, 1.0]
    for f in (0.5, 1.0):
        for a, b in zip(first.snapshots[f].parameters(), second.snapshots[f].parameters()):
            assert torch.equal(a, b)
    assert not torch.equal(first.snapshots[0.5].weights[0], first.snapshots[1.0].weights[0])
    np.testing.assert_array_equal(first.train_loss, second.train_loss)
    # the loss falls during training on these (learnable by memorisation) random labels
    assert (first.train_loss[-1] < first.train_loss[0]).all()


def test_schedule_takes_at_least_min_steps():
    plan = schedule(938, TrainingSettings(batch_size=128, epochs=100, min_steps=4000))
    assert plan.steps_per_epoch == 8 and plan.epochs == 500 and plan.steps == 4000
    plan = schedule(60000, TrainingSettings(epochs=100, min_steps=4000, snapshots=(0.25,)))
    assert plan.epochs == 100 and plan.snapshot_epochs == {0.25: 25, 1.0: 100}


def test_nan_loss_stops_with_a_message(data):
    x, y = data
    x = x.clone()
    x[:, 3] = float("nan")
    seeds = [model_seeds(1, 8, 1, 100, 0.1, 0)]
    with pytest.raises(TrainingDivergedError, match=r"NaN or infinite.*p_train=0.1"):
        train_ensemble(x, y, [0.1], seeds, layer_sizes(8, 1), 100, TrainingSettings(min_steps=0))


def test_dropout_masks_have_the_right_rates_and_scale():
    stream = DropoutStream([0.0, 0.25, 0.8], [1, 2, 3], [300, 200], True, torch.device("cpu"))
    factors = torch.cat(stream(400), dim=2)
    assert factors.shape == (3, 400, 500)
    assert torch.equal(factors[0], torch.ones(400, 500))
    for k, p in [(1, 0.25), (2, 0.8)]:
        kept = factors[k] > 0
        assert abs(kept.float().mean().item() - (1 - p)) < 0.01
        torch.testing.assert_close(factors[k][kept], torch.full_like(factors[k][kept], 1 / (1 - p)))
    # int16 draws: p = 0.5 keeps the upper half of the 65536 values, the threshold included
    draws = torch.tensor([-32768, -1, 0, 32767], dtype=torch.int16)
    plain = keep_factors(draws, torch.tensor(0.5), rescale=False)
    assert plain.tolist() == [0.0, 0.0, 1.0, 1.0]
    assert keep_factors(draws, torch.tensor(0.0), rescale=True).tolist() == [1.0] * 4


def test_model_seeds_are_distinct():
    seeds = {
        model_seeds(0, 64, 2, n, p, r) for n in (500, 1000) for p in (0.0, 0.1) for r in range(3)
    }
    values = [v for s in seeds for v in vars(s).values()]
    assert len(seeds) == 12 and len(set(values)) == len(values)
