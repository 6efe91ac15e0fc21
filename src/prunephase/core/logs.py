"""Logging for workflow jobs: output into the rule's log file, a one-line error on the console."""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import traceback
from collections.abc import Iterator


@contextlib.contextmanager
def job_log(path: str | os.PathLike) -> Iterator[logging.Logger]:
    """Send stdout, stderr and the ``prunephase`` logger to ``path`` for the duration of a job.

    On an exception the traceback goes to the log, a one-line ``ERROR:`` message to the console's
    stderr (so that Snakemake's output names the problem), and the process exits with status 1.
    """
    console = sys.stderr
    with open(path, "w", buffering=1) as fh:
        logger = logging.getLogger("prunephase")
        handler = logging.StreamHandler(fh)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        try:
            with contextlib.redirect_stdout(fh), contextlib.redirect_stderr(fh):
                yield logger
        except Exception as err:  # noqa: BLE001 - every failure must be reported, then re-raised
            traceback.print_exc(file=fh)
            print(f"ERROR: {type(err).__name__}: {err}", file=console)
            raise SystemExit(1) from err
        finally:
            logger.removeHandler(handler)
