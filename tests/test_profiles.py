"""The Snakemake profiles: the SLURM profile's groups and partition choice (no scheduler needed)."""

from __future__ import annotations

import re
from types import SimpleNamespace

import pytest
import yaml
from conftest import REPO, snakemake

SLURM = yaml.safe_load((REPO / "profiles" / "slurm" / "config.yaml").read_text())


def rule_scripts() -> dict[str, str]:
    """{rule: the script it runs} for every rule of rules/*.smk."""
    scripts = {}
    for smk in (REPO / "rules").glob("*.smk"):
        for name, body in re.findall(
            r"^rule (\w+):(.*?)(?=^rule |\Z)", smk.read_text(), re.M | re.S
        ):
            script = re.search(r'script:\s*"([^"]+)"', body)
            scripts[name] = script[1].rsplit("/", 1)[-1] if script else ""
    return scripts


def test_every_notebook_rule_travels_in_the_notebooks_group():
    scripts = rule_scripts()
    notebook_rules = {r for r, s in scripts.items() if s in {"run_notebook.py", "notebook_html.py"}}
    assert len(notebook_rules) >= 14
    groups = SLURM["groups"]
    assert {r for r, g in groups.items() if g == "notebooks"} == notebook_rules
    assert set(groups) <= set(scripts), "the profile groups a rule the workflow does not have"
    assert set(groups.values()) == set(SLURM["group-components"])
    # GPU work stays one SLURM job per shard
    assert not {"train_shard", "evaluate_shard", "rap_redundancy"} & set(groups)


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
