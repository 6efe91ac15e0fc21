"""Finite-size-scaling ansatzes: the map (p, N, y) -> (x, y_scaled) of a data collapse.

Every ansatz has the form ``y(p, N) = N**Delta * f(x(p, N))``: the collapsed ordinate is
``y_scaled = N**(-Delta) * y`` (so ``Delta > 0`` means that ``y`` grows with ``N`` at fixed
``x``) and only the scaling variable ``x`` differs between ansatzes. A parameter is either
*fixed* (a number) or *fitted* (a ``(low, high)`` pair of bounds), so the same object serves a
fit and a figure, and a config entry such as ``{N_0: 100, sigma: [0.2, 3.0]}`` maps onto it
directly.

To add an ansatz, subclass :class:`Ansatz`, set ``name`` and ``defaults`` (which must contain
``p_c`` and ``Delta``) and implement :meth:`Ansatz.scaling_variable`; register it in ``ANSATZES``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import ClassVar

import numpy as np
from numpy.typing import ArrayLike, NDArray

ParameterSpec = float | tuple[float, float]


class Ansatz:
    """Base class of a scaling ansatz ``y = N**Delta * f(x(p, N; theta))``.

    Parameters
    ----------
    **parameters
        Overrides of the class ``defaults``, by parameter name: a number fixes the parameter, a
        pair ``(low, high)`` (tuple or list) makes it fitted within these bounds.

    Attributes
    ----------
    fixed : dict[str, float]
        The fixed parameters and their values.
    bounds : dict[str, tuple[float, float]]
        The fitted parameters and their bounds, in the order of ``defaults``.
    """

    name: ClassVar[str]
    defaults: ClassVar[dict[str, ParameterSpec]]
    #: parameters that are scales (gridded geometrically in :func:`prunephase.scaling.grid_axes`)
    scales: ClassVar[frozenset[str]] = frozenset()

    def __init__(self, **parameters: ParameterSpec | Sequence[float]) -> None:
        unknown = sorted(set(parameters) - set(self.defaults))
        if unknown:
            raise ValueError(
                f"{self.name} ansatz: unknown parameter(s) {unknown}; known: {list(self.defaults)}"
            )
        self.fixed: dict[str, float] = {}
        self.bounds: dict[str, tuple[float, float]] = {}
        for key, default in self.defaults.items():
            spec = parameters.get(key, default)
            if isinstance(spec, int | float | np.integer | np.floating):
                value = float(spec)
                if not math.isfinite(value):
                    raise ValueError(f"{self.name} ansatz: {key} = {spec} is not finite")
                self.fixed[key] = value
            elif isinstance(spec, Sequence) and not isinstance(spec, str) and len(spec) == 2:
                low, high = (float(v) for v in spec)
                if not (math.isfinite(low) and math.isfinite(high) and low < high):
                    raise ValueError(
                        f"{self.name} ansatz: bounds of {key} must be finite with low < high, "
                        f"got {list(spec)}"
                    )
                self.bounds[key] = (low, high)
            else:
                raise ValueError(
                    f"{self.name} ansatz: {key} must be a number (fixed) or a pair "
                    f"[low, high] (fitted), got {spec!r}"
                )

    def replace(self, **parameters: ParameterSpec | Sequence[float]) -> Ansatz:
        """The same ansatz with some parameters fixed or bounded anew (e.g. ``p_c`` bounded to a
        fit window)."""
        current = {**self.fixed, **self.bounds}
        return type(self)(**(current | parameters))

    @property
    def fitted(self) -> tuple[str, ...]:
        """Names of the fitted parameters, in the order used by parameter vectors."""
        return tuple(self.bounds)

    def __repr__(self) -> str:
        spec = {**self.fixed, **self.bounds}
        args = ", ".join(f"{k}={spec[k]!r}" for k in self.defaults)
        return f"{type(self).__name__}({args})"

    def parameters(self, free: ArrayLike) -> dict[str, NDArray[np.float64] | float]:
        """All parameters from a vector (or a batch of vectors) of the fitted ones.

        Parameters
        ----------
        free : array_like, shape (k,) or (m, k)
            Values of the ``k = len(self.fitted)`` fitted parameters, one row per parameter set.

        Returns
        -------
        dict
            Every parameter by name: fixed ones as floats, fitted ones as arrays of shape ``()``
            for a single vector or ``(m, 1)`` for a batch (ready to broadcast against points).
        """
        free = np.asarray(free, dtype=float)
        if free.shape[-1:] != (len(self.bounds),):
            raise ValueError(
                f"{self.name} ansatz: expected {len(self.bounds)} fitted value(s) "
                f"{list(self.bounds)}, got shape {free.shape}"
            )
        values: dict[str, NDArray[np.float64] | float] = dict(self.fixed)
        for j, key in enumerate(self.bounds):
            values[key] = free[..., j, None] if free.ndim == 2 else free[j]
        return values

    def check_sizes(self, sizes: NDArray[np.float64]) -> None:
        """Raise ``ValueError`` if the ansatz is undefined for some size in ``sizes``."""

    def scaling_variable(
        self, p: NDArray[np.float64], size: NDArray[np.float64], theta: Mapping[str, ArrayLike]
    ) -> NDArray[np.float64]:
        """The scaling variable ``x(p, N)``; broadcasts ``theta`` (shape ``()`` or ``(m, 1)``)."""
        raise NotImplementedError

    def scale(
        self,
        p: NDArray[np.float64],
        size: NDArray[np.float64],
        y: NDArray[np.float64],
        dy: NDArray[np.float64],
        theta: Mapping[str, ArrayLike],
    ) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
        """Scaled coordinates ``(x, N**-Delta * y, N**-Delta * dy)`` of the points.

        Parameters
        ----------
        p, size, y, dy : ndarray, shape (n,)
            Control parameter, size ``N``, observable and its standard error per point.
        theta : mapping
            Every parameter by name (see :meth:`parameters`).

        Returns
        -------
        x, y_scaled, dy_scaled : ndarray, shape (n,) or (m, n)
        """
        x = self.scaling_variable(p, size, theta)
        factor = size ** -np.asarray(theta["Delta"], dtype=float)
        return x, factor * y, factor * dy


class BKTAnsatz(Ansatz):
    """BKT-like ansatz ``x = (p - p_c) * ln(N / N_0)**(1 / sigma)``, ``y = N**Delta f(x)``.

    It follows from a correlation length ``xi ~ exp(b / |p - p_c|**sigma)``: the collapse variable
    ``ln(N / N_0) / ln(xi)`` raised to ``1 / sigma``. ``N_0`` (the scale below which nothing is
    learnt) must be smaller than every ``N`` of the data.

    Defaults: ``p_c`` fitted in [0, 1], ``sigma`` fitted in [0.2, 3], ``N_0 = 100`` and
    ``Delta = 0`` fixed. ``Delta = 0`` because at the eumentia-dementia boundary the loss exponent
    ``alpha_CE`` changes sign, so ``<L_CE>(p_c, N)`` does not depend on ``N``.
    """

    name = "bkt"
    scales: ClassVar[frozenset[str]] = frozenset({"N_0"})
    defaults: ClassVar[dict[str, ParameterSpec]] = {
        "p_c": (0.0, 1.0),
        "sigma": (0.2, 3.0),
        "N_0": 100.0,
        "Delta": 0.0,
    }

    def check_sizes(self, sizes: NDArray[np.float64]) -> None:
        n_0 = self.bounds["N_0"] if "N_0" in self.bounds else (self.fixed["N_0"],) * 2
        if n_0[0] <= 0 or n_0[1] >= np.min(sizes):
            raise ValueError(
                f"bkt ansatz: N_0 (value or bounds {list(n_0)}) must lie in (0, min N = "
                f"{np.min(sizes):g})"
            )

    def scaling_variable(
        self, p: NDArray[np.float64], size: NDArray[np.float64], theta: Mapping[str, ArrayLike]
    ) -> NDArray[np.float64]:
        log_size = np.log(size / np.asarray(theta["N_0"]))
        return (p - np.asarray(theta["p_c"])) * log_size ** (1.0 / np.asarray(theta["sigma"]))


class PowerLawAnsatz(Ansatz):
    """Power-law (second-order) ansatz ``x = (p - p_c) * N**(1 / nu)``, ``y = N**Delta f(x)``.

    Defaults: ``p_c`` fitted in [0, 1], ``nu`` fitted in [0.2, 10], ``Delta = 0`` fixed.
    """

    name = "power_law"
    defaults: ClassVar[dict[str, ParameterSpec]] = {
        "p_c": (0.0, 1.0),
        "nu": (0.2, 10.0),
        "Delta": 0.0,
    }

    def scaling_variable(
        self, p: NDArray[np.float64], size: NDArray[np.float64], theta: Mapping[str, ArrayLike]
    ) -> NDArray[np.float64]:
        return (p - np.asarray(theta["p_c"])) * size ** (1.0 / np.asarray(theta["nu"]))


ANSATZES: dict[str, type[Ansatz]] = {cls.name: cls for cls in (BKTAnsatz, PowerLawAnsatz)}


def make_ansatz(name: str, **parameters: ParameterSpec | Sequence[float]) -> Ansatz:
    """Build an ansatz by its registered name (``"bkt"``, ``"power_law"``), e.g. from a config.

    Raises
    ------
    ValueError
        If the name or a parameter is unknown, or a parameter is neither a number nor a pair.
    """
    if name not in ANSATZES:
        raise ValueError(f"unknown scaling ansatz {name!r}; known: {sorted(ANSATZES)}")
    return ANSATZES[name](**parameters)
