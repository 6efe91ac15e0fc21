"""Connection removal of the MNIST redundancy supplement (paper B)."""

from __future__ import annotations

import pytest
import torch

from prunephase.nn.ensemble import Network, forward, init_ensemble, layer_sizes
from prunephase.rap.redundancy import connection_mask, redundancy_curve, tolerated_fraction


def relu_network(width: int, depth: int) -> Network:
    return Network(sizes=tuple(layer_sizes(width, depth)), activation="relu", init="torch",
                   bias=True)  # fmt: skip


@pytest.mark.parametrize("method", ["random", "magnitude"])
def test_mask_removes_the_asked_fraction(method):
    weight = torch.randn(30, 20, generator=torch.Generator().manual_seed(0))
    mask = connection_mask(weight, 0.35, method, torch.Generator().manual_seed(1))
    assert int((mask == 0).sum()) == round(0.35 * 600)
    if method == "magnitude":
        removed, kept = weight[mask == 0].abs(), weight[mask == 1].abs()
        assert removed.max() <= kept.min()


def test_curve_at_zero_is_the_unpruned_network_and_full_removal_is_bias_only():
    generator = torch.Generator().manual_seed(2)
    x, y = (
        torch.randn(300, 784, generator=generator),
        torch.randint(0, 10, (300,), generator=generator),
    )
    model = init_ensemble([3, 4], relu_network(12, 2))
    curve = redundancy_curve(model, x, y, fractions=[0.0, 1.0], draws=2, seed=0)
    assert len(curve) == 2 * (2 * 2 + 2)  # runs x (random: 2 fractions x 2 draws + magnitude: 2)
    logits = forward(model, x.expand(2, -1, -1))
    for run in range(2):
        unpruned = (logits[run].argmax(1) != y).float().mean().item()
        rows = curve[(curve["run"] == run) & (curve["fraction_removed"] == 0.0)]
        assert (rows["test_error"] == unpruned).all()
        # with every connection gone the output is the last bias: one class for every image
        bias_class = model.biases[-1][run].argmax().item()
        gone = curve[(curve["run"] == run) & (curve["fraction_removed"] == 1.0)]
        assert (gone["test_error"] == (y != bias_class).float().mean().item()).all()
    tolerated = tolerated_fraction(curve, curve["test_error"].max(), 0.0)
    assert (tolerated == 1.0).all()
