"""Evaluation of trained networks under random neuron-dropout masks (pruned networks).

A mask removes hidden units by zeroing their post-activations. With ``scope="network"`` one mask
is drawn per network and shared by all test images: the network is pruned. With
``scope="image"`` every test image gets its own mask (Monte-Carlo dropout).

The fast path reuses what does not depend on the mask: the first hidden layer's activations are
computed once per network, and since a network-scope mask on layer l only zeroes rows of the next
weight matrix, K masks fold into K masked copies of that matrix and one wide matrix product.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F

from prunephase.models import ACTIVATIONS, MLPEnsemble
from prunephase.training import keep_factors


def eval_mask_seed(evaluation_seed: int, p_eval: float) -> int:
    """Seed of the masks of one model at one p_eval (independent across p_eval)."""
    key = (round(p_eval * 1_000_000),)
    state = np.random.SeedSequence(evaluation_seed, spawn_key=key).generate_state(1, np.uint64)
    return int(state[0]) >> 1


def draw_eval_masks(
    seed: int,
    n_masks: int,
    hidden_sizes: Sequence[int],
    p_eval: float,
    rescale: bool = True,
    scope: str = "network",
    n_images: int = 1,
    device: torch.device | str = "cpu",
) -> list[torch.Tensor]:
    """Dropout factors of ``n_masks`` masks, per hidden layer.

    Returns
    -------
    list of torch.Tensor
        One tensor per hidden layer of shape (n_masks, 1, n_l) for ``scope="network"`` or
        (n_masks, n_images, n_l) for ``scope="image"``: 0 for a removed unit, 1 (or 1/(1-p_eval)
        with ``rescale``) for a kept one.
    """
    if scope not in ("network", "image"):
        raise ValueError(f"unknown mask scope {scope!r}; use 'network' or 'image'")
    rows = 1 if scope == "network" else n_images
    generator = torch.Generator().manual_seed(seed)
    u = torch.rand(n_masks, rows, sum(hidden_sizes), generator=generator)
    factors = keep_factors(u, torch.tensor(p_eval), rescale).to(device)
    return list(torch.split(factors, list(hidden_sizes), dim=2))


def _scores(logits: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Accuracy and mean cross-entropy per mask from logits (K, T, C) and labels (T,)."""
    log_p = F.log_softmax(logits, dim=-1)
    ce = -log_p.gather(-1, y.expand(logits.shape[0], -1).unsqueeze(-1)).squeeze(-1).mean(dim=1)
    acc = (logits.argmax(dim=-1) == y).float().mean(dim=1)
    return acc, ce


def evaluate_naive(
    model: MLPEnsemble, x: torch.Tensor, y: torch.Tensor, masks: Sequence[torch.Tensor]
) -> tuple[torch.Tensor, torch.Tensor]:
    """Reference evaluation: one full forward pass of a single network per mask.

    Parameters
    ----------
    model
        An ensemble of one network.
    x, y
        Test inputs (T, n_in) and labels (T,).
    masks
        From :func:`draw_eval_masks`.

    Returns
    -------
    accuracy, cross_entropy
        Each of shape (K,): fraction of correct test images, mean test cross-entropy (nats).
    """
    act = ACTIVATIONS[model.activation]
    weights = [w[0] for w in model.weights]
    biases = [b[0] for b in model.biases]
    accs, ces = [], []
    for k in range(masks[0].shape[0]):
        h = x
        for layer, (weight, bias) in enumerate(zip(weights, biases)):
            h = h @ weight + bias
            if layer < len(masks):
                h = act(h) * masks[layer][k]
        acc, ce = _scores(h.unsqueeze(0), y)
        accs.append(acc)
        ces.append(ce)
    return torch.cat(accs), torch.cat(ces)


