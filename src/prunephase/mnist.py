"""MNIST from the four official IDX gzip files: locate or download, verify by MD5, read with numpy.

No torchvision: the IDX format is a magic number, the dimensions, and raw bytes, and its reader
is a few lines that also verify the published checksums. A folder that torchvision already filled
(``<root>/MNIST/raw/``) is found when ``<root>`` is searched.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import shutil
import urllib.request
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from prunephase.core.io import atomic_path

ENV_MNIST_DIR = "PRUNEPHASE_MNIST_DIR"

#: file name and published MD5 of each part (the checksums listed with the official files)
MNIST_FILES: dict[str, tuple[str, str]] = {
    "train_images": ("train-images-idx3-ubyte.gz", "f68b3c2dcbeaaa9fbdd348bbdeb94873"),
    "train_labels": ("train-labels-idx1-ubyte.gz", "d53e105ee54ea40749a09fcbcd1e9432"),
    "test_images": ("t10k-images-idx3-ubyte.gz", "9fb629c4189551a2d022fa330f9573f3"),
    "test_labels": ("t10k-labels-idx1-ubyte.gz", "ec29112dd5afa0611ce80d1b7f02629c"),
}
_EXPECTED_SHAPES = {
    "train_images": (60000, 28, 28),
    "train_labels": (60000,),
    "test_images": (10000, 28, 28),
    "test_labels": (10000,),
}


class DataError(RuntimeError):
    """A data file is missing, corrupt, or not what it claims to be."""


@dataclass(frozen=True)
class MNIST:
    """MNIST as stored: images uint8 (n, 28, 28) in [0, 255], labels int64 (n,) in 0..9."""

    train_images: np.ndarray
    train_labels: np.ndarray
    test_images: np.ndarray
    test_labels: np.ndarray


def md5sum(path: str | os.PathLike, chunk: int = 1 << 20) -> str:
    """Hex MD5 digest of a file's bytes."""
    digest = hashlib.md5()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read a (gzipped) IDX file of unsigned bytes into an array of its stored shape.

    Raises
    ------
    DataError
        If the magic number, the dimensions or the length of the data do not agree.
    """
    opener = gzip.open if str(path).endswith(".gz") else open
    try:
        with opener(path, "rb") as fh:
            raw = fh.read()
    except (OSError, EOFError) as err:
        raise DataError(f"{path}: cannot be read as an IDX file ({err})") from err
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:
        raise DataError(f"{path}: not an IDX file of unsigned bytes (magic {raw[:4].hex()})")
    ndim = raw[3]
    header = 4 + 4 * ndim
    shape = tuple(int(d) for d in np.frombuffer(raw[4:header], dtype=">u4"))
    data = np.frombuffer(raw, dtype=np.uint8, offset=header)
    if data.size != int(np.prod(shape)):
        raise DataError(f"{path}: header says shape {shape} but holds {data.size} bytes of data")
    return data.reshape(shape)


#: where torchvision's ``datasets.MNIST(root)`` keeps the files, relative to ``root``
TORCHVISION_LAYOUT = Path("MNIST") / "raw"


def search_dirs(configured: Sequence[str | os.PathLike]) -> list[Path]:
    """Directories searched for the MNIST files: ``$PRUNEPHASE_MNIST_DIR``, then ``configured``;
    each followed by its torchvision layout ``<dir>/MNIST/raw``."""
    dirs = [Path(d) for d in configured]
    if os.environ.get(ENV_MNIST_DIR):
        dirs.insert(0, Path(os.environ[ENV_MNIST_DIR]))
    return [path for d in dirs for path in (d, d / TORCHVISION_LAYOUT)]


def verify_md5(path: Path, expected: str) -> None:
    """Stop with a message naming the file and both checksums if ``path`` does not match."""
    actual = md5sum(path)
    if actual != expected:
        raise DataError(
            f"{path}: MD5 {actual} does not match the published checksum {expected}; the file is "
            "corrupt or not the official MNIST file. Replace it, or delete it to download it again."
        )


def _download(name: str, target: Path, mirrors: Sequence[str], timeout: float = 60.0) -> None:
    failures = []
    for mirror in mirrors:
        url = mirror.rstrip("/") + "/" + name
        try:
            with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310
                with atomic_path(target) as tmp, open(tmp, "wb") as out:
                    shutil.copyfileobj(response, out)
            return
        except OSError as err:
            failures.append(f"{url}: {err}")
    raise DataError(
        f"could not download {name} into {target.parent}:\n  "
        + "\n  ".join(failures)
        + f"\nPut the official file there, or point ${ENV_MNIST_DIR} (or data.mnist_dirs) at a "
        "directory that holds it."
    )


def locate_mnist(
    dirs: Sequence[str | os.PathLike], *, download: bool, mirrors: Sequence[str]
) -> dict[str, Path]:
    """Find (or download) the four MNIST files and verify each against its published MD5.

    Each file is taken from the first directory of :func:`search_dirs` that holds it; a file that is
    present but corrupt is an error (never silently replaced). A missing file is downloaded into
    the first directory when ``download`` is true.

    Returns
    -------
    dict
        ``{"train_images": path, "train_labels": ..., "test_images": ..., "test_labels": ...}``.
    """
    candidates = search_dirs(dirs)
    if not candidates:
        raise DataError("no directory given to look for the MNIST files in")
    found = {}
    for part, (name, md5) in MNIST_FILES.items():
        path = next((d / name for d in candidates if (d / name).is_file()), None)
        if path is None:
            if not download:
                where = ", ".join(str(d) for d in candidates[::2])
                raise DataError(
                    f"MNIST file {name} (MD5 {md5}) not found in {where} (nor in their "
                    f"{TORCHVISION_LAYOUT}/), and data.download is "
                    f"false. Set ${ENV_MNIST_DIR} or data.mnist_dirs to a directory that holds it."
                )
            path = candidates[0] / name
            _download(name, path, mirrors)
        verify_md5(path, md5)
        found[part] = path
    return found


def read_mnist(paths: dict[str, Path]) -> MNIST:
    """Read the four verified files into arrays and check their shapes and label range."""
    arrays = {}
    for part, path in paths.items():
        array = read_idx(path)
        if array.shape != _EXPECTED_SHAPES[part]:
            raise DataError(f"{path}: shape {array.shape}, expected {_EXPECTED_SHAPES[part]}")
        if part.endswith("labels"):
            if array.max() > 9:
                raise DataError(f"{path}: labels outside 0..9")
            array = array.astype(np.int64)
        arrays[part] = array
    return MNIST(**arrays)


def save_npz(mnist: MNIST, path: str | os.PathLike) -> None:
    """Store the arrays uncompressed (fast to load by every training job), atomically."""
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        np.savez(fh, **mnist.__dict__)


def load_npz(path: str | os.PathLike) -> MNIST:
    """Load the arrays written by :func:`save_npz`."""
    try:
        with np.load(path) as archive:
            return MNIST(**{part: archive[part] for part in MNIST_FILES})
    except (OSError, KeyError, ValueError, zipfile.BadZipFile) as err:
        raise DataError(
            f"{path}: not a readable MNIST archive ({err}); delete it to rebuild"
        ) from err


def flatten_inputs(
    images: np.ndarray, scaling: str = "standardise", reference: np.ndarray | None = None
) -> np.ndarray:
    """Turn uint8 images into float32 input vectors.

    Parameters
    ----------
    images
        uint8 array of shape (n, 28, 28), pixel values 0..255.
    scaling
        ``"unit_interval"``: pixels / 255. ``"standardise"``: pixels / 255, then minus the mean and
        over the standard deviation of ``reference`` / 255 (one scalar each, over all pixels).
    reference
        uint8 images that define the standardisation (the full training set); default
        ``images``.

    Returns
    -------
    np.ndarray
        float32 of shape (n, 784).
    """
    x = images.reshape(len(images), -1).astype(np.float32) / 255.0
    if scaling == "unit_interval":
        return x
    if scaling != "standardise":
        raise ValueError(f"unknown input scaling {scaling!r}")
    ref = x if reference is None else reference.reshape(len(reference), -1).astype(np.float64) / 255
    mean, std = float(ref.mean()), float(ref.std())
    return ((x - mean) / std).astype(np.float32)


def inputs(mnist: MNIST, split: str, scaling: str) -> tuple[np.ndarray, np.ndarray]:
    """Input vectors and labels of one split (``"train"`` or ``"test"``).

    Both splits are scaled with the statistics of the full training set (:func:`flatten_inputs`
    with ``reference=mnist.train_images``).

    Returns
    -------
    x, y
        float32 (n, 784) and int64 (n,).
    """
    if split not in ("train", "test"):
        raise ValueError(f"unknown split {split!r}; use 'train' or 'test'")
    images, labels = getattr(mnist, f"{split}_images"), getattr(mnist, f"{split}_labels")
    return flatten_inputs(images, scaling, reference=mnist.train_images), labels
