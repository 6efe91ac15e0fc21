"""Typed settings of the dropout-phase study, built from the validated ``dropout_phases`` section.

Field names are the config keys; values and defaults live in the schema only (see
:func:`prunephase.core.config.settings`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, kw_only=True)
class Architecture:
    """784 -> width^depth -> 10."""

    width: int
    depth: int


@dataclass(frozen=True, kw_only=True)
class Training:
    """Adam on mini-batches of the mean cross-entropy (``dropout_phases.training``)."""

    lr: float
    betas: tuple[float, float]
    eps: float
    batch_size: int
    epochs: int
    min_steps: int
    snapshots: tuple[float, ...]


@dataclass(frozen=True, kw_only=True)
class Evaluation:
    """Random pruning masks at evaluation (``dropout_phases.evaluation``)."""

    masks: int
    mask_scope: str


@dataclass(frozen=True, kw_only=True)
class Sensitivity:
    """The collapse at the focus p_train for other windows and N_0
    (``dropout_phases.analysis.collapse.sensitivity``)."""

    half_widths: tuple[float, ...]
    N_0: tuple[float | tuple[float, float], ...]


@dataclass(frozen=True, kw_only=True)
class Collapse:
    """Data-collapse fits (``dropout_phases.analysis.collapse``): per ansatz, each parameter fixed
    (a number) or fitted within bounds (a pair); the p_eval window around the crossing; the grid
    and contour of the errors; the bootstrap."""

    bkt: dict[str, float | tuple[float, float]]
    power_law: dict[str, float | tuple[float, float]]
    half_width: float
    bootstrap: int
    contour_factor: float
    p_c_step: float
    sensitivity: Sensitivity


@dataclass(frozen=True, kw_only=True)
class Analysis:
    """alpha_CE fits, phases, crossings and collapses (``dropout_phases.analysis``)."""

    bootstrap: int
    phase_n_se: float
    phase_min_alpha: float
    amentia_accuracy: float
    local_sizes: int
    collapse: Collapse


@dataclass(frozen=True, kw_only=True)
class Figures:
    """Where the figures cut the grid (``dropout_phases.figures``): values on the grid."""

    linecut_p_eval: float
    focus_p_train: float


@dataclass(frozen=True, kw_only=True)
class DropoutPhases:
    """The whole ``dropout_phases`` section."""

    architectures: tuple[Architecture, ...]
    n_train: tuple[int, ...]
    p_train: tuple[float, ...]
    p_eval: tuple[float, ...]
    runs: int
    activation: str
    rescale: bool
    input_scaling: str
    training: Training
    evaluation: Evaluation
    analysis: Analysis
    figures: Figures


def problems(section: Mapping[str, Any]) -> list[str]:
    """What the schema cannot say about a validated ``dropout_phases`` section: every N_0 of the
    BKT ansatz (fixed, or the upper bound when fitted) below the smallest training-set size, fit
    windows at least as wide as the steps of the p_eval grid, and enough sizes for the local
    exponent. Each message names its key."""
    n_min = min(section["n_train"])
    collapse = section["analysis"]["collapse"]
    found = []
    entries = [("analysis.collapse.bkt.N_0", collapse["bkt"].get("N_0"))] + [
        (f"analysis.collapse.sensitivity.N_0[{i}]", v)
        for i, v in enumerate(collapse["sensitivity"]["N_0"])
    ]
    for key, value in entries:
        if value is None:
            continue
        top = max(value) if isinstance(value, list | tuple) else value
        if top >= n_min:
            found.append(
                f"config key 'dropout_phases.{key}' = {value!r}: N_0 must stay below the "
                f"smallest training-set size min('dropout_phases.n_train') = {n_min}"
            )
    # a window must hold more than the two grid values around the crossing
    p_eval = sorted(section["p_eval"])
    gap = max(b - a for a, b in zip(p_eval, p_eval[1:])) if len(p_eval) > 1 else 0.0
    widths = [("analysis.collapse.half_width", collapse["half_width"])] + [
        (f"analysis.collapse.sensitivity.half_widths[{i}]", w)
        for i, w in enumerate(collapse["sensitivity"]["half_widths"])
    ]
    for key, width in widths:
        if width < gap - 1e-12:
            found.append(
                f"config key 'dropout_phases.{key}' = {width!r} is below the largest step "
                f"({gap:g}) of 'dropout_phases.p_eval': a window would hold too few points"
            )
    local = section["analysis"]["local_sizes"]
    if local > len(section["n_train"]):
        found.append(
            f"config key 'dropout_phases.analysis.local_sizes' = {local} exceeds the number of "
            f"training-set sizes in 'dropout_phases.n_train' ({len(section['n_train'])})"
        )
    return found
