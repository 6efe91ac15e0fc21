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
``teacher_student_claims``    :class:`Size` of every setting and ``v_star``
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
    students
        Students per setting and noise level, each with its own teacher, initial weights and
        input stream.
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
    students: int
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
    normalise_rows
        Rescale every row of W to norm sqrt(N) before pruning, and prune the normalised student.
    importance
        ``signed`` (largest v) or ``absolute`` (largest |v|) for importance node pruning.
    edge_rounding
        ``up`` or ``half_even``: the rounding of the matched edge budget.
    """

    masks: int
    dpp_jitter: float
    heatmap_fraction: float
    normalise_rows: bool
    importance: str
    edge_rounding: str


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
    batch_size
        Images per step.
    max_epochs
        The most epochs a network trains.
    stop_train_accuracy
        A network is kept as it is after the first epoch at which its accuracy on its training
        images reaches this (1 or more: never before ``max_epochs``).
    """

    seeds: int
    hidden: tuple[int, ...]
    n_train: int
    input_scaling: str
    lr: float
    momentum: float
    batch_size: int
    max_epochs: int
    stop_train_accuracy: float


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
    budget
        ``joint`` (first two weight layers, the authors' budget) or ``first_layer``
        (:func:`~prunephase.teacher_student.pruning.mnist_budget`).
    kept_percent
        The budgets, in per cent (what they count depends on ``budget``).
    draws
        Draws averaged for random node, DPP node and random edge pruning.
    ridge
        Relative ridge of the edge-reweighting regression.
    dpp_kernel
        ``rbf`` or ``linear``: the DPP kernel of the first-layer pre-activations.
    rbf_gamma
        The RBF kernel's ``exp(-rbf_gamma mean (h_i - h_j)^2)``.
    dpp_jitter
        Jitter of the DPP kernel's diagonal, relative to its mean diagonal.
    """

    input_scaling: str
    fit_samples: int
    budget: str
    kept_percent: tuple[float, ...]
    draws: int
    ridge: float
    dpp_kernel: str
    rbf_gamma: float
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
