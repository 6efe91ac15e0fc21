"""Typed settings of the teacher-student study, built from the validated ``teacher_student``
section.

Field names are the config keys; values and defaults live in the schema only (see
:func:`prunephase.core.config.settings`, which also checks that a section and its class have the
same keys). What a job reads is a class of its own, so that a rule passes a job exactly the keys of
that class and a change of any other key does not rerun it:

============================  ==========================================================
job                           settings
============================  ==========================================================
``teacher_student_train``     :class:`Run` (its wildcard) and :class:`Dynamics`
``teacher_student_prune``     :class:`Run` and :class:`Pruning`
``..._prune_specialised``     :class:`Run` and :class:`SpecialisedPruning`
``..._mnist_train``           :class:`MnistTraining`
``..._mnist_prune``           :class:`MnistPruning`
============================  ==========================================================

:class:`TeacherStudent` is the whole section (every key, for notebooks and checks).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, kw_only=True)
class Size:
    """One teacher-student size and training time (an item of ``teacher_student.settings``).

    Attributes
    ----------
    M, K
        Teacher and student hidden units (K a multiple of M, checked by the schema).
    t_max
        Training time in units of N steps.
    """

    M: int
    K: int
    t_max: float


@dataclass(frozen=True, kw_only=True)
class Run(Size):
    """A size at one noise level: what one training (or pruning) job is about.

    Attributes
    ----------
    sigma
        Standard deviation of the teacher's output noise (0 for the ideal specialised student).
    """

    sigma: float


@dataclass(frozen=True, kw_only=True)
class Dynamics:
    """What training the students reads: the keys of ``teacher_student`` for online SGD and the ODE.

    Attributes
    ----------
    N
        Input dimension.
    eta
        SGD learning rate of both layers.
    v_star
        Second-layer weight of every teacher unit.
    w_init_std, v_init_std
        Standard deviations of the initial student's first- and second-layer weights.
    replicas
        Online-SGD runs per setting and noise level.
    record_points
        Log-spaced times at which eps_g(t) is recorded.
    ode_rtol
        Relative tolerance of the ODE integrator.
    """

    N: int
    eta: float
    v_star: float
    w_init_std: float
    v_init_std: float
    replicas: int
    record_points: int
    ode_rtol: float


@dataclass(frozen=True, kw_only=True)
class Pruning:
    """Pruning of the teacher-student students (``teacher_student.pruning``).

    Attributes
    ----------
    masks
        Draws averaged for random node, DPP node and random edge pruning.
    dpp_jitter
        Relative jitter of the DPP kernel's diagonal.
    heatmap_fraction
        Fraction of units kept for the heat maps of the pruned Q and R.
    """

    masks: int
    dpp_jitter: float
    heatmap_fraction: float


@dataclass(frozen=True, kw_only=True)
class SpecialisedPruning:
    """What pruning the ideal specialised student reads: its input dimension, the teacher's
    second-layer weight, and the pruning."""

    N: int
    v_star: float
    pruning: Pruning


@dataclass(frozen=True, kw_only=True)
class MnistTraining:
    """What training the MNIST networks reads (keys of ``teacher_student.mnist``).

    Attributes
    ----------
    seeds
        Networks trained, one ensemble.
    hidden
        Hidden widths of the sigmoid MLP 784 -> hidden -> 10; the first is pruned.
    n_train
        Training images per network (a random subset of the 60,000, its own per network).
    input_scaling
        ``unit_interval`` or ``standardise`` (:func:`prunephase.mnist.inputs`).
    lr, momentum
        SGD with momentum on the mean cross-entropy.
    batch_size, epochs
        Mini-batches and length.
    """

    seeds: int
    hidden: tuple[int, ...]
    n_train: int
    input_scaling: str
    lr: float
    momentum: float
    batch_size: int
    epochs: int


@dataclass(frozen=True, kw_only=True)
class MnistPruning:
    """What pruning one MNIST network reads (keys of ``teacher_student.mnist``).

    Attributes
    ----------
    input_scaling
        As in training (the fit and test images are scaled the same way).
    fit_samples
        Training images for the DPP kernel and the reweighting fits: the first ones of the
        network's training-subset order.
    kept_percent
        Percentages of first-layer parameters kept.
    draws
        Draws averaged for random node, DPP node and random edge pruning.
    ridge
        Relative ridge of the edge-reweighting regression.
    dpp_jitter
        Relative jitter of the DPP kernel's diagonal.
    """

    input_scaling: str
    fit_samples: int
    kept_percent: tuple[float, ...]
    draws: int
    ridge: float
    dpp_jitter: float


@dataclass(frozen=True, kw_only=True)
class Mnist(MnistTraining, MnistPruning):
    """The whole ``teacher_student.mnist`` section: training and pruning keys."""


@dataclass(frozen=True, kw_only=True)
class TeacherStudent(Dynamics):
    """The whole ``teacher_student`` section: the dynamics keys, the grid of runs, the pruning and
    the MNIST part."""

    sigmas: tuple[float, ...]
    settings: tuple[Size, ...]
    pruning: Pruning
    mnist: Mnist
