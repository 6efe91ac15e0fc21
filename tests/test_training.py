"""The ensemble trainer against plain torch.nn, one model at a time."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from prunephase.nn.dropout import DropoutStream, factors_from_draws, keep_scale, keep_threshold
from prunephase.nn.ensemble import Network, forward, init_ensemble, layer_sizes, pre_activations
from prunephase.nn.reference import build_reference, train_reference
from prunephase.nn.training import (
    SGD,
    Adam,
    TrainingDivergedError,
    TrainingSettings,
    draw_subsets,
    model_seeds,
    schedule,
    train_ensemble,
)

N_TOTAL, N_TRAIN = 2000, 300
ADAM = Adam(lr=1e-3, betas=(0.9, 0.999), eps=1e-8)


def mlp(width: int, depth: int, **changes) -> Network:
    base = Network(sizes=tuple(layer_sizes(width, depth)), activation="relu", init="torch",
                   bias=True)  # fmt: skip
    return dataclasses.replace(base, **changes)


def training(**changes) -> TrainingSettings:
    base = TrainingSettings(optimiser=ADAM, loss="cross_entropy", batch_size=128, epochs=100,
                            min_steps=4000, snapshots=(1.0,), rescale=True)  # fmt: skip
    return dataclasses.replace(base, **changes)


@pytest.fixture(scope="module")
def data():
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(N_TOTAL, 784, generator=generator)
    y = torch.randint(0, 10, (N_TOTAL,), generator=generator)
    return x, y


@pytest.mark.parametrize("init,bias", [("torch", True), ("torch", False), ("xavier_uniform", True)])
def test_init_is_the_torch_nn_init(init, bias):
    network = mlp(24, 3, init=init, bias=bias)
    ensemble = init_ensemble([11, 12], network)
    for k, seed in enumerate([11, 12]):
        reference = build_reference(seed, network)
        for layer, linear in enumerate(reference.linears):
            assert torch.equal(ensemble.weights[layer][k], linear.weight.detach().T)
            expected = linear.bias.detach() if bias else torch.zeros(linear.out_features)
            assert torch.equal(ensemble.biases[layer][k], expected)
    if init == "xavier_uniform":
        assert not ensemble.biases[0].any()


def assert_same_models(ensemble, reference_of, network, probe, atol):
    """Model k of ``ensemble`` against ``reference_of(k)``: outputs and parameters."""
    logits = forward(ensemble, probe.expand(ensemble.n_models, -1, -1))
    for k in range(ensemble.n_models):
        reference = reference_of(k)
        with torch.no_grad():
            reference_logits = reference(probe, [torch.ones(h) for h in network.sizes[1:-1]])
        # the same function: outputs agree to float32 rounding
        torch.testing.assert_close(logits[k], reference_logits, rtol=1e-4, atol=1e-5)
        # and the same parameters. Adam divides by sqrt(v): a weight whose gradients are all but
        # zero (a unit that rarely fires) moves by ~lr whatever their size, so rounding can move it
        # by up to a few 1e-6 - far below the lr-sized steps an unrelated model would take.
        for layer, linear in enumerate(reference.linears):
            torch.testing.assert_close(
                ensemble.weights[layer][k], linear.weight.detach().T, rtol=0, atol=atol
            )
            if linear.bias is not None:
                torch.testing.assert_close(
                    ensemble.biases[layer][k], linear.bias.detach(), rtol=0, atol=atol
                )
        close = (ensemble.weights[0][k] - reference.linears[0].weight.detach().T).abs() < 1e-6
        assert close.float().mean() > 0.999


@pytest.mark.parametrize("depth,rescale", [(2, True), (1, False), (3, True)])
def test_ensemble_model_is_the_torch_nn_model_trained_alone(data, depth, rescale):
    x, y = data
    network = mlp(32, depth)
    p_train = [0.0, 0.5, 0.3]
    seeds = [model_seeds(3, 32, depth, N_TRAIN, p, run) for run, p in enumerate(p_train)]
    subsets = draw_subsets(seeds, N_TRAIN, len(x))
    # 64 does not divide 300: the last batch of each epoch is smaller
    settings = training(batch_size=64, epochs=3, min_steps=0, rescale=rescale)
    ensemble = train_ensemble(x, y, subsets, p_train, seeds, network, settings).snapshots[1.0]
    assert_same_models(
        ensemble,
        lambda k: train_reference(x, y, subsets[k], p_train[k], seeds[k], network, settings),
        network,
        x[:500],
        atol=2e-5,
    )


def test_sgd_sigmoid_xavier_network_is_the_torch_nn_model(data):
    """The options paper C's MNIST network uses: sigmoid units, Xavier init, SGD with momentum."""
    x, y = data
    network = mlp(20, 2, activation="sigmoid", init="xavier_uniform")
    seeds = [model_seeds(4, run) for run in range(3)]
    subsets = draw_subsets(seeds, N_TRAIN, len(x))
    settings = training(optimiser=SGD(lr=0.1, momentum=0.9), batch_size=100, epochs=3,
                        min_steps=0)  # fmt: skip
    ensemble = train_ensemble(x, y, subsets, [0.0] * 3, seeds, network, settings).snapshots[1.0]
    assert_same_models(
        ensemble,
        lambda k: train_reference(x, y, subsets[k], 0.0, seeds[k], network, settings),
        network,
        x[:500],
        atol=1e-5,
    )


