"""Evaluation under dropout masks: the batched path equals the naive per-mask forward pass."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from prunephase.dropout_phases.evaluation import (
    draw_eval_masks,
    eval_mask_seed,
    evaluate_ensemble,
    evaluate_masks,
    evaluate_naive,
    mask_slots,
)
from prunephase.nn.dispatch import dispatched
from prunephase.nn.ensemble import MLPEnsemble, Network, forward, init_ensemble, layer_sizes
from prunephase.nn.streams import int16_draws_numpy, row_keys_numpy


def relu_network(width: int, depth: int) -> Network:
    return Network(sizes=tuple(layer_sizes(width, depth)), activation="relu", init="torch",
                   bias=True)  # fmt: skip


@pytest.fixture(scope="module")
def test_set():
    generator = torch.Generator().manual_seed(1)
    return torch.randn(700, 784, generator=generator), torch.randint(
        0, 10, (700,), generator=generator
    )


def masks_of(seeds, n_masks, hidden, p, scope, n_images, rescale=True):
    """Masks 0..n_masks-1 of each seed at rate p: factors (len(seeds), n_masks, rows, n_l)."""
    seeds = torch.tensor(seeds, dtype=torch.int64)[:, None].expand(-1, n_masks)
    masks = torch.arange(n_masks).expand_as(seeds)
    return draw_eval_masks(seeds, masks, torch.full(seeds.shape, p), hidden, rescale=rescale,
                           scope=scope, n_images=n_images)  # fmt: skip


def select(model: MLPEnsemble, k: int) -> MLPEnsemble:
    return model.select(k)


@pytest.mark.parametrize("depth", [1, 2, 3])
@pytest.mark.parametrize("scope", ["network", "image"])
@pytest.mark.parametrize("rescale", [True, False])
def test_batched_path_equals_naive(test_set, depth, scope, rescale):
    x, y = test_set
    model = init_ensemble([depth, 10 + depth], relu_network(40, depth))
    masks = masks_of([9, 4], 7, model.hidden_sizes, 0.45, scope, len(x), rescale)
    # a budget of a few masks: several chunks, 3 does not divide 7
    budget = 3 * 2 * 4 * len(x) * (3 * sum(model.hidden_sizes) + 30)
    acc, ce = evaluate_masks(model, x, y, masks, budget=budget)
    assert acc.shape == ce.shape == (2, 7)
    for k in range(2):
        acc_naive, ce_naive = evaluate_naive(select(model, k), x, y, [m[k] for m in masks])
        torch.testing.assert_close(ce[k], ce_naive, rtol=1e-5, atol=1e-6)
        assert torch.equal(acc[k], acc_naive)
        assert len(set(ce_naive.tolist())) == 7  # every mask gives a different network


@pytest.mark.parametrize("depth", [1, 2, 3])
def test_batched_path_with_layers_pruned_away(test_set, depth):
    """Narrow layers at p_eval = 0.9: many masks keep no unit of some layer."""
    x, y = test_set
    model = init_ensemble([7, 8], relu_network(3, depth))
    masks = masks_of([2, 3], 20, model.hidden_sizes, 0.9, "network", 1)
    assert (torch.cat(masks, dim=-1).sum(dim=-1) == 0).any()
    acc, ce = evaluate_masks(model, x, y, masks, budget=6 * 4 * len(x) * 40)
    for k in range(2):
        acc_naive, ce_naive = evaluate_naive(select(model, k), x, y, [m[k] for m in masks])
        torch.testing.assert_close(ce[k], ce_naive, rtol=1e-5, atol=1e-6)
        assert torch.equal(acc[k], acc_naive)


def test_masks_are_the_counter_based_draws():
    """Mask j of seed s is the int16 draws of row(s, j) against the rate's threshold, whatever
    other masks are drawn with it."""
    masks = masks_of([1, 5], 2000, [64, 32], 0.3, "network", 1)
    assert [m.shape for m in masks] == [(2, 2000, 1, 64), (2, 2000, 1, 32)]
    kept = torch.cat(masks, dim=-1) > 0
    assert abs(kept.float().mean().item() - 0.7) < 0.005
    draws = int16_draws_numpy(row_keys_numpy(5, 17), 96)
    expected = (draws >= round(0.3 * 65536) - 32768) / np.float32(0.7)
    np.testing.assert_array_equal(torch.cat(masks, dim=-1)[1, 17, 0].numpy(), expected)
    alone = draw_eval_masks(torch.tensor([5]), torch.tensor([17]), torch.tensor([0.3]), [64, 32],
                            rescale=True, scope="network", n_images=1)  # fmt: skip
    assert torch.equal(torch.cat(alone, dim=-1)[0, 0], torch.cat(masks, dim=-1)[1, 17, 0])
    assert eval_mask_seed(5, 0.3) != eval_mask_seed(5, 0.35)


def test_slots():
    slots = mask_slots([0.0, 0.5, 0.9], 3)
    assert slots.p_index.tolist() == [0, 1, 1, 1, 2, 2, 2]
    assert slots.mask.tolist() == [0, 0, 1, 2, 0, 1, 2]
    assert slots.repeats.tolist() == [3, 1, 1, 1, 1, 1, 1]


@pytest.mark.parametrize("scope", ["network", "image"])
def test_evaluate_ensemble_table(test_set, scope):
    x, y = test_set
    model = init_ensemble([1, 2, 3], relu_network(20, 2))
    p_eval = [0.0, 0.5, 0.8]
    table = evaluate_ensemble(
        model, [10, 20, 30], x, y, p_eval, n_masks=4, rescale=True, scope=scope, budget=2**22
    )
    assert len(table) == 3 * 3 * 4
    assert table[["model", "p_eval", "mask"]].drop_duplicates().shape[0] == len(table)
    unpruned = table[table["p_eval"] == 0.0]
    # p_eval = 0 keeps every unit: all masks give the unpruned network
    logits = forward(model, x.expand(3, -1, -1))
    for k in range(3):
        rows = unpruned[unpruned["model"] == k]
        expected = torch.nn.functional.cross_entropy(logits[k], y).item()
        np.testing.assert_allclose(rows["cross_entropy"], expected, rtol=1e-5)
        acc = (logits[k].argmax(1) == y).float().mean().item()
        np.testing.assert_allclose(rows["accuracy"], acc)
    # every other row is the naive evaluation of its own mask
    for k, p in [(1, 0.5), (2, 0.8)]:
        seed = eval_mask_seed([10, 20, 30][k], p)
        masks = [m[0] for m in masks_of([seed], 4, model.hidden_sizes, p, scope, len(x))]
        _, ce_naive = evaluate_naive(model.select(k), x, y, masks)
        rows = table[(table["model"] == k) & (table["p_eval"] == p)].sort_values("mask")
        np.testing.assert_allclose(rows["cross_entropy"], ce_naive.numpy(), rtol=1e-5)
    assert table[table["p_eval"] > 0]["cross_entropy"].nunique() == 3 * 2 * 4
    assert table["accuracy"].between(0, 1).all()


def test_a_model_chunk_does_not_change_the_numbers(test_set):
    """A budget that takes one network at a time gives the same table as one for all."""
    x, y = test_set
    model = init_ensemble([1, 2, 3], relu_network(20, 2))
    args = (model, [10, 20, 30], x, y, [0.0, 0.3, 0.7], 5)
    one = evaluate_ensemble(*args, rescale=True, scope="network", budget=2 * 4 * 20 * len(x))
    all_ = evaluate_ensemble(*args, rescale=True, scope="network", budget=2**26)
    np.testing.assert_allclose(one["cross_entropy"], all_["cross_entropy"], rtol=1e-5)
    np.testing.assert_array_equal(one["accuracy"], all_["accuracy"])


@pytest.mark.parametrize("depth", [1, 2])
def test_operations_do_not_grow_with_the_p_eval_values_or_networks(test_set, depth):
    """With a budget that holds the work, a shard's evaluation dispatches the same operations
    for 2 as for 20 p_eval values, and for 3 as for 12 networks."""
    x, y = test_set

    def ops(n_models, p_eval):
        model = init_ensemble(list(range(n_models)), relu_network(16, depth))
        return dispatched(
            lambda: evaluate_ensemble(model, list(range(n_models)), x, y, p_eval, 5,
                                      rescale=True, scope="network", budget=2**40)
        )  # fmt: skip

    two, twenty = [0.0, 0.5], [round(0.05 * i, 2) for i in range(20)]
    assert ops(3, two) == ops(3, twenty) == ops(12, twenty)
