"""Evaluation of trained networks under random neuron-dropout masks (pruned networks).

A mask removes hidden units by zeroing their post-activations. With ``scope="network"`` one mask
is drawn per network and shared by all test images: the network is pruned. With
``scope="image"`` every test image gets its own mask (Monte-Carlo dropout).

The fast path reuses what does not depend on the mask: the first hidden layer's activations are
computed once per network (for every mask and every p_eval). A network-scope mask removes units
for all images at once, so the products into later layers are restricted to the kept units; a
chunk of masks is one batched product over sub-blocks of the weights, padded to the chunk's
largest number of kept units.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F

from prunephase.core.seeds import seed_integers
from prunephase.nn.dropout import keep_factors, uniform_int16
from prunephase.nn.ensemble import ACTIVATIONS, INPLACE_ACTIVATIONS, MLPEnsemble


def eval_mask_seed(evaluation_seed: int, p_eval: float) -> int:
    """Seed of the masks of one model at one p_eval (independent across p_eval): the stream
    ``(p_eval,)`` under the model's evaluation seed."""
    return seed_integers(evaluation_seed, float(p_eval))[0]


def draw_eval_masks(
    seed: int,
    n_masks: int,
    hidden_sizes: Sequence[int],
    p_eval: float,
    *,
    rescale: bool,
    scope: str,
    n_images: int,
    device: torch.device | str,
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
    units = sum(hidden_sizes)
    u = uniform_int16(n_masks * rows * units, generator).view(n_masks, rows, units)
    factors = keep_factors(u, torch.tensor(p_eval), rescale).to(device)
    return list(torch.split(factors, list(hidden_sizes), dim=2))


def _scores(logits: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Accuracy and mean cross-entropy per mask from logits (K, C, T) and labels (T,)."""
    log_p = F.log_softmax(logits, dim=1)
    ce = -log_p.gather(1, y.expand(logits.shape[0], 1, -1)).squeeze(1).mean(dim=1)
    acc = (logits.argmax(dim=1) == y).float().mean(dim=1)
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
        acc, ce = _scores(h.T.unsqueeze(0), y)
        accs.append(acc)
        ces.append(ce)
    return torch.cat(accs), torch.cat(ces)


def first_hidden_activations(model: MLPEnsemble, x: torch.Tensor) -> torch.Tensor:
    """``act(x @ W1 + b1)`` of a one-network ensemble, transposed: shape (n_1, T)."""
    weight, bias = model.weights[0][0], model.biases[0][0]
    return ACTIVATIONS[model.activation](weight.T @ x.T + bias[:, None])


def _kept_units(factors: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Indices and factors of the kept units of K network masks, padded to a common length.

    factors is (K, n). Returns idx (K, m) and scale (K, m), m the largest number of kept units;
    a mask with fewer kept units is padded with index n (a zero row or column the callers append)
    and scale 0.
    """
    kept = factors > 0
    m = max(1, int(kept.sum(dim=1).max()))
    order = torch.argsort((~kept).to(torch.int8), dim=1, stable=True)[:, :m]
    valid = kept.gather(1, order)
    idx = torch.where(valid, order, factors.shape[1])
    return idx, torch.where(valid, factors.gather(1, order), 0.0)


def _pad(t: torch.Tensor, rows: bool = True, cols: bool = True) -> torch.Tensor:
    """Append a zero row and/or a zero column (the target of padded indices)."""
    return F.pad(t, (0, int(cols), 0, int(rows))) if t.dim() == 2 else F.pad(t, (0, int(rows)))


def _network_masks_logits(
    weights: Sequence[torch.Tensor],
    biases: Sequence[torch.Tensor],
    act,
    first_hidden: torch.Tensor,
    factors: Sequence[torch.Tensor],
) -> torch.Tensor:
    """Logits (K, C, T) of K networks pruned by network-scope masks, computing kept units only.

    A unit removed for every image neither needs computing nor contributes: the product into a
    hidden layer is restricted to the kept units on both sides (the first layer's activations,
    the same for every mask, are kept whole and its mask is folded into the next weights).
    """
    n_hidden, n_masks = len(factors), factors[0].shape[0]
    if n_hidden == 1:
        masked = factors[0][:, :, None] * weights[1]  # (K, n_1, C)
        return masked.transpose(1, 2) @ first_hidden + biases[1][:, None]
    idx, scale = _kept_units(factors[1])
    # weights into the kept units of hidden layer 2, rows scaled by the layer-1 mask: (K, m, n_1)
    sub = _pad(weights[1], rows=False).T[idx] * factors[0][:, None, :]
    # one wide product for all masks, since the first layer's activations are shared
    h = (sub.reshape(-1, sub.shape[2]) @ first_hidden).view(n_masks, -1, first_hidden.shape[1])
    act(h.add_(_pad(biases[1])[idx][..., None]))  # (K, m, T)
    for layer in range(2, n_hidden):
        idx_next, scale_next = _kept_units(factors[layer])
        sub = _pad(weights[layer])[idx[:, :, None], idx_next[:, None, :]] * scale[:, :, None]
        h = torch.bmm(sub.transpose(1, 2), h)
        act(h.add_(_pad(biases[layer])[idx_next][..., None]))
        idx, scale = idx_next, scale_next
    sub = _pad(weights[n_hidden], cols=False)[idx] * scale[:, :, None]  # (K, m, C)
    return torch.bmm(sub.transpose(1, 2), h) + biases[n_hidden][:, None]


def _image_masks_logits(
    weights: Sequence[torch.Tensor],
    biases: Sequence[torch.Tensor],
    act,
    first_hidden: torch.Tensor,
    factors: Sequence[torch.Tensor],
) -> torch.Tensor:
    """Logits (K, C, T) under image-scope masks (K, T, n_l): a fresh mask for every image."""
    h = first_hidden.T  # (T, n_1), shared by all masks
    for layer in range(1, len(weights)):
        h = (h * factors[layer - 1]) @ weights[layer] + biases[layer]
        if layer < len(weights) - 1:
            act(h)
    return h.transpose(1, 2)


def evaluate_fast(
    model: MLPEnsemble,
    x: torch.Tensor,
    y: torch.Tensor,
    masks: Sequence[torch.Tensor],
    first_hidden: torch.Tensor | None = None,
    mask_chunk: int = 8,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Same result as :func:`evaluate_naive`, computed for chunks of masks at once.

    Parameters
    ----------
    first_hidden
        :func:`first_hidden_activations` (n_1, T), if already computed: they do not depend on
        the mask, so one computation serves every mask and every p_eval.
    mask_chunk
        Masks evaluated together (memory: about mask_chunk * T * n_l floats).
    """
    act = INPLACE_ACTIVATIONS[model.activation]
    weights = [w[0] for w in model.weights]
    biases = [b[0] for b in model.biases]
    if first_hidden is None:
        first_hidden = first_hidden_activations(model, x)
    network_scope = masks[0].shape[1] == 1
    accs, ces = [], []
    for start in range(0, masks[0].shape[0], mask_chunk):
        chunk = [m[start : start + mask_chunk] for m in masks]
        if network_scope:
            logits = _network_masks_logits(
                weights, biases, act, first_hidden, [m[:, 0] for m in chunk]
            )
        else:
            logits = _image_masks_logits(weights, biases, act, first_hidden, chunk)
        acc, ce = _scores(logits, y)
        accs.append(acc)
        ces.append(ce)
    return torch.cat(accs), torch.cat(ces)


def evaluate_ensemble(
    model: MLPEnsemble,
    evaluation_seeds: Sequence[int],
    x: torch.Tensor,
    y: torch.Tensor,
    p_eval: Sequence[float],
    n_masks: int,
    *,
    rescale: bool,
    scope: str,
    mask_chunk: int = 8,
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
                seed, count, single.hidden_sizes, p, rescale=rescale, scope=scope,
                n_images=len(x), device=x.device,
            )  # fmt: skip
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
