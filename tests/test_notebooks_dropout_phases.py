"""Paper A's notebooks on tables that show a transition (the tiny run has none): synthetic
per-run losses of known BKT scaling pass through the package's table functions, and every notebook
runs on them without an error cell and states the crossing it was given."""

from __future__ import annotations

import json
import os

import numpy as np
import pandas as pd
import pytest
import yaml
from conftest import REPO

from prunephase.core.config import load_config, lookup, settings
from prunephase.core.notebooks import error_cells, execute_notebook
from prunephase.dropout_phases.criticality import binder_table, collapse_fits, sensitivity_table
from prunephase.dropout_phases.phases import PhaseRule, alpha_ce_tables
from prunephase.dropout_phases.settings import Collapse
from prunephase.dropout_phases.tables import summarise
from prunephase.scaling import BKTAnsatz, synthetic_runs

SIZES = [1000, 2000, 4000, 8000, 16000]
P_EVAL = np.round(np.arange(0, 0.951, 0.05), 2)
ROWS = yaml.safe_load((REPO / "rules" / "notebooks.yaml").read_text())["dropout_phases"]


def _per_mask(rng: np.random.Generator) -> pd.DataFrame:
    """Per-mask losses and accuracies of 8x1 networks at p_train 0, 0.1 (BKT, p_c = 0.6) and 0.9
    (a loss that does not depend on N), two snapshots, 3 runs x 4 masks."""
    frames = []
    for fraction in (0.5, 1.0):
        for p_train, seed in ((0.0, 1), (0.1, 2), (0.9, 3)):
            runs = synthetic_runs(BKTAnsatz(), {"p_c": 0.6, "sigma": 0.8}, P_EVAL, SIZES,
                                  relative_se=(0.005, 0.02), seed=seed)  # fmt: skip
            if p_train == 0.9:
                runs["value"] = 2.0 * (1 + 0.01 * runs["run"] + 0.02 * rng.normal(size=len(runs)))
            for mask in range(4):
                jitter = 1 + 0.01 * rng.normal(size=len(runs))
                ce = runs["value"] * jitter
                frames.append(pd.DataFrame({
                    "width": 8, "depth": 1, "N": runs["N"].astype(int), "p_train": p_train,
                    "run": runs["run"], "train_fraction": fraction, "epoch": 10,
                    "p_eval": runs["p"], "mask": mask, "cross_entropy": ce,
                    "accuracy": np.clip(np.exp(-ce) + 0.3 * (p_train < 0.5), 0, 1),
                }))  # fmt: skip
    return pd.concat(frames, ignore_index=True)


@pytest.fixture(scope="module")
def tables(tmp_path_factory):
    from prunephase.dropout_phases.tables import per_run

    root = tmp_path_factory.mktemp("paper_a")
    per_mask = _per_mask(np.random.default_rng(0))
    runs = per_run(per_mask)
    rule = PhaseRule(n_se=2.0, min_alpha=0.02, amentia_accuracy=0.5)
    alpha, crossings = alpha_ce_tables(runs, n_bootstrap=50, local_sizes=3, rule=rule, seed=0)
    collapse = settings(Collapse, load_config(REPO / "config.yaml")["dropout_phases"]["analysis"]
                        ["collapse"] | {"bootstrap": 4})  # fmt: skip
    fits, maps = collapse_fits(runs, crossings, collapse, seed=0)
    sensitivity = sensitivity_table(
        runs, crossings, collapse, width=8, depth=1, p_train=0.1, half_widths=[0.25],
        n_0=[[1, 900], 100], seed=0,
    )  # fmt: skip
    written = {
        "summary": summarise(runs), "per_run": runs, "alpha_ce": alpha, "crossings": crossings,
        "collapse": fits, "chi2_map": maps, "sensitivity": sensitivity,
        "binder": binder_table(per_mask, n_bootstrap=20, seed=0),
    }  # fmt: skip
    paths = {}
    for name, table in written.items():
        paths[name] = str(root / f"{name}.parquet")
        table.to_parquet(paths[name])
    return root, paths, crossings


@pytest.mark.parametrize("name", [n for n in ROWS if n != "fig1_schematic"])
def test_notebook_runs_on_a_run_with_a_transition(tables, name, monkeypatch):
    # the kernel imports this checkout's package, as the workflow's jobs do
    paths = [str(REPO / "src"), os.getenv("PYTHONPATH")]
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, paths)))
    root, paths, crossings = tables
    row = ROWS[name]
    config = load_config(REPO / "config.yaml")
    parameters = {k: paths[k] for k in row.get("inputs", {})}
    parameters |= {fig: [str(root / f"{fig}.png"), str(root / f"{fig}.pdf")]
                   for fig in row.get("figures", [])}  # fmt: skip
    parameters |= {k: lookup(config, v) for k, v in row.get("parameters", {}).items()}
    parameters |= {k: v for k, v in {"width": 8, "depth": 1}.items() if k in parameters}
    output = root / f"{name}.ipynb"
    execute_notebook(REPO / "notebooks" / "dropout_phases" / f"{name}.ipynb", output, parameters)
    assert error_cells(output) == []
    text = json.dumps(json.loads(output.read_text())["cells"])
    focus = crossings[(crossings.p_train == 0.1) & (crossings.train_fraction == 1.0)].iloc[0]
    assert focus.transition and abs(focus.p_cross - 0.6) < 0.03
    if name in ("fig4_collapse", "robustness", "training_length"):
        assert f"{focus.p_cross:.3f}" in text  # the crossing, as the tables give it
    if name == "fig4_collapse":
        assert "the loss grows with N" in text and "over 2 settings" in text
    for fig in row.get("figures", []):
        assert (root / f"{fig}.png").stat().st_size > 10_000
