"""The Snakemake profiles: the SLURM profile's groups and partition choice (no scheduler needed)."""

from __future__ import annotations

import re
from types import SimpleNamespace

import pytest
import yaml
from conftest import REPO, TINY, snakemake

SLURM = yaml.safe_load((REPO / "profiles" / "slurm" / "config.yaml").read_text())


def grouped_rules(dry_run_output: str) -> tuple[dict[str, set[str]], set[str]]:
    """From a dry run: {group: rules of its jobs} and the rules of ungrouped jobs."""
    groups: dict[str, set[str]] = {}
    alone: set[str] = set()
    current = None
    for line in dry_run_output.splitlines():
        if match := re.search(r"Group job (\w+)", line):
            current = groups.setdefault(match[1], set())
        elif match := re.match(r"(\s*)rule (\w+):", line):
            if match[1]:
                current.add(match[2])
            else:
                alone.add(match[2])
    return groups, alone


def test_notebooks_and_short_tables_travel_in_groups(tmp_path):
    """Every notebook of the table (and its HTML page) is in the notebooks group, the short
    table rules in the tables group; GPU work and long computations are one SLURM job each."""
    result = snakemake(
        "-n", "--workflow-profile", str(REPO / "profiles" / "slurm"), "--directory", str(tmp_path),
        "--configfile", str(TINY),
    )  # fmt: skip
    groups, alone = grouped_rules(result.stdout + result.stderr)
    table = yaml.safe_load((REPO / "rules" / "notebooks.yaml").read_text())
    notebook_rules = {f"notebook_{s}_{n}" for s, rows in table.items() for n in rows}
    assert len(notebook_rules) >= 14
    assert groups["notebooks"] == notebook_rules | {"notebook_html"}
    tables = {"summarise_dropout_phases", "fit_alpha_ce", "teacher_student_claims"}
    assert tables <= groups["tables"]
    assert set(groups) == set(SLURM["group-components"])
    assert not any(r.startswith("notebook") for r in alone)
    assert {"train_shard", "evaluate_shard", "rap_redundancy", "fit_collapse"} <= alone


def test_gpu_jobs_go_to_the_gpu_partition_and_the_rest_to_the_cpu_partition():
    partitions = pytest.importorskip("snakemake_executor_plugin_slurm.partitions")
    table = partitions.read_partition_file(
        REPO / "profiles" / "slurm" / SLURM["slurm-partition-config"]
    )

    def best(**resources):
        job = SimpleNamespace(name="job", threads=4, resources=resources)
        return partitions.get_best_partition(
            table, job, SimpleNamespace(info=print, warning=print, debug=print)
        )

    assert best(gpu=1, mem_mb=4000, runtime=60) == "gpu"
    assert best(gpu=1, gpu_model="a100", runtime=60) == "gpu"
    assert best(gpu=0, mem_mb=4000, runtime=60) == "cpu"  # device: cpu, tables, notebooks
    assert best(mem_mb=2000, runtime=10) == "cpu"


def test_paper_scale_dag_through_the_slurm_profile(tmp_path):
    """The profile's groups are valid on the full DAG (a group may not be left and re-entered)."""
    result = snakemake(
        "-n", "--workflow-profile", str(REPO / "profiles" / "slurm"), "--directory", str(tmp_path),
        "--configfile", str(REPO / "config" / "paper.yaml"),
    )  # fmt: skip
    output = result.stdout + result.stderr
    assert "Group job notebooks" in output and "Group job tables" in output
    assert "train_shard" in output
