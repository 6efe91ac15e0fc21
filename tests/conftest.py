"""Shared fixtures. Tests import the package from this checkout's src/ and read MNIST offline."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))
#: the tiny configuration of the whole workflow (every rule and notebook, small)
TINY = REPO / "tests" / "configs" / "tiny.yaml"


def mnist_dir() -> Path | None:
    """The verified MNIST copy: $PRUNEPHASE_MNIST_DIR, else resources/mnist of this checkout (where
    the workflow downloads it), else the development machines' copy beside the checkout."""
    candidates = [
        os.environ.get("PRUNEPHASE_MNIST_DIR"),
        REPO / "resources" / "mnist",
        REPO.parent / "shared" / "data" / "mnist",
    ]
    for candidate in candidates:
        if candidate and (Path(candidate) / "train-images-idx3-ubyte.gz").is_file():
            return Path(candidate)
    return None


@pytest.fixture(scope="session")
def mnist_path() -> Path:
    path = mnist_dir()
    if path is None:
        pytest.fail(
            "MNIST files not found: set PRUNEPHASE_MNIST_DIR, or run the workflow once to download "
            "them into resources/mnist (tests never download)"
        )
    return path


@pytest.fixture(scope="session")
def mnist(mnist_path):
    from prunephase.mnist import locate_mnist, read_mnist

    return read_mnist(locate_mnist([mnist_path], download=False, mirrors=()))


def snakemake(*args, cwd=REPO, env_extra=None, check=True) -> subprocess.CompletedProcess:
    """Run this checkout's workflow with the verified MNIST copy; fail with its output."""
    env = {**os.environ, "PRUNEPHASE_MNIST_DIR": str(mnist_dir()), **(env_extra or {})}
    cmd = [sys.executable, "-m", "snakemake", "--snakefile", str(REPO / "Snakefile"), *args]
    result = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=1500)
    if check and result.returncode != 0:
        raise AssertionError(
            f"{' '.join(cmd)} failed:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
        )
    return result


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory) -> Path:
    """The working directory of one end-to-end run of the whole workflow with the tiny config."""
    workdir = tmp_path_factory.mktemp("tiny")
    snakemake("--cores", "2", "--directory", str(workdir), "--configfile", str(TINY))
    return workdir
