"""The notebook table (rules/notebooks.yaml) and the committed notebooks agree.

A notebook's default parameters are what the default run (config.yaml) passes it, so that it also
runs on its own against the default run's results/; committed notebooks hold no outputs.
"""

from __future__ import annotations

import ast
import json

import papermill
import pytest
import yaml
from conftest import REPO

from prunephase.core.config import load_config, lookup

TABLE = yaml.safe_load((REPO / "rules" / "notebooks.yaml").read_text())
ROWS = [(study, name, row) for study, rows in TABLE.items() for name, row in rows.items()]


def passed_by_the_default_run(study: str, row: dict) -> dict:
    config = load_config(REPO / "config.yaml")
    figures = {
        fig: [f"results/figures/{study}/{fig}.png", f"results/figures/{study}/{fig}.pdf"]
        for fig in row.get("figures", [])
    }
    parameters = {k: lookup(config, v) for k, v in row.get("parameters", {}).items()}
    return {**row.get("inputs", {}), **figures, **parameters}


@pytest.mark.parametrize("study,name,row", ROWS, ids=[f"{s}/{n}" for s, n, _ in ROWS])
def test_notebook_defaults_are_what_the_default_run_passes(study, name, row):
    names = [*row.get("inputs", {}), *row.get("figures", []), *row.get("parameters", {})]
    assert len(names) == len(set(names)), f"a name is used twice in the row {study}/{name}"
    declared = papermill.inspect_notebook(str(REPO / "notebooks" / study / f"{name}.ipynb"))
    defaults = {k: ast.literal_eval(v["default"]) for k, v in declared.items()}
    expected = passed_by_the_default_run(study, row)
    assert {k: defaults[k] for k in expected if k in defaults} == expected
    assert set(expected) <= set(defaults), (
        f"parameters without a default: {set(expected) - set(defaults)}"
    )
    for fig in row.get("figures", []):
        assert (REPO / "report" / study / f"{fig}.rst").is_file(), f"no caption for {fig}"
    for table in row.get("inputs", {}).values():
        assert table.startswith(f"results/{study}/") and table.endswith(".parquet")


def test_every_notebook_is_in_the_table():
    committed = {(p.parent.name, p.stem) for p in (REPO / "notebooks").glob("*/*.ipynb")}
    assert committed == {(study, name) for study, name, _ in ROWS}


@pytest.mark.parametrize(
    "path", sorted((REPO / "notebooks").glob("*/*.ipynb")), ids=lambda p: p.stem
)
def test_committed_notebook_holds_no_outputs(path):
    cells = json.loads(path.read_text())["cells"]
    code = [c for c in cells if c["cell_type"] == "code"]
    assert "parameters" in code[0].get("metadata", {}).get("tags", []), "parameters cell first"
    for cell in code:
        assert cell.get("outputs", []) == [] and cell.get("execution_count") is None, path
