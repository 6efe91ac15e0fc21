"""The settings of paper B are the config's keys: every shipped config builds them."""

from __future__ import annotations

import dataclasses
import typing

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


def test_settings_have_no_defaults_and_take_keywords_only():
    """Values and defaults live in the schema only."""
    pending = [Rap]
    while pending:
        cls = pending.pop()
        assert cls.__dataclass_params__.frozen, cls.__name__
        hints = typing.get_type_hints(cls)
        for field in dataclasses.fields(cls):
            assert field.kw_only, f"{cls.__name__}.{field.name}"
            assert field.default is dataclasses.MISSING, f"{cls.__name__}.{field.name}"
            assert field.default_factory is dataclasses.MISSING, f"{cls.__name__}.{field.name}"
            if dataclasses.is_dataclass(hints[field.name]):
                pending.append(hints[field.name])


def test_schema_defaults_build_the_settings():
    settings(Rap, validate_config({})["rap"])
