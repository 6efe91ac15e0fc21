"""Typed settings of paper B, built from the validated ``rap`` section of the config.

One frozen, keyword-only dataclass per config section; field names are the config keys, and the
values and their defaults live in the schema only (:func:`prunephase.core.config.settings` builds
them and reports a field without a key, or a key without a field, as a bug). A job gets only the
keys it uses, so it builds the sections it needs; :class:`Rap` is the whole section.
"""

from __future__ import annotations

from dataclasses import dataclass

#: the prefactors of H that ``Model.prefactor`` names, as functions of the width N
PREFACTORS = {"1": lambda n: 1.0, "1/sqrt(N)": lambda n: n**-0.5, "1/N": lambda n: 1.0 / n}


@dataclass(frozen=True, kw_only=True)
class Model:
    """A reading of the model (``rap.model``, and each entry of ``rap.readings.models``).

    Attributes
    ----------
    construction
        How the active paths are drawn: ``network``, ``independent`` or ``iid``
        (:func:`prunephase.rap.instance.build_instance`).
    prefactor
        The factor in front of H: ``"1"``, ``"1/sqrt(N)"`` or ``"1/N"`` (N the width).
    xi
        The sign a path carries: ``input`` (its input unit's) or ``path`` (its own).
    """

    construction: str
    prefactor: str
    xi: str

    def coupling(self, n: int) -> float:
        """The prefactor of H at width ``n``: BP, Monte Carlo and the exact solution run at
        beta times it, and energies and free energies are multiplied by it."""
        return float(PREFACTORS[self.prefactor](n))


@dataclass(frozen=True, kw_only=True)
class Reading(Model):
    """A named reading with the inverse temperature of its dilution sweep
    (``rap.readings.models[i]``)."""

    name: str
    beta: float


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
        A fixed point whose order parameter q exceeds this counts as ordered (and a hidden unit
        whose weights have m_i^2 above it has its gauge symmetry broken).
    schedule
        ``sequential`` (slot by slot) or ``parallel`` (:func:`prunephase.rap.bp.bp_step`).
    """

    damping: float
    tol: float
    max_iter: int
    polarisation: float
    order_threshold: float
    schedule: str


@dataclass(frozen=True, kw_only=True)
class MC:
    """Glauber Monte Carlo quenches (``rap.mc``): independent chains per point (the error of the
    energy is their spread), and the sweeps each chain relaxes and samples."""

    chains: int
    relax_sweeps: int
    sample_sweeps: int


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
class FiniteSize:
    """The finite-size study of the transition (``rap.finite_size``).

    Attributes
    ----------
    n
        Widths N of the BP study.
    instances
        Instances per width.
    q_min
        Lower end of the bisections (the ordered branch must win there, else flagged); the upper
        end is ``critical.q_max``.
    bisection_steps
        Steps of each bisection in ln(1 - q).
    x
        The grid of N (1 - q) on which BP and the exact solution are tabulated at every width.
    exact_n
        Further widths with the exact solution only, on the same grid.
    """

    n: tuple[int, ...]
    instances: int
    q_min: float
    bisection_steps: int
    x: tuple[float, ...]
    exact_n: tuple[int, ...]


@dataclass(frozen=True, kw_only=True)
class Readings:
    """The readings of the model side by side (``rap.readings``).

    Attributes
    ----------
    models
        The readings, each a :class:`Reading`.
    n
        Widths: the degree distribution and the sweeps use the first, q_c is found at each.
    instances
        Instances of every point.
    q
        Dilutions of the sweeps (W1 and W2 in turn), BP and Monte Carlo.
    p2, betas, bisection_steps
        q_c (free-energy crossing) against beta for several p2, by bisection over
        [``critical.q_min``, ``critical.q_max``].
    max_iter
        BP iterations allowed in these runs (in place of ``bp.max_iter``).
    """

    models: tuple[Reading, ...]
    n: tuple[int, ...]
    instances: int
    q: tuple[float, ...]
    p2: tuple[float, ...]
    betas: tuple[float, ...]
    bisection_steps: int
    max_iter: int


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
    bias
        Whether teacher and student have biases.
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
    bias: bool
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
    model
        The reading of the model that the figures use.
    """

    n: int
    p1: float
    p2: float
    diluted_layer: int
    beta: float
    instances: int
    model: Model
    bp: BP
    mc: MC
    dilution_sweep: DilutionSweep
    degrees: Degrees
    critical: Critical
    finite_size: FiniteSize
    readings: Readings
    annealing: Annealing
    low_temperature: LowTemperature
    activations: Activations
    redundancy: Redundancy
