"""The workflow: lint, formatting, the paper-scale DAG, a tiny end-to-end run, bad input."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys

import pandas as pd
import pytest
import torch
import yaml
from conftest import REPO, TINY, mnist_dir, snakemake

from prunephase.core.notebooks import error_cells
from prunephase.dropout_phases.phases import ALPHA_COLUMNS, CROSSING_COLUMNS
from prunephase.dropout_phases.tables import SUMMARY_COLUMNS

pytestmark = pytest.mark.workflow


def test_lint_is_clean():
    result = snakemake("--lint")
    assert "Congratulations, your workflow is in a good condition!" in result.stdout + result.stderr


def test_snakefmt_is_clean():
    paths = [str(REPO / "Snakefile"), str(REPO / "rules")]
    result = subprocess.run(
        [sys.executable, "-m", "snakefmt", "--check", *paths], capture_output=True
    )
    assert result.returncode == 0, result.stderr.decode()


def _job_counts(output: str) -> dict[str, int]:
    stats = output[output.index("Job stats:") :]
    return {m[1]: int(m[2]) for m in re.finditer(r"^(\w+)\s+(\d+)$", stats, re.M)}


def test_paper_scale_dag(tmp_path):
    result = snakemake(
        "-n", "--directory", str(tmp_path), "--configfile", str(REPO / "config/paper.yaml")
    )
    counts = _job_counts(result.stdout + result.stderr)
    # one shard per architecture (7) and N (7); one collapse fit per architecture
    assert counts["train_shard"] == 49 and counts["evaluate_shard"] == 49
    assert counts["fit_collapse"] == 7 and counts["summarise_dropout_phases"] == 1
    assert counts["collapse_sensitivity"] == 1 and counts["fit_alpha_ce"] == 1
    assert counts["notebook_dropout_phases_fig3_scaling"] == 1
    assert counts["notebook_dropout_phases_robustness"] == 1


@pytest.mark.parametrize(
    "section,values,keys",
    [
        ("teacher_student", {"settings": [{"M": 2, "K": 5, "t_max": 10}]},
         ["teacher_student.settings[0].K", "teacher_student.settings[0].M"]),
        ("rap", {"critical": {"q_min": 0.9, "q_max": 0.5}},
         ["rap.critical.q_min", "rap.critical.q_max"]),
        ("rap", {"annealing": {"beta_start": 3.0, "beta_end": 1.0}},
         ["rap.annealing.beta_start", "rap.annealing.beta_end"]),
        ("dropout_phases", {"figures": {"focus_p_train": 0.25}},
         ["dropout_phases.figures.focus_p_train", "dropout_phases.p_train"]),
        ("dropout_phases", {"figures": {"linecut_p_eval": 0.72}},
         ["dropout_phases.figures.linecut_p_eval", "dropout_phases.p_eval"]),
        ("dropout_phases", {"analysis": {"collapse": {"bkt": {"N_0": 300}}}},
         ["dropout_phases.analysis.collapse.bkt.N_0", "dropout_phases.n_train"]),
    ],
)  # fmt: skip
def test_inconsistent_keys_stop_the_dry_run(tmp_path, section, values, keys):
    """Relations between keys are checked when the DAG is built, before any job."""
    config = yaml.safe_load(TINY.read_text())
    config[section].update(values)
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(config))
    result = snakemake("-n", "--directory", str(tmp_path), "--configfile", str(bad), check=False)
    assert result.returncode != 0
    for key in keys:
        assert f"'{key}'" in result.stdout + result.stderr
    assert not (tmp_path / "results").exists()


def test_tiny_run_tables(tiny_run):
    dp = tiny_run / "results" / "dropout_phases"
    per_mask = pd.read_parquet(dp / "w16_d2" / "N512" / "per_mask.parquet")
    # 2 p_train x 2 runs models, 2 snapshots, 3 p_eval, 3 masks
    assert len(per_mask) == 4 * 2 * 3 * 3
    assert per_mask["accuracy"].between(0, 1).all() and (per_mask["cross_entropy"] > 0).all()
    summary = pd.read_parquet(dp / "summary.parquet")
    assert list(summary.columns) == SUMMARY_COLUMNS
    assert len(summary) == 2 * 3 * 2 * 2 * 3  # architectures x N x snapshots x p_train x p_eval
    assert (summary["n_runs"] == 2).all() and (summary["n_masks"] == 3).all()
    # trained networks beat chance (0.1) on the test set when unpruned, even at this tiny scale
    unpruned = summary[(summary["p_eval"] == 0) & (summary["train_fraction"] == 1)]
    assert (unpruned["acc_mean"] > 0.3).all()
    main = unpruned[
        (unpruned["width"] == 16) & (unpruned["N"] == 1024) & (unpruned["p_train"] == 0)
    ]
    assert main["acc_mean"].item() > 0.7
    alpha = pd.read_parquet(dp / "alpha_ce.parquet")
    assert list(alpha.columns) == ALPHA_COLUMNS
    assert set(alpha["phase"]) <= {"eumentia", "dementia", "amentia", "boundary"}
    assert alpha["alpha_ce"].notna().all() and (alpha["n_sizes"] == 3).all()
    # amentia only where the network did not learn, boundary only where it did
    assert not alpha[alpha["phase"] == "amentia"]["learnt"].any()
    assert alpha[alpha["phase"] == "boundary"]["learnt"].all()
    crossings = pd.read_parquet(dp / "crossings.parquet")
    assert list(crossings.columns) == CROSSING_COLUMNS
    assert len(crossings) == 2 * 2 * 2  # architectures x snapshots x p_train
    assert (crossings["p_cross"].notna() == crossings["transition"]).all()


def test_tiny_run_collapse_and_binder_tables(tiny_run):
    from prunephase.dropout_phases.criticality import (
        BINDER_COLUMNS,
        COLLAPSE_COLUMNS,
        MAP_COLUMNS,
        SENSITIVITY_COLUMNS,
    )

    dp = tiny_run / "results" / "dropout_phases"
    crossings = pd.read_parquet(dp / "crossings.parquet")
    final = crossings[(crossings["train_fraction"] == 1.0) & crossings["transition"]]
    fits = pd.read_parquet(dp / "collapse.parquet")
    assert list(fits.columns) == COLLAPSE_COLUMNS
    # a collapse for both ansatzes exactly where alpha_CE crosses zero
    assert len(fits) == 2 * len(final)
    assert set(zip(fits["width"], fits["p_train"])) == set(zip(final["width"], final["p_train"]))
    maps = pd.read_parquet(dp / "chi2_map.parquet")
    assert list(maps.columns) == MAP_COLUMNS and len(maps) % max(1, len(final)) == 0
    # the fitted minimum is no higher than any point of the map
    for (w, d, p), grid in maps.groupby(["width", "depth", "p_train"]):
        fit = fits[(fits["width"] == w) & (fits["depth"] == d) & (fits["p_train"] == p)
                   & (fits["ansatz"] == "bkt")]  # fmt: skip
        assert fit["chi2_nu"].item() <= grid["chi2_nu"].min() + 1e-9
    sensitivity = pd.read_parquet(dp / "sensitivity.parquet")
    assert list(sensitivity.columns) == SENSITIVITY_COLUMNS
    binder = pd.read_parquet(dp / "binder.parquet")
    assert list(binder.columns) == BINDER_COLUMNS
    assert (binder["n_masks"] == 3).all() and binder["n_runs"].between(0, 2).all()
    assert (binder["binder"].dropna() <= 2 / 3 + 1e-9).all()
    # no spread of the accuracy over masks at p_eval = 0 (every mask is the unpruned network)
    assert binder[binder["p_eval"] == 0]["binder"].isna().all()


def test_tiny_run_shard_carries_provenance(tiny_run):
    from prunephase import __version__
    from prunephase.dropout_phases.experiment import load_shard

    shard = load_shard(tiny_run / "results/dropout_phases/w16_d2/N256/models.pt")
    assert shard["version"] == __version__
    assert shard["config"]["seed"] == 7 and shard["config"]["dropout_phases"]["runs"] == 2
    assert shard["models"] == [(0.0, 0), (0.0, 1), (0.5, 0), (0.5, 1)]
    assert shard["snapshots"][1.0]["weights"][0].shape == (4, 784, 16)
    assert torch.isfinite(torch.as_tensor(shard["train_loss"])).all()


def test_a_changed_key_reruns_only_the_jobs_that_use_it(tiny_run, tmp_path):
    config = yaml.safe_load(TINY.read_text())
    config["rap"]["redundancy"]["epochs"] += 1
    changed = tmp_path / "changed.yaml"
    changed.write_text(yaml.safe_dump(config))
    result = snakemake("-n", "--directory", str(tiny_run), "--configfile", str(changed))
    counts = _job_counts(result.stdout + result.stderr)
    assert counts == {
        "rap_redundancy": 1, "notebook_rap_supplement_redundancy": 1, "notebook_html": 1,
        "all": 1, "total": 4,
    }  # fmt: skip


def test_tiny_run_notebooks_and_figures(tiny_run):
    notebooks = sorted((tiny_run / "results" / "notebooks" / "dropout_phases").glob("*.ipynb"))
    assert [n.stem for n in notebooks] == [
        "fig1_schematic", "fig2_phase_diagram", "fig3_scaling", "fig4_collapse",
        "fig5_accuracy_binder", "robustness", "training_length",
    ]  # fmt: skip
    for notebook in notebooks:
        assert error_cells(notebook) == []
        cells = json.loads(notebook.read_text())["cells"]
        assert any(c.get("outputs") for c in cells if c["cell_type"] == "code"), notebook
    for stem in ["fig1", "fig2", "fig3", "fig4", "fig5", "robustness", "training_length"]:
        png = tiny_run / "results" / "figures" / "dropout_phases" / f"{stem}.png"
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000
        assert png.with_suffix(".pdf").read_bytes()[:5] == b"%PDF-"


def test_unknown_key_stops_before_any_job(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("dropout_phases:\n  trainig: {epochs: 1}\n")
    result = snakemake(
        "--cores", "1", "--directory", str(tmp_path), "--configfile", str(bad), check=False
    )
    assert result.returncode != 0
    assert "unknown config key 'dropout_phases.trainig'" in result.stderr
    assert not (tmp_path / "results").exists()


def test_nan_loss_stops_and_leaves_no_shard(tmp_path):
    settings = yaml.safe_load(TINY.read_text())
    settings["dropout_phases"]["training"]["lr"] = 1.0e30
    config = tmp_path / "nan.yaml"
    config.write_text(yaml.safe_dump(settings))
    target = "results/dropout_phases/w16_d2/N256/models.pt"
    result = snakemake(
        target,
        "--cores",
        "2",
        "--directory",
        str(tmp_path),
        "--configfile",
        str(config),
        check=False,
    )
    assert result.returncode != 0
    assert "training loss is NaN or infinite" in result.stdout + result.stderr
    assert not (tmp_path / target).exists()
    assert not list((tmp_path / "results" / "dropout_phases").rglob("*.part*"))


def test_corrupt_mnist_stops_the_data_rule(tmp_path):
    source = mnist_dir()
    corrupt = tmp_path / "mnist"
    shutil.copytree(source, corrupt)
    labels = corrupt / "t10k-labels-idx1-ubyte.gz"
    labels.write_bytes(labels.read_bytes()[:-100])
    result = snakemake(
        "results/data/mnist.npz", "--cores", "1", "--directory", str(tmp_path),
        "--configfile", str(TINY), env_extra={"PRUNEPHASE_MNIST_DIR": str(corrupt)}, check=False,
    )  # fmt: skip
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert "t10k-labels-idx1-ubyte.gz" in output and "ec29112dd5afa0611ce80d1b7f02629c" in output
    assert not (tmp_path / "results" / "data" / "mnist.npz").exists()
