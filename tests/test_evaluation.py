"""Evaluation under dropout masks: the fast path equals the naive per-mask forward pass."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from prunephase.dropout_phases.evaluation import (
    draw_eval_masks,
    eval_mask_seed,
    evaluate_ensemble,
    evaluate_fast,
    evaluate_naive,
)
from prunephase.nn.ensemble import Network, forward, init_ensemble, layer_sizes


def relu_network(width: int, depth: int) -> Network:
    return Network(sizes=tuple(layer_sizes(width, depth)), activation="relu", init="torch",
                   bias=True)  # fmt: skip


@pytest.fixture(scope="module")
def test_set():
    generator = torch.Generator().manual_seed(1)
    return torch.randn(700, 784, generator=generator), torch.randint(
        0, 10, (700,), generator=generator
    )


@pytest.mark.parametrize("depth", [1, 2, 3])
@pytest.mark.parametrize("scope", ["network", "image"])
@pytest.mark.parametrize("rescale", [True, False])
def test_fast_path_equals_naive(test_set, depth, scope, rescale):
    x, y = test_set
    model = init_ensemble([depth], relu_network(40, depth))
    masks = draw_eval_masks(
        9, 7, model.hidden_sizes, 0.45, rescale=rescale, scope=scope, n_images=len(x), device="cpu"
    )
    acc_naive, ce_naive = evaluate_naive(model, x, y, masks)
    acc_fast, ce_fast = evaluate_fast(model, x, y, masks, mask_chunk=3)  # 3 does not divide 7
    torch.testing.assert_close(ce_fast, ce_naive, rtol=1e-5, atol=1e-6)
    assert torch.equal(acc_fast, acc_naive)
    assert len(set(ce_naive.tolist())) == 7  # every mask gives a different network


def test_masks_remove_the_right_fraction():
    masks = draw_eval_masks(
        1, 2000, [64, 32], 0.3, rescale=True, scope="network", n_images=1, device="cpu"
    )
    assert [m.shape for m in masks] == [(2000, 1, 64), (2000, 1, 32)]
    kept = torch.cat(masks, dim=2) > 0
    assert abs(kept.float().mean().item() - 0.7) < 0.005
    assert eval_mask_seed(5, 0.3) != eval_mask_seed(5, 0.35)


def test_evaluate_ensemble_table(test_set):
    x, y = test_set
    model = init_ensemble([1, 2], relu_network(20, 2))
    table = evaluate_ensemble(
        model, [10, 20], x, y, [0.0, 0.5], n_masks=4, rescale=True, scope="network"
    )
    assert len(table) == 2 * 2 * 4
    unpruned = table[table["p_eval"] == 0.0]
    # p_eval = 0 keeps every unit: all masks give the unpruned network
    logits = forward(model, x.expand(2, -1, -1))
    for k in range(2):
        rows = unpruned[unpruned["model"] == k]
        expected = torch.nn.functional.cross_entropy(logits[k], y).item()
        np.testing.assert_allclose(rows["cross_entropy"], expected, rtol=1e-5)
        acc = (logits[k].argmax(1) == y).float().mean().item()
        np.testing.assert_allclose(rows["accuracy"], acc)
    pruned = table[table["p_eval"] == 0.5]
    assert pruned["cross_entropy"].nunique() == 8
    assert table["accuracy"].between(0, 1).all()


@pytest.mark.parametrize("depth", [1, 2, 3])
def test_fast_path_with_layers_pruned_away(test_set, depth):
    """Narrow layers at p_eval = 0.9: many masks keep no unit of some layer."""
    x, y = test_set
    model = init_ensemble([7], relu_network(3, depth))
    masks = draw_eval_masks(
        2, 20, model.hidden_sizes, 0.9, rescale=True, scope="network", n_images=1, device="cpu"
    )
    assert (torch.cat(masks, dim=2).sum(dim=2) == 0).any()
    acc_naive, ce_naive = evaluate_naive(model, x, y, masks)
    acc_fast, ce_fast = evaluate_fast(model, x, y, masks, mask_chunk=6)
    torch.testing.assert_close(ce_fast, ce_naive, rtol=1e-5, atol=1e-6)
    assert torch.equal(acc_fast, acc_naive)
