"""Synthetic per-run data that obey a scaling ansatz exactly, for tests and recovery studies."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from .ansatz import Ansatz
from .crossing import crossing_estimate
from .data import CollapseData
from .fit import fit_collapse, fit_in_window


def loss_like_scaling_function(
    u: NDArray[np.float64], level: float = 0.9, width: float = 0.15
) -> NDArray[np.float64]:
    """A smooth, increasing scaling function shaped like ``<L_CE>`` against ``p_eval``.

    ``f(u) = level * exp(asinh(u / width))``: equal to ``level`` at ``u = 0``, falling like
    ``1/|u|`` below (the loss falls with ``N``, eumentia) and growing like ``u`` above (the loss
    grows with ``N``, dementia).
    """
    return level * np.exp(np.arcsinh(u / width))


def synthetic_runs(
    ansatz: Ansatz,
    params: Mapping[str, float],
    p: ArrayLike,
    sizes: ArrayLike,
    *,
    n_runs: int = 3,
    relative_se: tuple[float, float] = (0.01, 0.05),
    run_correlation: float = 0.5,
    scaling_function: Callable[[NDArray[np.float64]], NDArray[np.float64]] = (
        loss_like_scaling_function
    ),
    seed: int | np.random.SeedSequence = 0,
) -> pd.DataFrame:
    """Per-run values ``y = N**Delta f(x / x_ref) * (1 + noise)`` on the grid ``p x sizes``.

    ``x`` is the ansatz's scaling variable at ``params`` and ``x_ref`` its value per unit
    ``p - p_c`` at the largest size, so that ``f`` sees ``u = x / x_ref = p - p_c`` there
    whatever the ansatz. The noise is Gaussian and multiplicative; its standard deviation over
    runs is ``sqrt(n_runs) * r(p)``, where ``r`` grows linearly from ``relative_se[0]`` at the
    smallest ``p`` to ``relative_se[1]`` at the largest, so the relative standard error of the
    mean over ``n_runs`` runs is ``r(p)``. A fraction ``run_correlation`` of the variance is
    shared by all ``p`` of one run (one trained network is evaluated at every ``p``).

    Returns
    -------
    DataFrame
        Columns ``p``, ``N``, ``run`` (0-based), ``value``, ``truth`` (the noiseless value).
    """
    p = np.asarray(p, dtype=float)
    sizes = np.asarray(sizes, dtype=float)
    theta = {**ansatz.fixed, **params}
    ansatz.check_sizes(sizes)
    unit = {**theta, "p_c": 0.0}
    x_ref = ansatz.scaling_variable(np.array([1.0]), sizes.max(keepdims=True), unit)
    rng = np.random.default_rng(seed)
    p_span = np.ptp(p) or 1.0
    relative = relative_se[0] + (relative_se[1] - relative_se[0]) * (p - p.min()) / p_span
    rows = []
    for size in sizes:
        x = ansatz.scaling_variable(p, np.full_like(p, size), theta)
        truth = size ** theta["Delta"] * scaling_function(x / x_ref)
        shared = rng.standard_normal((n_runs, 1))
        own = rng.standard_normal((n_runs, p.size))
        noise = np.sqrt(run_correlation) * shared + np.sqrt(1 - run_correlation) * own
        values = truth * (1.0 + np.sqrt(n_runs) * relative * noise)
        for run in range(n_runs):
            rows.append(pd.DataFrame({"p": p, "N": size, "run": run, "value": values[run]}))
            rows[-1]["truth"] = truth
    return pd.concat(rows, ignore_index=True)


def recovery_study(
    generator: Ansatz,
    truth: Mapping[str, float],
    fitters: Mapping[str, Ansatz],
    p: ArrayLike,
    sizes: ArrayLike,
    seeds: Sequence[int],
    *,
    n_bootstrap: int = 0,
    half_width: float | None = None,
    crossing_bootstrap: int = 200,
    n_se: float = 2.0,
    min_exponent: float = 0.0,
    **noise: Any,
) -> pd.DataFrame:
    """Fit synthetic data of known parameters, one realisation per seed, with every fitter.

    Parameters
    ----------
    generator : Ansatz
        Ansatz of the data (its fixed parameters are used).
    truth : mapping
        True values of the fitted parameters of ``generator``.
    fitters : mapping
        Ansatzes to fit, by a label (e.g. ``{"bkt": BKTAnsatz(), "power_law": PowerLawAnsatz()}``).
    p, sizes : array_like
        The grid of the data.
    seeds : sequence of int
        One realisation per seed (the seed of the data and of the fits).
    n_bootstrap : int
        Bootstrap resamples per fit (0: none).
    half_width : float, optional
        Fit only ``|p - p_cross| <= half_width``, ``p_cross`` the crossing of the size exponents
        of the realisation (:func:`prunephase.scaling.crossing.crossing_estimate`, with
        ``crossing_bootstrap``, ``n_se`` and ``min_exponent``), the way the workflow chooses its
        window; ``None`` fits every ``p``.
    **noise
        Passed to :func:`synthetic_runs` (``n_runs``, ``relative_se``, ``run_correlation``,
        ``scaling_function``).

    Returns
    -------
    DataFrame
        One row per (seed, fitter): ``seed``, ``fitter``, ``p_cross`` and ``p_cross_err`` (NaN
        without a window), and the keys of :meth:`CollapseFit.to_record`; for the fitter's
        parameters that are also in ``truth``, ``<name>_true``. A realisation without a crossing
        has only the first four.
    """
    rows = []
    for seed in seeds:
        runs = synthetic_runs(generator, truth, p, sizes, seed=seed, **noise)
        data = CollapseData.from_runs(runs["p"], runs["N"], runs["run"], runs["value"])
        p_cross = p_cross_err = float("nan")
        if half_width is not None:
            estimate = crossing_estimate(
                data, n_bootstrap=crossing_bootstrap, n_se=n_se, min_exponent=min_exponent,
                seed=seed,
            )  # fmt: skip
            p_cross, p_cross_err = estimate.p_cross, estimate.error
        for label, ansatz in fitters.items():
            row = {"seed": seed, "fitter": label, "p_cross": p_cross, "p_cross_err": p_cross_err}
            if half_width is None:
                fit = fit_collapse(data, ansatz, seed=seed, n_bootstrap=n_bootstrap)
            elif np.isfinite(p_cross):
                fit = fit_in_window(data, ansatz, p_cross, half_width, seed=seed,
                                    n_bootstrap=n_bootstrap)  # fmt: skip
            else:
                rows.append(row)
                continue
            record = fit.to_record()
            record.update({f"{k}_true": v for k, v in truth.items() if k in ansatz.bounds})
            rows.append(row | record)
    return pd.DataFrame(rows)
