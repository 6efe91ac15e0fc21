"""The SLURM profile against a real SLURM: a one-node cluster on this machine (Debian's packages,
installed when missing), the tiny configuration submitted through profiles/slurm."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pandas as pd
import pytest
import yaml
from conftest import REPO, TINY, mnist_dir
from slurm_cluster import LocalSlurm, install_with_apt

from prunephase.core.io import read_provenance
from prunephase.dropout_phases.experiment import load_shard

pytestmark = [pytest.mark.workflow, pytest.mark.slurm]

PROFILE = REPO / "profiles" / "slurm"
LOGS = "results/logs/dropout_phases"
# two shards (trained on the GPU partition, evaluated) and two table rules that travel as one job
TARGETS = [
    "results/dropout_phases/summary.parquet",
    "results/dropout_phases/binder.parquet",
]


@pytest.fixture(scope="module")
def slurm(tmp_path_factory):
    if os.geteuid() != 0:
        pytest.skip("a SLURM cluster of one's own needs root (slurmd runs the jobs as their users)")
    reason = install_with_apt()
    if reason:
        pytest.skip(reason)
    cluster = LocalSlurm(tmp_path_factory.mktemp("slurm"))
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()  # also when the start or a test failed


def run_through_profile(cluster: LocalSlurm, workdir, config) -> subprocess.CompletedProcess:
    cmd = [
        sys.executable, "-m", "snakemake", *TARGETS, "--snakefile", str(REPO / "Snakefile"),
        "--workflow-profile", str(PROFILE), "--directory", str(workdir),
        "--configfile", str(config),
        # this cluster has no accounting database: squeue (finished jobs stay for MinJobAge)
        "--slurm-status-command", "squeue", "--slurm-init-seconds-before-status-checks", "2",
        "--slurm-keep-successful-logs",
        # a 2-CPU node: one thread per job (the shards ask for 4), so that two jobs run at once
        "--max-threads", "1",
        # the tiny config computes on the CPU (device: cpu, so gpu=0); ask SLURM for a GPU anyway
        # to exercise the GPU partition and --gpus (the node's GPUs are names only)
        "--set-resources", "train_shard:gpu=1",
    ]  # fmt: skip
    env = {**cluster.env, "PRUNEPHASE_MNIST_DIR": str(mnist_dir())}
    return subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=1200)


def jobcomp_records(cluster: LocalSlurm) -> dict[str, dict[str, str]]:
    """SLURM's own record of every finished job (jobcomp/filetxt): {job id: fields}."""
    records = {}
    for line in cluster.jobcomp.read_text().splitlines():
        fields = dict(re.findall(r"(\w+)=(\S*)", line))
        records[fields["JobId"]] = fields
    return records


def test_tiny_config_runs_as_slurm_jobs(slurm, tmp_path, capsys):
    config = yaml.safe_load(TINY.read_text())
    config["dropout_phases"]["architectures"] = [{"width": 16, "depth": 2}]
    config["dropout_phases"]["n_train"] = [256, 512]
    (tmp_path / "slurm.yaml").write_text(yaml.safe_dump(config))
    workdir = tmp_path / "run"
    result = run_through_profile(slurm, workdir, tmp_path / "slurm.yaml")
    output = result.stdout + result.stderr
    assert result.returncode == 0, f"{output[-6000:]}\n{slurm.logs()}"

    # every job but the local rule mnist was submitted: one SLURM job per rule or group
    submitted = re.findall(r"has been submitted with SLURM jobid (\d+) \(log: (\S+)\)", output)
    records = jobcomp_records(slurm)
    with capsys.disabled():  # the CI log shows the jobs
        print("\nSLURM jobs of the tiny run through profiles/slurm:")
        for job_id, log in submitted:
            r = records.get(job_id, {})
            print(f"  SLURM job {job_id}: {r.get('JobState')} on partition {r.get('Partition')}, "
                  f"log {log.split('slurm_logs/')[-1]}")  # fmt: skip
    jobs: dict[str, list[str]] = {}
    for job_id, log in submitted:
        jobs.setdefault(log.split("slurm_logs/")[1].split("/")[0], []).append(job_id)
    assert {name: len(ids) for name, ids in jobs.items()} == {
        "rule_train_shard": 2,
        "rule_evaluate_shard": 2,
        "group_tables_binder_cumulants_summarise_dropout_phases": 1,
    }
    assert "Rule: mnist" in output and "mnist" not in " ".join(jobs)  # a local rule
    for name, ids in jobs.items():
        for job_id in ids:
            assert records[job_id]["JobState"] == "COMPLETED", records[job_id]
            expected = "gpu" if name == "rule_train_shard" else "cpu"
            assert records[job_id]["Partition"] == expected, (name, records[job_id])
            assert list((workdir / ".snakemake" / "slurm_logs").rglob(f"{job_id}.log"))

    # the GPU request reached SLURM, which gave each training job a GPU of the node, and the job
    # claimed the GPU it was given (prunephase.core.devices)
    for job_id in jobs["rule_train_shard"]:
        show = subprocess.run(
            ["scontrol", "show", "job", job_id], env=slurm.env, capture_output=True, text=True
        )
        assert "TresPerJob=gres:gpu:1" in show.stdout
    for n in (256, 512):
        train_log = (workdir / LOGS / f"train_w16_d2_N{n}.log").read_text()
        assert re.search(r"claimed GPU\(s\) \['\d'\]", train_log), train_log[-2000:]

    # every output, with sane content
    dp = workdir / "results" / "dropout_phases"
    for n in (256, 512):
        per_mask = pd.read_parquet(dp / f"w16_d2/N{n}/per_mask.parquet")
        assert len(per_mask) == 4 * 2 * 3 * 3  # models x snapshots x p_eval x masks
        assert per_mask["accuracy"].between(0, 1).all() and (per_mask["cross_entropy"] > 0).all()
        made_by = read_provenance(dp / f"w16_d2/N{n}/per_mask.parquet")["config"]
        assert made_by["dropout_phases"]["p_eval"] == [0.0, 0.5, 0.9]
        assert load_shard(dp / f"w16_d2/N{n}/models.pt")["n_train"] == n
    summary = pd.read_parquet(dp / "summary.parquet")
    assert len(summary) == 2 * 2 * 2 * 3 and set(summary["N"]) == {256, 512}
    unpruned = summary[(summary["p_eval"] == 0) & (summary["train_fraction"] == 1)]
    assert (unpruned["acc_mean"] > 0.3).all()  # trained networks beat chance (0.1)
    binder = pd.read_parquet(dp / "binder.parquet")
    assert len(binder) and (binder["binder"].dropna() <= 2 / 3 + 1e-9).all()
