"""GPU placement (prunephase.core.devices), simulated on the CPU with fake device lists."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest
from conftest import REPO

from prunephase.core import devices

# A job: claim, report the devices it got, hold them until told to go (a file appears).
HOLDER = textwrap.dedent(
    """
    import os, pathlib, sys, time
    from prunephase.core.devices import claim_gpus
    got = claim_gpus(int(sys.argv[1]), lock_dir=sys.argv[2], poll_seconds=0.05,
                     timeout_seconds=float(sys.argv[3]))
    print(",".join(got), os.environ["CUDA_VISIBLE_DEVICES"], flush=True)
    go = pathlib.Path(sys.argv[2]) / "go"
    while not go.exists():
        time.sleep(0.02)
    """
)


def start_job(lock_dir, visible, count=1, timeout=30.0) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(REPO / "src"), "CUDA_VISIBLE_DEVICES": visible}
    env.pop("SLURM_JOB_ID", None)
    return subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(count), str(lock_dir), str(timeout)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def claimed_line(job: subprocess.Popen) -> tuple[list[str], str]:
    line = job.stdout.readline().split()
    assert line, job.stderr.read()
    return line[0].split(","), line[1]


def test_visible_devices_follow_cuda_visible_devices():
    assert devices.visible_devices({"CUDA_VISIBLE_DEVICES": "2,3"}) == ["2", "3"]
    uuids = {"CUDA_VISIBLE_DEVICES": "GPU-a1, MIG-b2"}
    assert devices.visible_devices(uuids) == ["GPU-a1", "MIG-b2"]
    assert devices.visible_devices({"CUDA_VISIBLE_DEVICES": ""}) == []
    assert devices.visible_devices({"CUDA_VISIBLE_DEVICES": "-1"}) == []


def test_cpu_only_machine_is_a_no_op(monkeypatch, tmp_path):
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    monkeypatch.setattr(devices, "NVIDIA_PROC", tmp_path / "no-driver")
    assert devices.visible_devices() == []
    assert devices.claim_gpus(1, lock_dir=tmp_path / "locks") == []
    assert "CUDA_VISIBLE_DEVICES" not in os.environ and not (tmp_path / "locks").exists()


def test_zero_gpus_asked_claims_nothing(monkeypatch, tmp_path):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "0,1")
    assert devices.claim_gpus(0, lock_dir=tmp_path) == []
    assert os.environ["CUDA_VISIBLE_DEVICES"] == "0,1"


def test_driver_gpus_are_counted_without_cuda(monkeypatch, tmp_path):
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    for bus in ["0000:17:00.0", "0000:65:00.0"]:
        (tmp_path / bus).mkdir()
    monkeypatch.setattr(devices, "NVIDIA_PROC", tmp_path)
    assert devices.visible_devices() == ["0", "1"]


def test_lock_dir_is_private_to_a_slurm_job(tmp_path):
    assert devices.default_lock_dir({"PRUNEPHASE_GPU_LOCK_DIR": str(tmp_path)}) == tmp_path
    plain = devices.default_lock_dir({})
    one, two = (devices.default_lock_dir({"SLURM_JOB_ID": j}) for j in ("11", "12"))
    assert len({plain, one, two}) == 3 and one.name.endswith("-slurm11")


def test_too_many_gpus_asked_is_an_error(monkeypatch, tmp_path):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "0,1")
    with pytest.raises(ValueError, match="asks for 3 GPUs"):
        devices.claim_gpus(3, lock_dir=tmp_path)


def test_concurrent_jobs_get_distinct_devices(tmp_path):
    """K jobs at once on K simulated devices (as with --resources gpu=K): one device each, an
    existing CUDA_VISIBLE_DEVICES honoured (ids taken from it), and job K+1 waits for a free one."""
    visible = "3,5,GPU-7f"
    jobs = [start_job(tmp_path, visible) for _ in range(3)]
    try:
        got = [claimed_line(job) for job in jobs]
        assert sorted(ids[0] for ids, _ in got) == ["3", "5", "GPU-7f"]
        assert all(env == ids[0] for ids, env in got)  # the job sees only its device
        late = start_job(tmp_path, visible, timeout=1.0)
        assert late.wait(timeout=60) != 0 and "TimeoutError" in late.stderr.read()
    finally:
        (tmp_path / "go").touch()
        for job in jobs:
            job.wait(timeout=60)
    assert [job.returncode for job in jobs] == [0, 0, 0]


def test_a_two_gpu_job_claims_two_free_devices(tmp_path):
    first = start_job(tmp_path, "0,1,2")
    try:
        (one,), _ = claimed_line(first)
        second = start_job(tmp_path, "0,1,2", count=2)
        pair, env = claimed_line(second)
        assert sorted(pair) == sorted({"0", "1", "2"} - {one}) and env == ",".join(pair)
    finally:
        (tmp_path / "go").touch()
        first.wait(timeout=60)
        second.wait(timeout=60)


def test_a_killed_job_releases_its_device(tmp_path):
    holder = start_job(tmp_path, "0")
    (held,), _ = claimed_line(holder)
    waiter = start_job(tmp_path, "0", timeout=60.0)
    time.sleep(0.5)
    assert waiter.poll() is None  # it waits while the only device is held
    holder.send_signal(signal.SIGKILL)
    holder.wait(timeout=60)
    (got,), _ = claimed_line(waiter)
    assert got == held == "0"
    (tmp_path / "go").touch()
    assert waiter.wait(timeout=60) == 0


def test_claim_refused_after_cuda_initialised(monkeypatch, tmp_path):
    class FakeCuda:
        @staticmethod
        def is_initialized():
            return True

    class FakeTorch:
        cuda = FakeCuda

    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "0")
    monkeypatch.setitem(sys.modules, "torch", FakeTorch)
    with pytest.raises(RuntimeError, match="before CUDA is initialised"):
        devices.claim_gpus(1, lock_dir=tmp_path)