def _masked_layer(
    a: torch.Tensor, keep: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor
) -> torch.Tensor:
    """``(a * keep) @ weight + bias`` for K masks at once.

    a is (T, n) (shared by all masks) or (K, T, n); keep is (K, 1, n) or (K, T, n). Returns
    (K, T, n_out).
    """
    n_masks = keep.shape[0]
    if keep.shape[1] == 1:
        masked_weight = keep.transpose(1, 2) * weight  # (K, n, n_out): rows of removed units zeroed
        if a.dim() == 2:
            n, n_out = weight.shape
            wide = masked_weight.permute(1, 0, 2).reshape(n, n_masks * n_out)
            out = (a @ wide).view(a.shape[0], n_masks, n_out).transpose(0, 1)
        else:
            out = torch.bmm(a, masked_weight)
    else:
        out = (a * keep) @ weight
    return out + bias


def evaluate_fast(
    model: MLPEnsemble,
    x: torch.Tensor,
    y: torch.Tensor,
    masks: Sequence[torch.Tensor],
    first_hidden: torch.Tensor | None = None,
    mask_chunk: int = 16,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Same result as :func:`evaluate_naive`, computed in batches of masks.

    Parameters
    ----------
    first_hidden
        The first hidden layer's activations ``act(x @ W1 + b1)``, shape (T, n_1), if already
        computed (they do not depend on the mask, so one computation serves every p_eval).
    mask_chunk
        Masks evaluated together (bounds the memory: about mask_chunk * T * n_l floats).
    """
    act = ACTIVATIONS[model.activation]
    weights = [w[0] for w in model.weights]
    biases = [b[0] for b in model.biases]
    if first_hidden is None:
        first_hidden = act(x @ weights[0] + biases[0])
    accs, ces = [], []
    for start in range(0, masks[0].shape[0], mask_chunk):
        chunk = [m[start : start + mask_chunk] for m in masks]
        h = first_hidden
        for layer in range(1, len(weights)):
            h = _masked_layer(h, chunk[layer - 1], weights[layer], biases[layer])
            if layer < len(weights) - 1:
                h = act(h)
        acc, ce = _scores(h, y)
        accs.append(acc)
        ces.append(ce)
    return torch.cat(accs), torch.cat(ces)


def first_hidden_activations(model: MLPEnsemble, x: torch.Tensor) -> torch.Tensor:
    """``act(x @ W1 + b1)`` of a one-network ensemble, shape (T, n_1)."""
    return ACTIVATIONS[model.activation](x @ model.weights[0][0] + model.biases[0][0])


def evaluate_ensemble(
    model: MLPEnsemble,
    evaluation_seeds: Sequence[int],
    x: torch.Tensor,
    y: torch.Tensor,
    p_eval: Sequence[float],
    n_masks: int,
    rescale: bool = True,
    scope: str = "network",
    mask_chunk: int = 16,
) -> pd.DataFrame:
    """Accuracy and cross-entropy of every network of ``model`` at every p_eval, for each mask.

    Network k's masks at p_eval come from :func:`eval_mask_seed` of ``evaluation_seeds[k]``. At
    p_eval = 0 every mask keeps every unit, so one forward pass gives all ``n_masks`` rows.

    Returns
    -------
    pandas.DataFrame
        One row per (model, p_eval, mask) with columns ``model`` (index into the ensemble),
        ``p_eval``, ``mask``, ``accuracy`` (fraction), ``cross_entropy`` (nats, mean over test
        images).
    """
    frames = []
    for k in range(model.n_models):
        single = model.select(k)
        first = first_hidden_activations(single, x)
        for p in p_eval:
            count = 1 if p == 0 else n_masks
            seed = eval_mask_seed(evaluation_seeds[k], p)
            masks = draw_eval_masks(
                seed, count, single.hidden_sizes, p, rescale, scope, len(x), x.device
            )
            acc, ce = evaluate_fast(single, x, y, masks, first, mask_chunk)
            frames.append(
                pd.DataFrame(
                    {
                        "model": k,
                        "p_eval": p,
                        "mask": np.arange(n_masks),
                        "accuracy": acc.cpu().numpy().repeat(n_masks // count),
                        "cross_entropy": ce.cpu().numpy().repeat(n_masks // count),
                    }
                )
            )
    return pd.concat(frames, ignore_index=True)
