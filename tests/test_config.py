"""The configuration schema: every shipped config is valid; bad keys and values are named."""

from __future__ import annotations

import pytest
import yaml
from conftest import REPO

from prunephase.core.config import ConfigError, load_config, validate_config


@pytest.mark.parametrize("path", ["config.yaml", "config/paper.yaml", "tests/configs/tiny.yaml"])
def test_shipped_configs_are_valid(path):
    config = load_config(REPO / path)
    assert config["dropout_phases"]["training"]["batch_size"] > 0


def test_paper_config_is_explicit_and_matches_schema_defaults():
    """paper.yaml writes out the paper-scale defaults of the schema, key for key."""
    with open(REPO / "config/paper.yaml") as fh:
        paper = yaml.safe_load(fh)
    defaults = validate_config({})
    for key, value in paper.items():
        assert value == defaults[key], key


def test_defaults_are_filled_without_touching_the_input():
    raw = {"dropout_phases": {"runs": 3}}
    config = validate_config(raw)
    assert config["dropout_phases"]["runs"] == 3
    assert config["dropout_phases"]["training"]["lr"] == 1e-3
    assert raw == {"dropout_phases": {"runs": 3}}


def test_unknown_key_is_named():
    with pytest.raises(ConfigError, match=r"unknown config key 'dropout_phases\.trainig'"):
        validate_config({"dropout_phases": {"trainig": {}}})


@pytest.mark.parametrize("value", [1.0, 1.5, -0.1])
def test_probability_outside_unit_interval_is_named(value):
    with pytest.raises(ConfigError, match=r"'dropout_phases\.p_eval\[1\]'"):
        validate_config({"dropout_phases": {"p_eval": [0.0, value]}})


def test_every_error_is_listed():
    with pytest.raises(ConfigError) as err:
        validate_config({"seed": -1, "dropout_phases": {"runs": 0}})
    assert "'seed'" in str(err.value) and "'dropout_phases.runs'" in str(err.value)
