"""The machine a job runs on: GPU placement for concurrent jobs, and the CPU allocator settings.

GPU placement: one lock file per device.

With ``snakemake --resources gpu=K`` Snakemake runs up to K GPU jobs at once but does not tell
them which device to use, so every job would take CUDA's first device. :func:`claim_gpus` gives
each job devices that no other job of the machine holds: it takes an exclusive ``flock`` on
``<lock dir>/gpu-<id>.lock`` for a free device and narrows ``CUDA_VISIBLE_DEVICES`` to the claimed
ones. The kernel drops a ``flock`` when its process ends, however it ends (SIGKILL included), so a
killed job never keeps a device.

The devices are those of ``CUDA_VISIBLE_DEVICES`` when it is set (indices, ``GPU-``/``MIG-``
UUIDs: whatever the user or a scheduler gave), else every NVIDIA GPU the driver lists. Without
any (a CPU-only machine) claiming is a no-op. Under SLURM the lock directory is private to the
SLURM job: separate jobs hold separate allocations (and may each see their GPU as ``0``), while
the jobs of one Snakemake run inside one allocation share it.

CUDA reads ``CUDA_VISIBLE_DEVICES`` once, when torch initialises it: claim before any CUDA call.
"""

from __future__ import annotations

import fcntl
import logging
import os
import re
import sys
import tempfile
import time
from pathlib import Path

log = logging.getLogger("prunephase")

#: the directory of the lock files; default: :func:`default_lock_dir`
LOCK_DIR_ENV = "PRUNEPHASE_GPU_LOCK_DIR"
#: the driver's list of GPUs (one directory per device) on Linux
NVIDIA_PROC = Path("/proc/driver/nvidia/gpus")

# open lock files of this process's claims: a lock lives as long as its file descriptor
_held: dict[str, int] = {}

#: glibc's malloc returns every freed block above its mmap threshold (at most 32 MB by default) to
#: the operating system and page-faults it back on the next allocation. A training step allocates
#: several 10-200 MB tensors (activations, gradients), so on the CPU that costs about a third of the
#: matrix-product time of a 200-model shard (one core: 55 vs 82 GFLOP/s). These thresholds keep
#: such blocks in the heap. They act only when set before the process starts: the workflow sets
#: them for its jobs (rules/common.smk), the benchmark re-executes itself with them.
CPU_ALLOCATOR_ENV = {"MALLOC_MMAP_THRESHOLD_": str(2**32), "MALLOC_TRIM_THRESHOLD_": str(2**36)}


def visible_devices(environ: dict[str, str] | None = None) -> list[str]:
    """The GPUs a job may use: the entries of ``CUDA_VISIBLE_DEVICES``, else the driver's GPUs.

    Returns device identifiers as CUDA accepts them in ``CUDA_VISIBLE_DEVICES`` (``"0"``,
    ``"GPU-8d1e..."``); an empty list on a machine without NVIDIA GPUs or when the variable hides
    every device (empty, or starting with ``-1``).
    """
    environ = os.environ if environ is None else environ
    value = environ.get("CUDA_VISIBLE_DEVICES")
    if value is not None:
        devices = [d.strip() for d in value.split(",") if d.strip()]
        # CUDA stops at the first invalid entry; "-1" is the usual way to hide every device
        return [] if devices[:1] == ["-1"] else devices
    count = len(list(NVIDIA_PROC.iterdir())) if NVIDIA_PROC.is_dir() else 0
    return [str(i) for i in range(count)]


def default_lock_dir(environ: dict[str, str] | None = None) -> Path:
    """``$PRUNEPHASE_GPU_LOCK_DIR``, else one per user (and SLURM job) in the temp directory."""
    environ = os.environ if environ is None else environ
    if environ.get(LOCK_DIR_ENV):
        return Path(environ[LOCK_DIR_ENV])
    name = f"prunephase-gpu-slots-{os.getuid()}"
    if environ.get("SLURM_JOB_ID"):
        name += f"-slurm{environ['SLURM_JOB_ID']}"
    return Path(tempfile.gettempdir()) / name


def _try_lock(lock_dir: Path, device: str) -> int | None:
    """A file descriptor holding the exclusive lock of ``device``, or None if another holds it."""
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", device)
    fd = os.open(lock_dir / f"gpu-{safe}.lock", os.O_RDWR | os.O_CREAT, 0o666)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    os.ftruncate(fd, 0)
    os.write(fd, f"{os.getpid()}\n".encode())  # who holds it, for a curious user
    return fd


def claim_gpus(
    count: int = 1,
    lock_dir: str | os.PathLike | None = None,
    poll_seconds: float = 1.0,
    timeout_seconds: float | None = None,
) -> list[str]:
    """Claim ``count`` devices no other job holds and restrict this process to them.

    Sets ``CUDA_VISIBLE_DEVICES`` to the claimed devices (so torch numbers them from 0) and keeps
    their locks until the process exits. Waits (logging once) while every device is held.

    Parameters
    ----------
    count
        Devices the job needs (its ``gpu`` resource); 0 claims nothing.
    lock_dir
        Where the lock files live; default :func:`default_lock_dir`. Every job that shares the
        devices must use the same directory.
    poll_seconds
        Interval between attempts while every device is held.
    timeout_seconds
        Give up after this long (``TimeoutError``); None waits for ever.

    Returns
    -------
    list of str
        The claimed device identifiers, as they were in the visible list; empty when nothing was
        claimed (``count`` 0, no GPU visible).

    Raises
    ------
    ValueError
        If more devices are asked for than are visible.
    RuntimeError
        If CUDA is already initialised in this process (narrowing the devices would not act).
    """
    devices = visible_devices()
    if count <= 0 or not devices:
        return []
    if count > len(devices):
        raise ValueError(f"a job asks for {count} GPUs, but only {devices} are visible")
    torch = sys.modules.get("torch")
    if torch is not None and torch.cuda.is_initialized():
        raise RuntimeError("claim_gpus must run before CUDA is initialised in this process")
    lock_dir = Path(lock_dir) if lock_dir is not None else default_lock_dir()
    lock_dir.mkdir(parents=True, exist_ok=True)
    start = time.monotonic()
    waiting = False
    while True:
        claimed: dict[str, int] = {}
        for device in devices:
            if device in _held:
                claimed[device] = _held[device]
            elif (fd := _try_lock(lock_dir, device)) is not None:
                claimed[device] = fd
            if len(claimed) == count:
                break
        if len(claimed) == count:
            break
        for device, fd in claimed.items():  # all or nothing: do not sit on part of a claim
            if device not in _held:
                os.close(fd)
        if timeout_seconds is not None and time.monotonic() - start > timeout_seconds:
            raise TimeoutError(f"no {count} free GPU(s) among {devices} in {lock_dir}")
        if not waiting:
            log.info("every GPU of %s is held by another job; waiting", devices)
            waiting = True
        time.sleep(poll_seconds)
    _held.update(claimed)
    os.environ["CUDA_VISIBLE_DEVICES"] = ",".join(claimed)
    log.info("claimed GPU(s) %s (lock directory %s)", list(claimed), lock_dir)
    return list(claimed)
