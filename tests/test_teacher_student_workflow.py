"""The teacher-student part of the workflow: MNIST pruning, config checks, dry run, a tiny run."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest
import yaml
from conftest import REPO, snakemake

from prunephase.core.config import ConfigError, load_config
from prunephase.core.notebooks import error_cells
from prunephase.mnist import flatten_inputs
from prunephase.teacher_student.claims import SUMMARY_COLUMNS
from prunephase.teacher_student.experiments import DYNAMICS_COLUMNS, PRUNING_COLUMNS
from prunephase.teacher_student.mnist_pruning import (
    PRUNING_COLUMNS as MNIST_COLUMNS,
)
from prunephase.teacher_student.mnist_pruning import (
    Layers,
    TrainingConfig,
    prune_mnist,
    train_mlp,
)

OUTPUTS = [f"results/notebooks/teacher_student/{n}.ipynb" for n in
           ("dynamics", "random_edge_theory", "pruning", "mnist")]  # fmt: skip


def test_mnist_training_and_pruning(mnist):
    x = flatten_inputs(mnist.train_images[:3000], "unit_interval")
    xt = flatten_inputs(mnist.test_images[:1000], "unit_interval")
    yt = mnist.test_labels[:1000]
    config = TrainingConfig(hidden=(30, 20), lr=0.1, batch_size=50, epochs=2, n_train=2000)
    model, history, subset = train_mlp(x, mnist.train_labels[:3000], xt, yt, config, 1, 0)
    assert history.test_error.iloc[-1] < 0.5 < history.test_error.iloc[0]  # it learned
    assert len(set(subset)) == 2000
    layers = Layers.from_model(model)
    table = prune_mnist(layers, x[subset[:500]].astype(float), xt.astype(float), yt,
                        [30, 100], 2, 1e-3, 1e-6, 1, 0)  # fmt: skip
    assert list(table.columns) == MNIST_COLUMNS
    assert table.test_error.between(0, 1).all()
    unpruned = table.test_error_unpruned.iloc[0]
    full = table[(table.kept_units == 30) & ~table.reweight]
    np.testing.assert_allclose(full.test_error, unpruned)  # 100% kept changes nothing
    pruned = table[table.kept_units == 9]
    assert pruned.test_error.max() > unpruned  # pruning 70% of the units costs something
    assert set(pruned.method) == {"random_node", "importance_node", "dpp_node", "random_edge",
                                  "importance_edge"}  # fmt: skip


def test_config_errors_name_the_key(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump({"teacher_student": {"pruning": {"mask": 3}}}))
    with pytest.raises(ConfigError, match="teacher_student.pruning.mask"):
        load_config(bad)
    bad.write_text(
        yaml.safe_dump({"teacher_student": {"settings": [{"M": 2, "K": 0, "t_max": 1}]}})
    )
    with pytest.raises(ConfigError, match=r"teacher_student.settings\[0\].K"):
        load_config(bad)
    paper = load_config(REPO / "config" / "paper.yaml")["teacher_student"]
    assert paper["N"] == 500 and paper["mnist"]["hidden"] == [500, 500]


@pytest.mark.workflow
def test_paper_scale_dag(tmp_path):
    result = snakemake(
        "-n", *OUTPUTS, "--directory", str(tmp_path),
        "--configfile", str(REPO / "config/paper.yaml"),
    )  # fmt: skip
    stats = result.stdout[result.stdout.index("Job stats:") :]
    counts = {m[1]: int(m[2]) for m in re.finditer(r"^(\w+)\s+(\d+)$", stats, re.M)}
    # 2 settings x 2 noise levels trained and pruned, 2 ideal students, 5 MNIST networks
    assert counts["teacher_student_train"] == 4 and counts["teacher_student_prune"] == 4
    assert counts["teacher_student_prune_specialised"] == 2
    assert counts["teacher_student_mnist_train"] == 5 and counts["teacher_student_mnist_prune"] == 5
    assert counts["notebook_teacher_student_pruning"] == 1
    assert counts["teacher_student_claims"] == 1


@pytest.mark.workflow
def test_tiny_run(tiny_run):
    """The shared tiny end-to-end run (tests/configs/tiny.yaml) holds this part's outputs."""
    for notebook in OUTPUTS:
        path = tiny_run / notebook
        assert error_cells(path) == []
        assert json.loads(path.read_text())["cells"]
    results = tiny_run / "results"
    dynamics = pd.read_parquet(results / "teacher_student/dynamics/K4_M2_sigma0.25.parquet")
    assert list(dynamics.columns) == DYNAMICS_COLUMNS
    assert set(dynamics.source) == {"ode", "sgd"} and (dynamics.eps_g > 0).all()
    pruning = pd.read_parquet(results / "teacher_student/pruning/K4_M2_sigma0.parquet")
    assert list(pruning.columns) == PRUNING_COLUMNS
    assert np.isfinite(pruning.eps_g_mean).all() and (pruning.eps_g_mean >= 0).all()
    claims = pd.read_parquet(results / "teacher_student/claims.parquet")
    assert list(claims.columns) == SUMMARY_COLUMNS and len(claims) > 0
    ranking = pd.read_parquet(results / "teacher_student/mnist_ranking.parquet")
    assert ranking["rank"].between(1, 5).all()
    for stem in ("ode_vs_sgd", "random_edge_closed_form", "pruning_comparisons", "heatmaps",
                 "mnist_pruning"):  # fmt: skip
        assert (results / "figures/teacher_student" / f"{stem}.png").stat().st_size > 10_000
