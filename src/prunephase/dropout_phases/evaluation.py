"""Evaluation of trained networks under random neuron-dropout masks (pruned networks).

A mask removes hidden units by zeroing their post-activations. With ``scope="network"`` one mask
is drawn per network and shared by all test images: the network is pruned. With
``scope="image"`` every test image gets its own mask (Monte-Carlo dropout).

A network is evaluated with a list of masks, its *slots*: one for p_eval = 0 (every unit kept, so
one pass stands for all masks) and ``n_masks`` for every other p_eval. The slots of every p_eval
of a chunk of networks are drawn in one computation and evaluated in few, large batched products,
in chunks sized from a memory budget (:func:`memory_budget`), so the number of calls grows with
the memory the work needs, not with the number of networks, p_eval values or masks.

What does not depend on the mask is computed once: the first hidden layer's activations, per
network. A network-scope mask removes units for all images at once, so the products into later
layers are restricted to the kept units. The slots of each network are sorted by their number of
kept units, so that a chunk (the same ranks of every network of a model chunk) holds masks of
similar size, and each chunk is padded only to its own largest.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F

from prunephase.core.seeds import seed_integers
from prunephase.nn.dropout import keep_factors, keep_scale, keep_threshold
from prunephase.nn.ensemble import ACTIVATIONS, INPLACE_ACTIVATIONS, MLPEnsemble
from prunephase.nn.streams import row_keys

#: the share of a device's free memory (CUDA) that :func:`memory_budget` gives to the chunks
GPU_MEMORY_SHARE = 0.5
#: the chunk budget on a CPU (bytes): larger chunks are no faster there, only take more memory
CPU_CHUNK_BYTES = 2**30


def eval_mask_seed(evaluation_seed: int, p_eval: float) -> int:
    """Seed of the masks of one model at one p_eval (independent across p_eval): the stream
    ``(p_eval,)`` under the model's evaluation seed."""
    return seed_integers(evaluation_seed, float(p_eval))[0]


def memory_budget(device: torch.device) -> int:
    """Bytes the evaluation may hold in one chunk of work: :data:`GPU_MEMORY_SHARE` of the free
    memory of a CUDA device, :data:`CPU_CHUNK_BYTES` on a CPU."""
    if device.type == "cuda":
        free, _ = torch.cuda.mem_get_info(device)
        return int(GPU_MEMORY_SHARE * free)
    return CPU_CHUNK_BYTES


@dataclass(frozen=True)
class Slots:
    """The masks every network is evaluated with, in table order.

    Attributes
    ----------
    p_index
        Index into p_eval of each slot, shape (S,).
    mask
        Mask number of each slot within its p_eval, shape (S,).
    repeats
        Table rows each slot stands for, shape (S,): ``n_masks`` for the single slot of
        p_eval = 0, 1 otherwise.
    """

    p_index: np.ndarray
    mask: np.ndarray
    repeats: np.ndarray