def test_absolute_loss_without_biases_is_the_torch_nn_model(data):
    """The options paper B's teacher-student network uses: one output, no biases, |y - out|."""
    x, _ = data
    targets = torch.sign(x[:, 0] + 0.3 * x[:, 1])
    network = mlp(16, 2, bias=False, sizes=(784, 16, 16, 1))
    seeds = [model_seeds(6, run) for run in range(2)]
    subsets = draw_subsets(seeds, N_TRAIN, len(x))
    settings = training(loss="absolute", batch_size=50, epochs=3, min_steps=0)
    ensemble = train_ensemble(x, targets, subsets, [0.0] * 2, seeds, network, settings)
    model = ensemble.snapshots[1.0]
    assert not any(b.any() for b in model.biases)
    assert_same_models(
        model,
        lambda k: train_reference(x, targets, subsets[k], 0.0, seeds[k], network, settings),
        network,
        x[:500],
        atol=2e-5,
    )
    # the absolute loss falls as the students learn the sign rule
    assert (ensemble.train_loss[-1] < ensemble.train_loss[0]).all()


def test_on_epoch_sees_every_epoch_and_the_initial_network(data):
    x, y = data
    network = mlp(8, 1)
    seeds = [model_seeds(2, 0)]
    seen = []

    def record(epoch, model):
        assert not torch.is_grad_enabled()
        seen.append((epoch, model.weights[0].clone()))

    settings = training(batch_size=100, epochs=3, min_steps=0)
    result = train_ensemble(
        x, y, draw_subsets(seeds, N_TRAIN, len(x)), [0.0], seeds, network, settings,
        on_epoch=record,
    )  # fmt: skip
    assert [e for e, _ in seen] == [0, 1, 2, 3]
    assert torch.equal(seen[0][1], init_ensemble([seeds[0].init], network).weights[0])
    assert torch.equal(seen[-1][1], result.snapshots[1.0].weights[0])


def test_pre_activations_end_in_the_logits(data):
    x, _ = data
    model = init_ensemble([1, 2], mlp(12, 2))
    inputs = x[:30].expand(2, -1, -1)
    layers = pre_activations(model, inputs)
    assert [h.shape[-1] for h in layers] == [12, 12, 10]
    torch.testing.assert_close(layers[-1], forward(model, inputs))
    torch.testing.assert_close(layers[0], inputs @ model.weights[0] + model.biases[0][:, None])


def test_a_model_does_not_depend_on_its_ensemble(data):
    x, y = data
    network = mlp(16, 2)
    settings = training(batch_size=50, epochs=2, min_steps=0)
    seeds = [model_seeds(5, 16, 2, N_TRAIN, p, 0) for p in (0.0, 0.2, 0.7)]
    subsets = draw_subsets(seeds, N_TRAIN, len(x))
    together = train_ensemble(x, y, subsets, [0.0, 0.2, 0.7], seeds, network, settings)
    alone = train_ensemble(x, y, subsets[1:2], [0.2], seeds[1:2], network, settings)
    for layer in range(3):
        torch.testing.assert_close(
            together.snapshots[1.0].weights[layer][1], alone.snapshots[1.0].weights[layer][0]
        )


