"""The notebooks of paper B: committed without outputs, parameters first, defaults = default run."""

from __future__ import annotations

import ast
import json

import pytest
import yaml
from conftest import REPO

from prunephase.core.config import load_config, lookup

with open(REPO / "rules" / "notebooks.yaml") as fh:
    ROWS = yaml.safe_load(fh)["rap"]


def code_cells(name: str) -> list[dict]:
    with open(REPO / "notebooks" / "rap" / f"{name}.ipynb") as fh:
        return [c for c in json.load(fh)["cells"] if c["cell_type"] == "code"]


def parameter_defaults(cell: dict) -> dict:
    """The names the parameters cell assigns, with their (literal) values."""
    tree = ast.parse("".join(cell["source"]))
    return {
        node.targets[0].id: ast.literal_eval(node.value)
        for node in tree.body
        if isinstance(node, ast.Assign)
    }


@pytest.mark.parametrize("name", sorted(ROWS))
def test_notebook_is_committed_clean_with_its_parameters_cell_first(name):
    cells = code_cells(name)
    assert "parameters" in cells[0]["metadata"].get("tags", [])
    for cell in cells:
        assert cell.get("outputs", []) == [] and cell.get("execution_count") is None


@pytest.mark.parametrize("name", sorted(ROWS))
def test_notebook_defaults_are_what_the_default_run_passes(name):
    row, config = ROWS[name], load_config(REPO / "config.yaml")
    defaults = parameter_defaults(code_cells(name)[0])
    expected = dict(row.get("inputs", {}))
    expected |= {
        fig: [f"results/figures/rap/{fig}.png", f"results/figures/rap/{fig}.pdf"]
        for fig in row.get("figures", [])
    }
    expected |= {key: lookup(config, path) for key, path in row.get("parameters", {}).items()}
    assert {key: defaults.get(key) for key in expected} == expected
