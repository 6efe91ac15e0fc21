"""The settings of paper B are the config's keys: every shipped config builds them."""

from __future__ import annotations

import pytest
from conftest import REPO

from prunephase.core.config import load_config, settings, validate_config
from prunephase.rap.settings import Rap

CONFIGS = ["config.yaml", "config/paper.yaml", "tests/configs/tiny.yaml"]


@pytest.mark.parametrize("path", CONFIGS)
def test_every_shipped_rap_section_builds_the_settings(path):
    rap = settings(Rap, load_config(REPO / path)["rap"])
    assert rap.activations.betas == (0.9, 0.999) and rap.activations.eps == 1e-8
    assert isinstance(rap.critical.p2, tuple) and isinstance(rap.redundancy.betas, tuple)


def test_schema_defaults_build_the_settings():
    settings(Rap, validate_config({})["rap"])