def test_same_seed_same_numbers_and_snapshots(data):
    x, y = data
    network = mlp(16, 2)
    settings = training(batch_size=50, epochs=4, min_steps=0, snapshots=(0.5,))
    seeds = [model_seeds(5, 16, 2, N_TRAIN, p, 0) for p in (0.0, 0.4)]
    subsets = draw_subsets(seeds, N_TRAIN, len(x))
    first = train_ensemble(x, y, subsets, [0.0, 0.4], seeds, network, settings)
    second = train_ensemble(x, y, subsets, [0.0, 0.4], seeds, network, settings)
    assert sorted(first.snapshots) == [0.5, 1.0]
    for f in (0.5, 1.0):
        for a, b in zip(first.snapshots[f].parameters(), second.snapshots[f].parameters()):
            assert torch.equal(a, b)
    assert not torch.equal(first.snapshots[0.5].weights[0], first.snapshots[1.0].weights[0])
    np.testing.assert_array_equal(first.train_loss, second.train_loss)
    # the loss falls during training on these (learnable by memorisation) random labels
    assert (first.train_loss[-1] < first.train_loss[0]).all()


def test_schedule_takes_at_least_min_steps():
    plan = schedule(938, training(batch_size=128, epochs=100, min_steps=4000))
    assert plan.steps_per_epoch == 8 and plan.epochs == 500 and plan.steps == 4000
    plan = schedule(60000, training(epochs=100, min_steps=4000, snapshots=(0.25,)))
    assert plan.epochs == 100 and plan.snapshot_epochs == {0.25: 25, 1.0: 100}


def test_nan_loss_stops_with_a_message(data):
    x, y = data
    x = x.clone()
    x[:, 3] = float("nan")
    seeds = [model_seeds(1, 8, 1, 100, 0.1, 0)]
    with pytest.raises(TrainingDivergedError, match=r"NaN or infinite.*p_train=0.1"):
        train_ensemble(x, y, draw_subsets(seeds, 100, len(x)), [0.1], seeds, mlp(8, 1),
                       training(min_steps=0, epochs=1))  # fmt: skip


def test_unknown_options_are_named():
    with pytest.raises(ValueError, match="unknown activation 'gelu'"):
        mlp(8, 1, activation="gelu")
    with pytest.raises(ValueError, match="unknown initialisation 'he'"):
        mlp(8, 1, init="he")
    with pytest.raises(ValueError, match="unknown loss 'hinge'"):
        training(loss="hinge")


def test_dropout_masks_have_the_right_rates_and_scale():
    stream = DropoutStream([0.0, 0.25, 0.8], [1, 2, 3], [300, 200], True, torch.device("cpu"))
    factors = torch.cat(stream(0, 400), dim=2)
    assert factors.shape == (3, 400, 500)
    assert torch.equal(factors[0], torch.ones(400, 500))
    for k, p in [(1, 0.25), (2, 0.8)]:
        kept = factors[k] > 0
        assert abs(kept.float().mean().item() - (1 - p)) < 0.01
        torch.testing.assert_close(factors[k][kept], torch.full_like(factors[k][kept], 1 / (1 - p)))
    # int16 draws: p = 0.5 keeps the upper half of the 65536 values, the threshold included
    draws = torch.tensor([-32768, -1, 0, 32767], dtype=torch.int16)
    half, zero = torch.tensor(0.5), torch.tensor(0.0)
    plain = factors_from_draws(draws, keep_threshold(half), keep_scale(half, rescale=False))
    assert plain.tolist() == [0.0, 0.0, 1.0, 1.0]
    kept = factors_from_draws(draws, keep_threshold(zero), keep_scale(zero, rescale=True))
    assert kept.tolist() == [1.0] * 4


def test_model_seeds_are_distinct():
    seeds = {
        model_seeds(0, 64, 2, n, p, r) for n in (500, 1000) for p in (0.0, 0.1) for r in range(3)
    }
    values = [v for s in seeds for v in vars(s).values()]
    assert len(seeds) == 12 and len(set(values)) == len(values)
