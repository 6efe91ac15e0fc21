"""Workflow-level checks of the RAP part: dry run, config validation, a tiny end-to-end run."""

import json

import pandas as pd
import pytest
from conftest import TINY, snakemake

NOTEBOOKS = [
    "fig1_model",
    "fig2_activations",
    "fig3_dilution",
    "fig4_critical",
    "fig5_low_temperature",
    "finite_size",
    "readings",
    "supplement_redundancy",
]
TARGETS = [f"results/notebooks/rap/{name}.ipynb" for name in NOTEBOOKS]


def test_dry_run_lists_the_rap_rules(tmp_path):
    out = snakemake("-n", "--directory", str(tmp_path), *TARGETS, "--configfile", str(TINY))
    for rule in (
        "rap_degrees",
        "rap_dilution_sweep",
        "rap_critical",
        "rap_annealing",
        "rap_low_temperature",
        "rap_activations",
        "rap_finite_size",
        "rap_finite_size_grid",
        "rap_reading",
        "rap_readings",
        "notebook_rap_fig3_dilution",
        "notebook_rap_fig5_low_temperature",
        "notebook_rap_finite_size",
        "notebook_rap_readings",
    ):
        assert rule in out.stdout


def dry_run_with(tmp_path, old, new, *overlays, check=False):
    """A dry run of the RAP targets on the tiny config with ``old`` replaced by ``new``."""
    bad = tmp_path / "bad.yaml"
    text = TINY.read_text()
    assert old in text
    bad.write_text(text.replace(old, new))
    return snakemake(
        "-n", "--directory", str(tmp_path), *TARGETS, "--configfile", str(bad), *overlays,
        check=check,
    )  # fmt: skip


def test_a_bad_rap_value_stops_with_the_key_named(tmp_path):
    out = dry_run_with(
        tmp_path, "instances: 2\n  mc:", "instances: 2\n  bp:\n    damping: 1.5\n  mc:"
    )
    assert out.returncode != 0
    assert "rap.bp.damping" in out.stdout + out.stderr


def test_reading_names_must_be_unique(tmp_path):
    twice = '      - {name: network, construction: iid, prefactor: "1", xi: input, beta: 0.5}\n'
    anchor = "      - {name: frustrated"
    out = dry_run_with(tmp_path, anchor, twice + anchor)
    assert out.returncode != 0
    assert "rap.readings.models" in out.stdout + out.stderr


def test_exact_only_widths_need_the_network_reading(tmp_path):
    grid = "    x: [0.2, 1.0, 5.0]\n"
    out = dry_run_with(tmp_path, grid, grid + "    exact_n: [48]\n")
    assert out.returncode != 0
    assert "rap.finite_size.exact_n" in out.stdout + out.stderr
    network = tmp_path / "network.yaml"
    network.write_text("rap:\n  model: {construction: network}\n")
    out = dry_run_with(tmp_path, grid, grid + "    exact_n: [48]\n", str(network), check=True)
    assert "rap_finite_size_grid" in out.stdout


@pytest.mark.workflow
def test_tiny_end_to_end_run(tiny_run):
    tmp_path = tiny_run
    for target in TARGETS:
        cells = json.loads((tmp_path / target).read_text())["cells"]
        outputs = [o for c in cells if c["cell_type"] == "code" for o in c.get("outputs", [])]
        assert outputs and not [o for o in outputs if o.get("output_type") == "error"]
    for fig in (
        "fig1",
        "fig2",
        "fig3",
        "fig3_bp_mc_exact",
        "fig4",
        "fig5",
        "finite_size",
        "readings",
        "supplement_redundancy",
    ):
        for ext in (".png", ".pdf"):
            assert (tmp_path / "results/figures/rap" / f"{fig}{ext}").stat().st_size > 1000
    rap = tmp_path / "results" / "rap"
    sweep = pd.read_parquet(rap / "dilution_layer1.parquet")
    assert sorted(sweep["q"].unique()) == [0.5, 0.9, 0.97] and sweep["instance"].nunique() == 2
    assert sweep["alpha"].gt(0).all() and sweep["mc_e"].between(-sweep["alpha"], 0).all()
    crit = pd.read_parquet(rap / "critical.parquet")
    assert len(crit) == 2 * 2 * 2 and crit["q_c"].between(0, 1).all()
    assert (crit["q_c_gauge"] >= crit["q_c_lo"]).all()
    ann = pd.read_parquet(rap / "annealing.parquet")
    assert (ann["e"] >= ann["ground_e"] - 1e-12).all() and (ann["e_mean"] >= ann["ground_e"]).all()
    low = pd.read_parquet(rap / "low_temperature.parquet")
    assert {"par_rnd_residual", "rnd_residual", "eq_gauge_s"} <= set(low.columns)
    finite = pd.read_parquet(rap / "finite_size.parquet")
    assert sorted(finite["n"].unique()) == [12, 24] and finite["instance"].nunique() == 2
    grid = pd.read_parquet(rap / "finite_size_grid.parquet")
    assert sorted(grid["n"].unique()) == [12, 24] and grid["exact_f"].notna().all()
    names = ["network", "inverse_n", "independent", "frustrated"]
    for table in ("degrees", "dilution", "critical"):
        readings = pd.read_parquet(rap / f"readings_{table}.parquet")
        assert sorted(readings["reading"].unique()) == sorted(names)
    redundancy = pd.read_parquet(rap / "mnist_redundancy.parquet")
    assert len(redundancy) == 2 * (3 * 2 + 3)  # runs x (random: 3 fractions x 2 draws + magnitude)
    assert redundancy["test_error"].between(0, 1).all()
    act = pd.read_parquet(rap / "activations.parquet")
    assert set(act["trial"]) == {0, 1} and act["p_layer1"].between(0, 1).all()
