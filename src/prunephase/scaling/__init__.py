"""Finite-size scaling: collapse ansatzes, the chi2_nu of a collapse, fits with contour and
bootstrap errors, chi2 maps, and the Binder cumulant. Generic: it knows nothing of networks; paper
A's criticality module applies it. See docs/scaling.md.

Modules: ``ansatz`` (BKT-like and power-law scaling variables), ``data`` (points, per-run values),
``quality`` (the chi2_nu of a collapse), ``fit`` (global search, contour and bootstrap errors,
chi2 maps), ``binder`` (the Binder cumulant), ``synthetic`` (data with known exponents, for tests
and the recovery benchmark).
"""

from .ansatz import ANSATZES, Ansatz, BKTAnsatz, PowerLawAnsatz, make_ansatz
from .binder import binder_cumulant
from .data import CollapseData
from .fit import (
    CONTOUR_FACTOR,
    CollapseFit,
    bootstrap_collapse,
    chi2_map,
    chi2_nu,
    fit_collapse,
    scaled_points,
)
from .quality import collapse_chi2
from .synthetic import loss_like_scaling_function, recovery_study, synthetic_runs

__all__ = [
    "ANSATZES",
    "CONTOUR_FACTOR",
    "Ansatz",
    "BKTAnsatz",
    "CollapseData",
    "CollapseFit",
    "PowerLawAnsatz",
    "binder_cumulant",
    "bootstrap_collapse",
    "chi2_map",
    "chi2_nu",
    "collapse_chi2",
    "fit_collapse",
    "loss_like_scaling_function",
    "make_ansatz",
    "recovery_study",
    "scaled_points",
    "synthetic_runs",
]
