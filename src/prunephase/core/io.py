"""Atomic file output: a file either appears complete under its final name or not at all."""

from __future__ import annotations

import contextlib
import glob
import json
import os
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

#: the key of the provenance record in a parquet file's schema metadata
PROVENANCE_KEY = b"prunephase"


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; move it onto ``path`` only if the block succeeds.

    The temporary file lives in the same directory, so the final ``os.replace`` is atomic on POSIX
    file systems: a reader (or a resumed workflow) never sees a half-written file under the final
    name, even if the process is killed.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    prefix, suffix = f".{path.name}.", f".part{path.suffix}"
    # A killed writer leaves its temporary file behind; the rerun of the job that owns ``path``
    # (one job per output in the workflow) removes it. Concurrent writers of one path would race.
    for stale in path.parent.glob(f"{glob.escape(prefix)}*{glob.escape(suffix)}"):
        stale.unlink(missing_ok=True)
    # keep the suffix: some writers (papermill, matplotlib) choose the format by it
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=prefix, suffix=suffix)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        with open(tmp_path, "rb") as fh:
            os.fsync(fh.fileno())
        # mkstemp creates the file private (0600); give it the mode a plain open() would.
        os.chmod(tmp_path, 0o666 & ~_umask())
        os.replace(tmp_path, path)
    finally:
        tmp_path.unlink(missing_ok=True)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_parquet(
    frame: pd.DataFrame, path: str | os.PathLike, provenance: Mapping[str, Any] | None = None
) -> None:
    """Write ``frame`` to ``path`` as parquet, atomically, with a provenance record.

    The record (JSON in the schema metadata under :data:`PROVENANCE_KEY`, read back by
    :func:`read_provenance`) holds the package version and the items of ``provenance`` (e.g. the
    config values that made the table). It holds no time stamp: the same inputs give the same bytes.
    """
    from prunephase import __version__

    record = {"version": __version__, **(provenance or {})}
    table = pa.Table.from_pandas(frame, preserve_index=False)
    metadata = {**(table.schema.metadata or {}), PROVENANCE_KEY: json.dumps(record, sort_keys=True)}
    with atomic_path(path) as tmp:
        pq.write_table(table.replace_schema_metadata(metadata), tmp)


def read_provenance(path: str | os.PathLike) -> dict[str, Any]:
    """The provenance record :func:`write_parquet` stored in a parquet file ({} if none)."""
    metadata = pq.read_schema(path).metadata or {}
    return json.loads(metadata[PROVENANCE_KEY]) if PROVENANCE_KEY in metadata else {}


def read_parquet(path: str | os.PathLike, required: list[str] | None = None) -> pd.DataFrame:
    """Read a parquet table and check that it has the ``required`` columns.

    Raises
    ------
    ValueError
        If a required column is missing; the message names the file and the columns.
    """
    frame = pd.read_parquet(path)
    missing = [c for c in (required or []) if c not in frame.columns]
    if missing:
        raise ValueError(f"{path}: missing column(s) {missing}; found {list(frame.columns)}")
    return frame