def mask_slots(p_eval: Sequence[float], n_masks: int) -> Slots:
    """The :class:`Slots` of a grid: p_eval = 0 keeps every unit, so one slot gives its
    ``n_masks`` rows; every other p_eval has ``n_masks`` slots."""
    p_index, mask, repeats = [], [], []
    for i, p in enumerate(p_eval):
        count = 1 if p == 0 else n_masks
        p_index += [i] * count
        mask += list(range(count))
        repeats += [n_masks // count] * count
    return Slots(np.array(p_index), np.array(mask), np.array(repeats))


def draw_eval_masks(
    seeds: torch.Tensor,
    masks: torch.Tensor,
    p_eval: torch.Tensor,
    hidden_sizes: Sequence[int],
    *,
    rescale: bool,
    scope: str,
    n_images: int,
) -> list[torch.Tensor]:
    """Dropout factors of masks, per hidden layer, every mask in one computation.

    Mask j of a network at p_eval has the draws of the row ``row(seed, j)``
    (:mod:`prunephase.nn.streams`), ``seed`` the network's :func:`eval_mask_seed` of that p_eval:
    ``rows * sum(hidden_sizes)`` int16 draws, row-major (rows, units), the layers in order.

    Parameters
    ----------
    seeds, masks, p_eval
        Mask seed (int64), mask number (int64) and drop probability (float) of each mask, any
        common shape (...).
    n_images
        Test images (the rows of an image-scope mask).

    Returns
    -------
    list of torch.Tensor
        One tensor per hidden layer of shape (..., 1, n_l) for ``scope="network"`` or
        (..., n_images, n_l) for ``scope="image"``, float32 on the device of ``seeds``: 0 for a
        removed unit, 1 (or 1/(1-p_eval) with ``rescale``) for a kept one.
    """
    if scope not in ("network", "image"):
        raise ValueError(f"unknown mask scope {scope!r}; use 'network' or 'image'")
    rows = 1 if scope == "network" else n_images
    units = sum(hidden_sizes)
    shape = seeds.shape
    p = p_eval.reshape(-1).to(torch.float32)
    factors = keep_factors(
        row_keys(seeds.reshape(-1), masks.reshape(-1)), rows * units, keep_threshold(p),
        keep_scale(p, rescale),
    )  # fmt: skip
    factors = factors.view(*shape, rows, units)
    return list(torch.split(factors, list(hidden_sizes), dim=-1))


def _scores(logits: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Accuracy and mean cross-entropy per mask from logits (K, C, T) and labels (T,).

    Reductions over the classes run along T-contiguous rows (fast on a CPU, where a reduction
    over a short contiguous last dimension is several times slower).
    """
    top, predicted = logits.max(dim=1, keepdim=True)
    true = logits.gather(1, y.expand(logits.shape[0], 1, -1))
    log_sum = (logits - top).exp_().sum(dim=1, keepdim=True).log_()
    ce = (top + log_sum - true)[:, 0].mean(dim=1)
    acc = (predicted[:, 0] == y).float().mean(dim=1)
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
        Per hidden layer, factors (K, 1, n_l) or (K, T, n_l) (:func:`draw_eval_masks`).

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
    """``act(x @ W1 + b1)`` of every network, transposed: shape (M, n_1, T)."""
    weight, bias = model.weights[0], model.biases[0]
    h = torch.baddbmm(bias[:, :, None], weight.transpose(1, 2), x.T.expand(len(weight), -1, -1))
    return INPLACE_ACTIVATIONS[model.activation](h)


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


def _network_logits(
    weights: Sequence[torch.Tensor],
    biases: Sequence[torch.Tensor],
    act,
    first_hidden: torch.Tensor,
    factors: Sequence[torch.Tensor],
) -> torch.Tensor:
    """Logits (c * s, C, T) of s network-scope masks of each of c networks.

    ``weights[l]`` (c, n_l, n_l+1) and ``biases[l]`` (c, n_l+1) are the networks' parameters,
    ``first_hidden`` (c, n_1, T) their first layer's activations, ``factors[l]`` (c, s, n_l) the
    masks. A unit removed for every image neither needs computing nor contributes: the product
    into a hidden layer is restricted to the kept units on both sides (the first layer's
    activations, shared by every mask, are kept whole and its mask is folded into the next
    weights); the output keeps every class.
    """
    n_hidden = len(factors)
    c, s = factors[0].shape[:2]
    if n_hidden == 1:
        masked = factors[0][..., None] * weights[1][:, None]  # (c, s, n_1, C)
        masked = masked.transpose(2, 3).reshape(c, -1, masked.shape[2])  # (c, s * C, n_1)
        bias = biases[1].repeat(1, s)[..., None]  # (c, s * C, 1)
        logits = torch.baddbmm(bias, masked, first_hidden)  # (c, s * C, T)
        return logits.view(c * s, -1, first_hidden.shape[2])
    model = torch.arange(c, device=first_hidden.device).repeat_interleave(s)  # slot -> network
    idx, scale = _kept_units(factors[1].reshape(c * s, -1))
    # weights into the kept units of hidden layer 2, rows scaled by the layer-1 mask:
    # (c, s * m, n_1), then one product per network for all its masks (its first layer is shared)
    w2 = F.pad(weights[1], (0, 1)).transpose(1, 2)  # (c, n_2 + 1, n_1), row n_2 zero
    sub = w2[model[:, None], idx] * factors[0].reshape(c * s, 1, -1)
    bias = F.pad(biases[1], (0, 1))[model[:, None], idx].view(c, -1, 1)
    h = torch.baddbmm(bias, sub.view(c, -1, sub.shape[2]), first_hidden)
    h = act(h.view(c * s, -1, first_hidden.shape[2]))  # (c * s, m, T)
    for layer in range(2, n_hidden):
        idx_next, scale_next = _kept_units(factors[layer].reshape(c * s, -1))
        w = F.pad(weights[layer], (0, 1, 0, 1))
        sub = w[model[:, None, None], idx[:, :, None], idx_next[:, None, :]] * scale[..., None]
        bias = F.pad(biases[layer], (0, 1))[model[:, None], idx_next][..., None]
        h = act(torch.baddbmm(bias, sub.transpose(1, 2), h))
        idx, scale = idx_next, scale_next
    w = F.pad(weights[n_hidden], (0, 0, 0, 1))  # (c, n_L + 1, C), row n_L zero
    sub = w[model[:, None], idx] * scale[..., None]  # (c * s, m, C)
    return torch.baddbmm(biases[n_hidden][model][..., None], sub.transpose(1, 2), h)


def _image_logits(
    weights: Sequence[torch.Tensor],
    biases: Sequence[torch.Tensor],
    act,
    first_hidden: torch.Tensor,
    factors: Sequence[torch.Tensor],
) -> torch.Tensor:
    """Logits (c * s, C, T) under image-scope masks, ``factors[l]`` (c, s, T, n_l): a fresh mask
    for every image."""
    c, s, t = factors[0].shape[:3]
    h = first_hidden.transpose(1, 2).contiguous()[:, None]  # (c, 1, T, n_1), shared by all masks
    for layer in range(1, len(weights)):
        h = torch.baddbmm(
            biases[layer][:, None], (factors[layer - 1] * h).reshape(c, s * t, -1), weights[layer]
        ).view(c, s, t, -1)
        if layer < len(weights) - 1:
            act(h)
    return h.view(c * s, t, -1).transpose(1, 2).contiguous()


def _slot_bytes(m: Sequence[int], n_classes: int, n_images: int, scope: str) -> int:
    """Memory of one mask in a chunk: the activations of its (kept) hidden units and its logits,
    with the factors and the softmax's temporaries (float32)."""
    if scope == "image":
        return 4 * n_images * (3 * sum(m) + 3 * n_classes)
    return 4 * n_images * (sum(m[1:]) + 3 * n_classes) + 4 * m[0] * max(m[1:], default=n_classes)


def evaluate_masks(
    model: MLPEnsemble,
    x: torch.Tensor,
    y: torch.Tensor,
    factors: Sequence[torch.Tensor] | None,
    *,
    budget: int,
    draw=None,
    n_slots: int | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Accuracy and cross-entropy of every network of ``model`` under each of its masks.

    Parameters
    ----------
    model
        c networks, on the device of ``x``.
    x, y
        Test inputs (T, n_in) and labels (T,).
    factors
        Per hidden layer, the masks of every network: (c, S, 1, n_l) for network scope,
        (c, S, T, n_l) for image scope (:func:`draw_eval_masks`); or None with ``draw``.
    budget
        Bytes a chunk of masks may occupy (:func:`memory_budget`).
    draw, n_slots
        Instead of ``factors``: ``draw(start, stop)`` returns the image-scope factors of slots
        start..stop-1 of every network, (c, stop - start, T, n_l) per layer: a shard's
        image-scope masks do not fit in memory at once.

    Returns
    -------
    accuracy, cross_entropy
        Each (c, S): fraction of correct test images, mean test cross-entropy (nats).
    """
    act = INPLACE_ACTIVATIONS[model.activation]
    c, t = model.n_models, len(x)
    first_hidden = first_hidden_activations(model, x)  # (c, n_1, T)
    sizes = [w.shape[1] for w in model.weights[1:]]  # hidden sizes n_1 .. n_L
    n_classes = model.weights[-1].shape[2]
    image = factors is None or factors[0].shape[2] > 1
    n_slots = factors[0].shape[1] if factors is not None else n_slots
    acc = torch.empty(c, n_slots, device=x.device)
    ce = torch.empty(c, n_slots, device=x.device)
    if image:
        step = max(1, budget // (c * _slot_bytes(sizes, n_classes, t, "image")))
        for start in range(0, n_slots, step):
            stop = min(n_slots, start + step)
            chunk = draw(start, stop) if factors is None else [f[:, start:stop] for f in factors]
            a, e = _scores(_image_logits(model.weights, model.biases, act, first_hidden, chunk), y)
            acc[:, start:stop], ce[:, start:stop] = a.view(c, -1), e.view(c, -1)
        return acc, ce
    masks = [f[:, :, 0] for f in factors]  # (c, S, n_l)
    # the slots of each network by decreasing number of kept units beyond the first layer, and
    # the most any layer keeps from each rank on (what a chunk starting there is padded to)
    kept = torch.stack([(f > 0).sum(dim=2) for f in masks[1:]] or [torch.zeros_like(acc)], -1)
    order = torch.argsort(kept.sum(dim=2), dim=1, descending=True, stable=True)
    kept = kept.gather(1, order[..., None].expand_as(kept)).amax(dim=0)  # (S, L - 1)
    widest = torch.flip(torch.cummax(torch.flip(kept, [0]), dim=0).values, [0]).tolist()
    start = 0
    while start < n_slots:
        m = [sizes[0], *(max(1, int(k)) for k in widest[start])][: len(sizes)]
        step = max(1, budget // (c * _slot_bytes(m, n_classes, t, "network")))
        slots = order[:, start : start + step]  # (c, s)
        chunk = [f.gather(1, slots[..., None].expand(-1, -1, f.shape[2])) for f in masks]
        a, e = _scores(_network_logits(model.weights, model.biases, act, first_hidden, chunk), y)
        acc.scatter_(1, slots, a.view(c, -1))
        ce.scatter_(1, slots, e.view(c, -1))
        start += step
    return acc, ce


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
    budget: int,
) -> pd.DataFrame:
    """Accuracy and cross-entropy of every network of ``model`` at every p_eval, for each mask.

    Network k's masks at p_eval come from :func:`eval_mask_seed` of ``evaluation_seeds[k]``
    (:func:`draw_eval_masks`); its slots are :func:`mask_slots`. Networks are taken in chunks (as
    many as ``budget`` bytes hold with 16 slots each, at least one per thread); within a chunk,
    every slot of every network is evaluated by :func:`evaluate_masks`.

    Returns
    -------
    pandas.DataFrame
        One row per (model, p_eval, mask) with columns ``model`` (index into the ensemble),
        ``p_eval``, ``mask``, ``accuracy`` (fraction), ``cross_entropy`` (nats, mean over test
        images).
    """
    device, t = x.device, len(x)
    slots = mask_slots(p_eval, n_masks)
    n_models, n_slots = model.n_models, len(slots.mask)
    seeds = torch.tensor(
        [[eval_mask_seed(s, p) for p in p_eval] for s in evaluation_seeds], dtype=torch.int64
    )[:, slots.p_index].to(device)  # (M, S)
    mask = torch.as_tensor(slots.mask, device=device).expand(n_models, -1)
    rates = torch.tensor(p_eval, dtype=torch.float32)[slots.p_index].to(device).expand_as(mask)
    hidden = model.hidden_sizes
    n_classes = model.weights[-1].shape[2]
    # as many networks at once as fit with 16 of their slots each at full width (measured on a
    # CPU: fewer networks with more masks each were slower), and at least one per thread (a
    # batched product on the CPU shares its batch among the threads)
    per_model = 4 * hidden[0] * t + min(16, n_slots) * _slot_bytes(hidden, n_classes, t, scope)
    acc = torch.empty(n_models, n_slots, device=device)
    ce = torch.empty(n_models, n_slots, device=device)
    chunk = min(n_models, max(torch.get_num_threads(), budget // per_model))
    for lo in range(0, n_models, chunk):
        hi = min(n_models, lo + chunk)

        def draw(start, stop, lo=lo, hi=hi):
            return draw_eval_masks(
                seeds[lo:hi, start:stop], mask[lo:hi, start:stop], rates[lo:hi, start:stop],
                hidden, rescale=rescale, scope=scope, n_images=t,
            )  # fmt: skip

        part = MLPEnsemble(
            [w[lo:hi] for w in model.weights], [b[lo:hi] for b in model.biases], model.activation
        )
        factors = draw(0, n_slots) if scope == "network" else None
        a, e = evaluate_masks(part, x, y, factors, budget=budget, draw=draw, n_slots=n_slots)
        acc[lo:hi], ce[lo:hi] = a, e
    repeats = np.tile(slots.repeats, n_models)
    return pd.DataFrame(
        {
            "model": np.repeat(np.arange(n_models), n_masks * len(p_eval)),
            "p_eval": np.tile(np.repeat(np.asarray(p_eval, dtype=float), n_masks), n_models),
            "mask": np.tile(np.arange(n_masks), n_models * len(p_eval)),
            "accuracy": acc.cpu().numpy().ravel().repeat(repeats),
            "cross_entropy": ce.cpu().numpy().ravel().repeat(repeats),
        }
    )
