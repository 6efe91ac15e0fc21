"""The teacher-student part of the workflow: MNIST pruning, config checks, dry run, a tiny run."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest
import torch
import yaml
from conftest import REPO, snakemake

from prunephase.core.config import ConfigError, load_config, settings
from prunephase.core.notebooks import error_cells
from prunephase.mnist import flatten_inputs
from prunephase.nn.ensemble import forward
from prunephase.nn.reference import train_reference
from prunephase.nn.training import model_seeds
from prunephase.teacher_student.claims import PRUNING_SUMMARY_COLUMNS, SUMMARY_COLUMNS
from prunephase.teacher_student.experiments import DYNAMICS_COLUMNS, PRUNING_COLUMNS
from prunephase.teacher_student.mnist_pruning import (
    PRUNING_COLUMNS as MNIST_COLUMNS,
)
from prunephase.teacher_student.mnist_pruning import (
    STUDY_MNIST,
    TRAINING_COLUMNS,
    load_network,
    mnist_network,
    prune_mnist,
    save_networks,
    train_networks,
    training_settings,
)
from prunephase.teacher_student.settings import MnistPruning, MnistTraining, TeacherStudent

OUTPUTS = [f"results/notebooks/teacher_student/{n}.ipynb" for n in
           ("dynamics", "random_edge_theory", "pruning", "mnist")]  # fmt: skip


TRAINING = MnistTraining(seeds=2, hidden=(30, 20), n_train=2000, input_scaling="unit_interval",
                         lr=0.1, momentum=0.9, batch_size=50, max_epochs=2,
                         stop_train_accuracy=1.0)  # fmt: skip
PRUNING = MnistPruning(input_scaling="unit_interval", fit_samples=500, budget="first_layer",
                       kept_percent=(30, 100), draws=2, ridge=1e-3, dpp_kernel="linear",
                       rbf_gamma=10.0, dpp_jitter=1e-6)  # fmt: skip


@pytest.fixture(scope="module")
def trained(mnist, tmp_path_factory):
    """Two small networks trained as one ensemble for two epochs, saved and loaded back."""
    x = torch.from_numpy(flatten_inputs(mnist.train_images[:3000], "unit_interval"))
    y = torch.from_numpy(mnist.train_labels[:3000].astype(np.int64))
    xt = torch.from_numpy(flatten_inputs(mnist.test_images[:1000], "unit_interval"))
    yt = torch.from_numpy(mnist.test_labels[:1000].astype(np.int64))
    model, history, subsets = train_networks(x, y, xt, yt, TRAINING, 1)
    path = tmp_path_factory.mktemp("mnist") / "networks.npz"
    save_networks(model, subsets, path)
    return x, y, xt, yt, model, history, subsets, path


def test_mnist_training_and_pruning(trained):
    x, _, xt, yt, model, history, subsets, path = trained
    assert list(history.columns) == TRAINING_COLUMNS
    assert len(history) == 2 * 3 and history.epoch.tolist() == [0, 1, 2] * 2
    assert history[history.kept].epoch.tolist() == [2, 2]  # never stopped: the last epoch
    for _, curve in history.groupby("network"):
        assert curve.test_error.iloc[-1] < 0.5 < curve.test_error.iloc[0]  # it learned
        assert curve.train_loss.iloc[-1] < curve.train_loss.iloc[0]
    assert subsets.shape == (2, 2000) and all(len(set(s)) == 2000 for s in subsets)
    assert len(set(subsets[0]) & set(subsets[1])) < 2000  # each network has its own subset
    layers, subset = load_network(path, 1)
    np.testing.assert_array_equal(subset, subsets[1])
    assert [W.shape for W in layers.W] == [(30, 784), (20, 30), (10, 20)]
    table = prune_mnist(layers, x[subset[:500]].double().numpy(), xt.double().numpy(), yt.numpy(),
                        PRUNING, 1, 1)  # fmt: skip
    assert list(table.columns) == MNIST_COLUMNS
    assert table.test_error.between(0, 1).all()
    unpruned = table.test_error_unpruned.iloc[0]
    # the saved network is the trained one (float64 here, float32 in training: a flip or two)
    assert unpruned == pytest.approx(history[history.network == 1].test_error.iloc[-1], abs=2e-3)
    full = table[(table.kept_units == 30) & ~table.reweight]
    np.testing.assert_allclose(full.test_error, unpruned)  # 100% kept changes nothing
    pruned = table[table.kept_units == 9]
    assert pruned.test_error.max() > unpruned  # pruning 70% of the units costs something
    assert set(pruned.method) == {"random_node", "importance_node", "dpp_node", "random_edge",
                                  "importance_edge"}  # fmt: skip
    # the authors' joint budget and RBF kernel: 30% of 784 inputs per unit (236) against the
    # units that 30% of the weights of both layers buy
    joint = prune_mnist(
        layers, x[subset[:500]].double().numpy(), xt.double().numpy(), yt.numpy(),
        MnistPruning(**{**PRUNING.__dict__, "budget": "joint", "dpp_kernel": "rbf"}), 1, 1,
    )  # fmt: skip
    at30 = joint[joint.kept_percent == 30]
    assert set(at30[at30.method == "random_edge"].edges_per_unit) == {236}
    assert set(at30.kept_units) == {int(30 * (0.3 * 784 + 20) / (784 + 20))}
    edges = at30.method.str.endswith("_edge")
    np.testing.assert_allclose(at30[edges].params_fraction, (236 + 20) / 804)
    np.testing.assert_allclose(at30[~edges].params_fraction, at30[~edges].kept_units / 30)


def test_networks_stop_at_the_training_accuracy(mnist):
    """Each network keeps its parameters of the first epoch at which its training accuracy
    reaches the threshold, and is then the network trained alone for that many epochs; the
    ensemble stops when every network has stopped."""
    x = torch.from_numpy(flatten_inputs(mnist.train_images[:3000], "unit_interval"))
    y = torch.from_numpy(mnist.train_labels[:3000].astype(np.int64))
    xt = torch.from_numpy(flatten_inputs(mnist.test_images[:500], "unit_interval"))
    yt = torch.from_numpy(mnist.test_labels[:500].astype(np.int64))
    training = MnistTraining(**{**TRAINING.__dict__, "max_epochs": 8, "stop_train_accuracy": 0.8})
    model, history, subsets = train_networks(x, y, xt, yt, training, 3)
    kept = history[history.kept].set_index("network")
    assert len(kept) == 2 and (1 - kept.train_error >= 0.8).all()
    for k, row in kept.iterrows():
        before = history[(history.network == k) & (history.epoch < row.epoch)]
        assert (1 - before.train_error < 0.8).all()  # the first epoch at the threshold
    assert history.epoch.max() == kept.epoch.max() < 8  # stopped with the last network
    for k, row in kept.iterrows():
        settings_k = training_settings(MnistTraining(**{**training.__dict__,
                                                        "max_epochs": int(row.epoch)}))  # fmt: skip
        reference = train_reference(x, y, torch.from_numpy(subsets[k]), 0.0,
                                    model_seeds(3, STUDY_MNIST, k), mnist_network(training),
                                    settings_k)  # fmt: skip
        with torch.no_grad():
            expected = reference(xt, [torch.ones(h) for h in training.hidden])
            logits = forward(model.select(k), xt.unsqueeze(0))[0]
        torch.testing.assert_close(logits, expected, rtol=1e-4, atol=1e-4)


def test_mnist_network_is_the_torch_nn_model_trained_alone(trained):
    """Network k of the ensemble is the plain torch.nn network of its own seeds (the trainer's
    reference): sigmoid, Xavier-uniform, SGD with momentum, its own subset."""
    x, y, xt, _, model, _, subsets, _ = trained
    seeds = model_seeds(1, STUDY_MNIST, 1)
    network = mnist_network(TRAINING)
    reference = train_reference(x, y, torch.from_numpy(subsets[1]), 0.0, seeds, network,
                                training_settings(TRAINING))  # fmt: skip
    with torch.no_grad():
        expected = reference(xt, [torch.ones(h) for h in TRAINING.hidden])
        logits = forward(model.select(1), xt.unsqueeze(0))[0]
    torch.testing.assert_close(logits, expected, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("path", ["config.yaml", "config/paper.yaml", "tests/configs/tiny.yaml"])
def test_settings_take_every_shipped_config(path):
    """The settings class of the whole section has a field for every key, and nothing else."""
    section = load_config(REPO / path)["teacher_student"]
    ts = settings(TeacherStudent, section)
    assert len(ts.settings) == len(section["settings"]) and ts.mnist.seeds >= 1
    assert ts.mnist.hidden == tuple(section["mnist"]["hidden"])


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
    # 2 settings x 2 noise levels trained and pruned, 2 ideal students
    assert counts["teacher_student_train"] == 4 and counts["teacher_student_prune"] == 4
    assert counts["teacher_student_prune_specialised"] == 2
    # the 5 MNIST networks trained as one ensemble, one job, each pruned by a job of its own
    assert counts["teacher_student_mnist_train"] == 1 and counts["teacher_student_mnist_prune"] == 5
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
    summary = pd.read_parquet(results / "teacher_student/pruning_summary.parquet")
    assert list(summary.columns) == PRUNING_SUMMARY_COLUMNS
    assert set(summary.student) == {"sgd", "ideal"}
    assert set(summary[summary.student == "sgd"].n_students) == {2}
    assert not summary.duplicated(["K", "M", "sigma", "student", "method", "reweight",
                                   "kept_fraction"]).any()  # fmt: skip
    ranking = pd.read_parquet(results / "teacher_student/mnist_ranking.parquet")
    assert ranking["rank"].between(1, 5).all()
    for stem in ("ode_vs_sgd", "random_edge_closed_form", "pruning_comparisons", "heatmaps",
                 "mnist_pruning"):  # fmt: skip
        assert (results / "figures/teacher_student" / f"{stem}.png").stat().st_size > 10_000


@pytest.mark.workflow
def test_a_pruning_key_does_not_rerun_training(tiny_run, tmp_path):
    """Training jobs get only the keys they read: new pruning settings rerun only the pruning."""
    config = yaml.safe_load((REPO / "tests/configs/tiny.yaml").read_text())
    config["teacher_student"]["pruning"]["dpp_jitter"] = 1e-5
    config["teacher_student"]["mnist"]["dpp_jitter"] = 1e-5
    changed = tmp_path / "changed.yaml"
    changed.write_text(yaml.safe_dump(config))
    result = snakemake("-n", "--directory", str(tiny_run), "--configfile", str(changed))
    stats = result.stdout[result.stdout.index("Job stats:") :]
    counts = {m[1]: int(m[2]) for m in re.finditer(r"^(\w+)\s+(\d+)$", stats, re.M)}
    assert counts["teacher_student_prune"] == 2 and counts["teacher_student_prune_specialised"] == 1
    assert counts["teacher_student_mnist_prune"] == 1
    assert "teacher_student_train" not in counts and "teacher_student_mnist_train" not in counts
