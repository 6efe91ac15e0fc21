"""Finite-size scaling: collapse ansatzes, the chi2_nu of a collapse, fits with contour and
bootstrap errors, chi2 maps, and the Binder cumulant. Generic: it knows nothing of networks; paper
A's criticality module applies it. See docs/scaling.md.

Modules: ``ansatz`` (BKT-like and power-law scaling variables), ``data`` (points, per-run values,
fit windows), ``quality`` (the chi2_nu of a collapse), ``crossing`` (where the size dependence
changes sign: the model-free estimate and the centre of a fit window), ``fit`` (global search,
errors from a fixed grid, bootstrap, chi2 maps, fits in a window), ``binder`` (the Binder
cumulant), ``synthetic`` (data with known exponents, for tests and the recovery benchmark).
"""

from .ansatz import ANSATZES, Ansatz, BKTAnsatz, PowerLawAnsatz, make_ansatz
from .binder import binder_cumulant, binder_over_runs
from .crossing import (
    Crossing,
    crossing_estimate,
    nearest_sign_change,
    sign_change,
    size_exponents,
)
from .data import CollapseData
from .fit import (
    CONTOUR_FACTOR,
    P_C_STEP,
    CollapseFit,
    bootstrap_collapse,
    chi2_map,
    chi2_nu,
    fit_collapse,
    fit_in_window,
    grid_axes,
    scaled_points,
    window_ansatz,
)
from .quality import collapse_chi2
from .synthetic import loss_like_scaling_function, recovery_study, synthetic_runs

__all__ = [
    "ANSATZES",
    "CONTOUR_FACTOR",
    "P_C_STEP",
    "Ansatz",
    "BKTAnsatz",
    "CollapseData",
    "CollapseFit",
    "Crossing",
    "PowerLawAnsatz",
    "binder_cumulant",
    "binder_over_runs",
    "bootstrap_collapse",
    "chi2_map",
    "chi2_nu",
    "collapse_chi2",
    "crossing_estimate",
    "fit_collapse",
    "fit_in_window",
    "grid_axes",
    "loss_like_scaling_function",
    "make_ansatz",
    "nearest_sign_change",
    "recovery_study",
    "scaled_points",
    "sign_change",
    "size_exponents",
    "synthetic_runs",
    "window_ansatz",
]
