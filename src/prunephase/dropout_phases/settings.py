"""Typed settings of the dropout-phase study, built from the validated ``dropout_phases`` section.

Field names are the config keys; values and defaults live in the schema only (see
:func:`prunephase.core.config.settings`).
"""

from __future__ import annotations

from dataclasses import dataclass


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
class Collapse:
    """Data-collapse fits (``dropout_phases.analysis.collapse``): per ansatz, each parameter fixed
    (a number) or fitted within bounds (a pair)."""

    bkt: dict[str, float | tuple[float, float]]
    power_law: dict[str, float | tuple[float, float]]
    bootstrap: int
    contour_factor: float
    map_points: int


@dataclass(frozen=True, kw_only=True)
class Analysis:
    """alpha_CE fits, phases and collapses (``dropout_phases.analysis``)."""

    bootstrap: int
    phase_n_se: float
    phase_min_alpha: float
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
