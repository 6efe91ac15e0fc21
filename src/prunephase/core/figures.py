"""Saving figures: every format a path asks for, written atomically."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import matplotlib.figure

from prunephase.core.io import atomic_path


def save_figure(fig: matplotlib.figure.Figure, paths: str | os.PathLike | Sequence) -> None:
    """Save ``fig`` to every path (the format follows each suffix, e.g. ``.png`` and ``.pdf``)."""
    if isinstance(paths, str | os.PathLike):
        paths = [paths]
    for path in paths:
        with atomic_path(path) as tmp:
            fig.savefig(tmp, format=Path(path).suffix.lstrip("."), dpi=200, bbox_inches="tight")
