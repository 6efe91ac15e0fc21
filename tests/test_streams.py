"""Counter-based random streams: one definition, three implementations, the same bits."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from prunephase.nn.dropout import (
    DropoutStream,
    factors_from_draws,
    keep_factors,
    keep_scale,
    keep_threshold,
)
from prunephase.nn.streams import (
    GOLDEN,
    int16_draws,
    int16_draws_numpy,
    mix64_int,
    permutations,
    row_keys,
    row_keys_numpy,
    words,
    words_numpy,
)
from prunephase.nn.training import epoch_orders

MASK64 = (1 << 64) - 1
SEEDS = [0, 1, 12345678901234567, 2**63 - 1]


def splitmix64(state: int, n: int) -> list[int]:
    """SplitMix64 as published (Steele, Lea, Flood 2014; Vigna's reference C code)."""
    out = []
    for _ in range(n):
        state = (state + GOLDEN) & MASK64
        out.append(mix64_int(state))
    return out


def test_mix64_is_splitmix64():
    # the first outputs of splitmix64.c seeded with 1234567
    assert splitmix64(1234567, 3) == [6457827717110365317, 3203168211198807973,
                                      9817491932198370423]  # fmt: skip


def test_words_are_splitmix64_from_the_row_key():
    rows = [mix64_int(s + 8 * GOLDEN) for s in SEEDS]  # row(seed, counter 7)
    assert row_keys_numpy(np.array(SEEDS, dtype=np.int64), 7).tolist() == rows
    assert words_numpy(np.array(rows, dtype=np.uint64), 5).tolist() == [
        splitmix64(r, 5) for r in rows
    ]


@pytest.mark.parametrize("counter", [0, 7, 2**40 + 3])
def test_torch_equals_numpy(counter):
    seeds = torch.tensor(SEEDS)
    rows = row_keys(seeds, counter)
    expected = row_keys_numpy(seeds.numpy(), counter)
    assert np.array_equal(rows.numpy().view(np.uint64), expected)
    assert np.array_equal(words(rows, 9).numpy().view(np.uint64), words_numpy(expected, 9))
    assert np.array_equal(int16_draws(rows, 37).numpy(), int16_draws_numpy(expected, 37))
    # a tensor of counters gives the same rows
    by_tensor = row_keys(seeds, torch.full((4,), counter, dtype=torch.int64))
    assert torch.equal(by_tensor, rows)


@pytest.mark.parametrize("n", [1, 4, 4097, 10_000])
@pytest.mark.parametrize("rescale", [True, False])
def test_compiled_dropout_factors_equal_the_tensor_operations(n, rescale):
    rows = row_keys(torch.tensor(SEEDS), 3)
    p = torch.tensor([0.0, 0.1, 0.5, 0.95])
    threshold, scale = keep_threshold(p), keep_scale(p, rescale)
    compiled = keep_factors(rows, n, threshold, scale)  # the CPU kernel
    tensor_ops = factors_from_draws(int16_draws(rows, n), threshold[:, None], scale[:, None])
    assert torch.equal(compiled, tensor_ops)


def test_rates_are_realised_exactly_as_round_65536_p():
    """Over all 65536 int16 values, a threshold keeps exactly 65536 - round(65536 p) of them."""
    every = torch.arange(-32768, 32768, dtype=torch.int32).to(torch.int16)
    for p in (0.0, 0.1, 0.25, 0.5, 0.9, 0.95):
        kept = (every >= keep_threshold(torch.tensor(p))).sum().item()
        assert kept == 65536 - round(65536 * p)


def test_draws_are_uniform_and_rows_independent():
    rows = row_keys(torch.arange(64), 0)
    u = int16_draws(rows, 20_000).to(torch.int64) + 32768  # (64, 20000) on 0..65535
    counts = torch.bincount(u.flatten() >> 12, minlength=16).double()  # 16 bins
    expected = u.numel() / 16
    chi2 = ((counts - expected) ** 2 / expected).sum().item()
    assert chi2 < 50  # 15 degrees of freedom: P(chi2 > 50) ~ 1e-5
    corr = torch.corrcoef(u.double())
    off_diagonal = corr[~torch.eye(64, dtype=torch.bool)]
    assert off_diagonal.abs().max() < 0.04  # 20000 samples: sd 0.007


def test_permutations():
    rows = row_keys(torch.tensor(SEEDS), 2)
    perms = permutations(rows, 1000)
    for perm in perms:
        assert torch.equal(torch.sort(perm).values, torch.arange(1000))
    assert len({tuple(p.tolist()) for p in perms}) == 4
    # the order of the row's words, as numpy sorts them
    keys = words_numpy(row_keys_numpy(np.array(SEEDS), 2), 1000).view(np.int64)
    assert np.array_equal(perms.numpy(), np.argsort(keys, axis=1, kind="stable"))


def test_a_models_draws_do_not_depend_on_its_ensemble():
    """Model k's dropout factors and batch orders are the same alone, in any company and at any
    position, and are the definition's numbers (numpy, as the one-model reference draws them)."""
    cpu = torch.device("cpu")
    seed, p, hidden, batch = 987654321, 0.3, [24, 8], 5
    alone = DropoutStream([p], [seed], hidden, True, cpu)
    crowd = DropoutStream([0.0, 0.9, p, 0.5], [1, 2, seed, 4], hidden, True, cpu)
    threshold = round(p * 65536) - 32768
    for step in (0, 1, 999):
        mine = torch.cat(alone(step, batch), dim=2)[0]
        assert torch.equal(torch.cat(crowd(step, batch), dim=2)[2], mine)
        draws = int16_draws_numpy(row_keys_numpy(seed, step), batch * sum(hidden))
        expected = (draws >= threshold).reshape(batch, -1) / np.float32(1 - p)
        np.testing.assert_array_equal(mine.numpy(), expected)
    # consecutive steps draw different masks
    assert not torch.equal(alone(0, batch)[0], alone(1, batch)[0])
    for epoch in (0, 3):
        orders = epoch_orders(torch.tensor([5, seed, 6]), epoch, 300)
        assert torch.equal(orders[1], epoch_orders(torch.tensor([seed]), epoch, 300)[0])
        keys = words_numpy(row_keys_numpy(seed, epoch), 300).view(np.int64)
        assert np.array_equal(orders[1].numpy(), np.argsort(keys, kind="stable"))
    assert not torch.equal(epoch_orders(torch.tensor([seed]), 0, 300),
                           epoch_orders(torch.tensor([seed]), 1, 300))  # fmt: skip


def test_no_model_drops_nothing_is_drawn():
    stream = DropoutStream([0.0, 0.0], [1, 2], [8], True, torch.device("cpu"))
    assert stream(0, 4) == [None]
