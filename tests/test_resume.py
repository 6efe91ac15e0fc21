"""Resumability: a run killed (SIGKILL) in training or evaluation and restarted gives the outputs of
an uninterrupted run, bit for bit; a killed writer never leaves a file under its final name."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from conftest import REPO, TINY, mnist_dir, snakemake

from prunephase.core.io import atomic_path, read_provenance, write_parquet
from prunephase.dropout_phases.experiment import load_shard

SHARD = "results/dropout_phases/w16_d2/N1024"
TARGET = f"{SHARD}/per_mask.parquet"
LOGS = "results/logs/dropout_phases"


def test_a_killed_writer_leaves_no_file_under_the_final_name(tmp_path):
    final = tmp_path / "table.bin"
    writer = textwrap.dedent(
        f"""
        import sys, time
        from prunephase.core.io import atomic_path
        with atomic_path({str(final)!r}) as tmp, open(tmp, "wb") as fh:
            fh.write(b"x" * 1000); fh.flush()
            print("writing", flush=True)
            time.sleep(60)
        """
    )
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    job = subprocess.Popen([sys.executable, "-c", writer], env=env, stdout=subprocess.PIPE)
    assert job.stdout.readline() == b"writing\n"
    job.send_signal(signal.SIGKILL)
    job.wait(timeout=30)
    assert not final.exists()
    (partial,) = tmp_path.glob(".table.bin.*.part.bin")  # the temporary file, never renamed
    # the rerun of the job removes the left-over and writes the complete file
    with atomic_path(final) as tmp:
        tmp.write_bytes(b"complete")
    assert final.read_bytes() == b"complete" and not partial.exists()
    assert [p.name for p in tmp_path.iterdir()] == ["table.bin"]


def test_parquet_tables_carry_provenance(tmp_path):
    from prunephase import __version__

    frame = pd.DataFrame({"a": [1, 2], "b": [0.5, 1.5]})
    write_parquet(frame, tmp_path / "t.parquet", {"config": {"seed": 3}})
    write_parquet(frame, tmp_path / "u.parquet", {"config": {"seed": 3}})
    record = read_provenance(tmp_path / "t.parquet")
    assert record == {"version": __version__, "config": {"seed": 3}}
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "t.parquet"), frame)
    # no time stamp: the same table gives the same bytes
    assert (tmp_path / "t.parquet").read_bytes() == (tmp_path / "u.parquet").read_bytes()


def _kill_when(workdir: Path, ready, what: str) -> str:
    """Start the tiny run towards TARGET, SIGKILL its whole process group once ``ready()``."""
    cmd = [
        sys.executable, "-m", "snakemake", "--snakefile", str(REPO / "Snakefile"),
        "--directory", str(workdir), "--configfile", str(TINY), "--cores", "2", TARGET,
    ]  # fmt: skip
    env = {**os.environ, "PRUNEPHASE_MNIST_DIR": str(mnist_dir())}
    out = workdir / f"killed_in_{what}.txt"
    with open(out, "w") as fh:
        run = subprocess.Popen(
            cmd, cwd=REPO, env=env, stdout=fh, stderr=subprocess.STDOUT, start_new_session=True
        )
        deadline = time.monotonic() + 600
        while not ready():
            assert run.poll() is None, f"the run ended before {what}:\n{out.read_text()}"
            assert time.monotonic() < deadline, f"no {what} after 600 s"
            time.sleep(0.05)
        os.killpg(run.pid, signal.SIGKILL)  # snakemake and its jobs
        run.wait(timeout=60)
    return out.read_text()


def _log_has(path: Path, text: str):
    return lambda: path.is_file() and text in path.read_text(errors="replace")


@pytest.mark.workflow
def test_killed_run_resumes_to_identical_outputs(tmp_path, tiny_run):
    """Kill the run during train_shard, restart and kill it during evaluate_shard, restart: the
    shard and its evaluation equal those of the uninterrupted tiny run (same config, same CPU)."""
    train_log = tmp_path / LOGS / "train_w16_d2_N1024.log"
    _kill_when(tmp_path, _log_has(train_log, "N=1024:"), "training")  # tqdm's bar: it trains
    assert not (tmp_path / SHARD / "models.pt").exists()

    snakemake("--unlock", "--directory", str(tmp_path), "--configfile", str(TINY))
    eval_log = tmp_path / LOGS / "evaluate_w16_d2_N1024.log"
    _kill_when(tmp_path, eval_log.is_file, "evaluation")
    assert (tmp_path / SHARD / "models.pt").exists() and not (tmp_path / TARGET).exists()

    snakemake("--unlock", "--directory", str(tmp_path), "--configfile", str(TINY))
    result = snakemake(TARGET, "--cores", "2", "--directory", str(tmp_path), "--configfile",
                       str(TINY))  # fmt: skip
    output = result.stdout + result.stderr
    assert "evaluate_shard" in output and "train_shard" not in output.split("Job stats:")[1]

    # the evaluation table: the same bytes as the uninterrupted run's
    assert (tmp_path / TARGET).read_bytes() == (tiny_run / TARGET).read_bytes()
    assert read_provenance(tmp_path / TARGET)["config"]["dropout_phases"]["p_eval"] == [0, 0.5, 0.9]
    # the shard: every tensor equal (the file also holds the training time, which differs)
    resumed, reference = (load_shard(d / SHARD / "models.pt") for d in (tmp_path, tiny_run))
    for fraction, params in reference["snapshots"].items():
        for key in ("weights", "biases"):
            for a, b in zip(resumed["snapshots"][fraction][key], params[key], strict=True):
                assert torch.equal(a, b)
    assert np.array_equal(resumed["train_loss"], reference["train_loss"])
    assert resumed["seeds"] == reference["seeds"]
    assert not list((tmp_path / "results").rglob("*.part*"))  # no left-over temporaries
