"""The plan of the package: a shared core, one subpackage per study, none importing another's;
typed settings that match the schema key for key."""

from __future__ import annotations

import ast
import dataclasses
import subprocess
import sys
import typing

import pytest
from conftest import REPO

from prunephase.core.config import load_config, settings
from prunephase.dropout_phases.settings import DropoutPhases
from prunephase.rap.settings import Rap
from prunephase.teacher_student.settings import TeacherStudent

PACKAGE = REPO / "src" / "prunephase"
STUDIES = ("dropout_phases", "rap", "teacher_student")
SHIPPED_CONFIGS = ["config.yaml", "config/paper.yaml", "tests/configs/tiny.yaml"]


def imported_modules(path) -> set[str]:
    """Every ``prunephase...`` module a source file imports."""
    modules = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            modules.add(node.module)
            modules.update(f"{node.module}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            modules.update(a.name for a in node.names)
    return {m for m in modules if m.split(".")[0] == "prunephase"}


@pytest.mark.parametrize("part", [*STUDIES, "core", "nn", "scaling", "mnist"])
def test_no_part_imports_a_study_of_its_own_choosing(part):
    """A study imports the shared parts and itself; the shared parts import no study."""
    sources = sorted((PACKAGE / part).rglob("*.py")) if part != "mnist" else [PACKAGE / "mnist.py"]
    assert sources
    allowed = {part} if part in STUDIES else set()
    for source in sources:
        for module in imported_modules(source):
            study = module.split(".")[1] if module.count(".") else None
            if study in STUDIES:
                assert study in allowed, f"{source.relative_to(REPO)} imports {module}"


def test_every_subpackage_says_what_it_holds():
    for init in PACKAGE.rglob("__init__.py"):
        docstring = ast.get_docstring(ast.parse(init.read_text()))
        assert docstring and len(docstring) > 80, init


def test_the_dag_is_built_without_torch():
    """rules/common.smk imports these at DAG time: no torch, no numba."""
    code = (
        "import sys; import prunephase.core.config, prunephase.core.devices; "
        "print(sorted(m for m in ('torch', 'numba', 'pandas') if m in sys.modules))"
    )
    env = {"PYTHONPATH": str(REPO / "src")}
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, env=env, check=True
    )
    assert result.stdout.strip() == "[]"


def nested_settings_classes(cls) -> list[type]:
    """``cls`` and every settings dataclass its fields hold."""
    found, pending = [], [cls]
    while pending:
        current = pending.pop()
        found.append(current)
        hints = typing.get_type_hints(current)
        for field in dataclasses.fields(current):
            for hint in (hints[field.name], *typing.get_args(hints[field.name])):
                if dataclasses.is_dataclass(hint):
                    pending.append(hint)
    return found


@pytest.mark.parametrize("cls", [DropoutPhases, Rap, TeacherStudent], ids=lambda c: c.__name__)
def test_settings_have_no_defaults_and_take_keywords_only(cls):
    """Values and defaults live in the schema only."""
    for current in nested_settings_classes(cls):
        assert current.__dataclass_params__.frozen, current.__name__
        for field in dataclasses.fields(current):
            where = f"{current.__name__}.{field.name}"
            assert field.kw_only, where
            assert field.default is dataclasses.MISSING, where
            assert field.default_factory is dataclasses.MISSING, where


@pytest.mark.parametrize("path", SHIPPED_CONFIGS)
def test_dropout_phases_settings_match_the_schema(path):
    study = settings(DropoutPhases, load_config(REPO / path)["dropout_phases"])
    assert study.training.snapshots and isinstance(study.architectures[0].width, int)
    assert isinstance(study.analysis.collapse.bkt["p_c"], tuple)
