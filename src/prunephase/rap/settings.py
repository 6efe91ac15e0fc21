"""Typed settings of paper B, built from the validated ``rap`` section of the config.

One frozen, keyword-only dataclass per config section; field names are the config keys, and the
values and their defaults live in the schema only (:func:`prunephase.core.config.settings` builds
them and reports a field without a key, or a key without a field, as a bug). A job gets only the
keys it uses, so it builds the sections it needs; :class:`Rap` is the whole section.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, kw_only=True)
class BP:
    """Belief propagation (``rap.bp``).

    Attributes
    ----------
    damping
        Weight of the old message in each update, in [0, 1).
    tol
        Converged when no cavity magnetisation moves by more than this in one iteration.
    max_iter
        Iterations allowed; a run that reaches it is reported as not converged.
    polarisation
        Strength of the polarised start (towards the planted ground state), in (0, 1].
    order_threshold
        A fixed point whose order parameter q exceeds this counts as ordered.
    """

    damping: float
    tol: float
    max_iter: int
    polarisation: float
    order_threshold: float


@dataclass(frozen=True, kw_only=True)
class MC:
    """Glauber Monte Carlo quenches (``rap.mc``): sweeps to relax, sweeps sampled, and the batches
    of the batch-means error of the energy."""

    relax_sweeps: int
    sample_sweeps: int
    batches: int


@dataclass(frozen=True, kw_only=True)
class DilutionSweep:
    """The dilution sweeps of Fig. 3 (``rap.dilution_sweep``): diluted populations, dilutions."""

    layers: tuple[int, ...]
    q: tuple[float, ...]


@dataclass(frozen=True, kw_only=True)
class Degrees:
    """The degree histogram of Fig. 3a (``rap.degrees``): dilution and instances pooled."""

    q: float
    instances: int


@dataclass(frozen=True, kw_only=True)
class Critical:
    """The critical dilution of Fig. 4 (``rap.critical``).

    Attributes
    ----------
    p2, betas
        One q_c per (p2, beta).
    q_min, q_max
        The bisection bracket (q_min < q_max, checked by the schema).
    bisection_steps
        Bisection steps in ln(1 - q), for q_c and for the spinodal.
    """

    p2: tuple[float, ...]
    betas: tuple[float, ...]
    q_min: float
    q_max: float
    bisection_steps: int


@dataclass(frozen=True, kw_only=True)
class Annealing:
    """Simulated annealing of Fig. 5a (``rap.annealing``).

    Attributes
    ----------
    q
        Dilution of the diluted layer of the annealed instances (and of Fig. 5b).
    beta_start, beta_end, temperatures
        The ladder: ``temperatures`` equally spaced inverse temperatures (beta_start < beta_end,
        checked by the schema).
    sweeps_per_temperature
        Cooling rates, one annealing run each.
    instances
        Instances annealed.
    """

    q: float
    beta_start: float
    beta_end: float
    temperatures: int
    sweeps_per_temperature: tuple[int, ...]
    instances: int


@dataclass(frozen=True, kw_only=True)
class LowTemperature:
    """The low-temperature checks of Fig. 5b (``rap.low_temperature``)."""

    betas: tuple[float, ...]
    instances: int


@dataclass(frozen=True, kw_only=True)
class Activations:
    """Teacher-student ReLU networks N - N - N - 1 of Fig. 2 (``rap.activations``).

    Attributes
    ----------
    width
        N.
    train_samples, test_samples
        Inputs of each trial for training and for the measurements.
    epochs, batch_size
        Training length and mini-batch size.
    lr, betas, eps
        Adam.
    trials
        Independent (teacher, data, student) trials.
    """

    width: int
    train_samples: int
    test_samples: int
    epochs: int
    batch_size: int
    lr: float
    betas: tuple[float, float]
    eps: float
    trials: int


@dataclass(frozen=True, kw_only=True)
class Redundancy:
    """The MNIST supplement (``rap.redundancy``).

    Attributes
    ----------
    width, depth
        ReLU networks 784 -> width^depth -> 10.
    n_train
        Training images of each network.
    lr, betas, eps, batch_size, epochs
        Adam on mini-batches of the mean cross-entropy.
    runs
        Networks trained.
    draws
        Random removals per fraction.
    fractions
        Fractions of the connections of every layer removed.
    """

    width: int
    depth: int
    n_train: int
    lr: float
    betas: tuple[float, float]
    eps: float
    batch_size: int
    epochs: int
    runs: int
    draws: int
    fractions: tuple[float, ...]


@dataclass(frozen=True, kw_only=True)
class Rap:
    """The whole ``rap`` section.

    Attributes
    ----------
    n
        Layer width N of the RAP model.
    p1, p2
        Activation probabilities of hidden layers 1 and 2.
    diluted_layer
        Weight population (1, 2, 3) diluted in Figs. 4 and 5.
    beta
        Inverse temperature of the dilution sweep (Fig. 3).
    instances
        Disorder instances per point of Figs. 3 and 4.
    """

    n: int
    p1: float
    p2: float
    diluted_layer: int
    beta: float
    instances: int
    bp: BP
    mc: MC
    dilution_sweep: DilutionSweep
    degrees: Degrees
    critical: Critical
    annealing: Annealing
    low_temperature: LowTemperature
    activations: Activations
    redundancy: Redundancy
