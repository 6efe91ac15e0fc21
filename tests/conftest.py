"""Shared fixtures. Tests import the package from this checkout's src/ and read MNIST offline."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))


def mnist_dir() -> Path | None:
    """The verified MNIST copy: $PRUNEPHASE_MNIST_DIR, else the project's shared folder."""
    candidates = [os.environ.get("PRUNEPHASE_MNIST_DIR"), REPO.parent / "shared" / "data" / "mnist"]
    for candidate in candidates:
        if candidate and (Path(candidate) / "train-images-idx3-ubyte.gz").is_file():
            return Path(candidate)
    return None


@pytest.fixture(scope="session")
def mnist_path() -> Path:
    path = mnist_dir()
    if path is None:
        pytest.fail("MNIST files not found: set PRUNEPHASE_MNIST_DIR (tests never download)")
    return path


@pytest.fixture(scope="session")
def mnist(mnist_path):
    from prunephase.data import locate_mnist, read_mnist

    return read_mnist(locate_mnist([mnist_path], download=False))
