"""The conda environment of the rules agrees with pyproject.toml (names, versions, channels)."""

from __future__ import annotations

import tomllib

import yaml
from conftest import REPO
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet

#: conda-forge's names of PyPI packages where they differ
CONDA_NAMES = {"torch": "pytorch", "matplotlib": "matplotlib-base"}
#: dependencies of the workflow's driver, not of its jobs
DRIVER_ONLY = {"snakemake"}


def pyproject():
    return tomllib.loads((REPO / "pyproject.toml").read_text())["project"]


def environment_pins(name: str) -> dict[str, str]:
    env = yaml.safe_load((REPO / "envs" / name).read_text())
    assert env["channels"] == ["conda-forge", "nodefaults"]
    pins = {}
    for dependency in env["dependencies"]:
        package, _, version = dependency.partition("=")
        assert version and not version.startswith("="), f"{dependency}: pin one exact version"
        pins[package] = version
    return pins


def test_rules_use_the_one_environment():
    lines = [line.strip() for smk in (REPO / "rules").glob("*.smk") for line in smk.open()]
    files = {line.strip('"') for line in lines if line.startswith('"../envs/')}
    assert files == {"../envs/prunephase.yaml"}
    assert sorted(p.name for p in (REPO / "envs").iterdir()) == ["prunephase.yaml"]


def test_environment_pins_every_runtime_dependency_within_its_range():
    pins = environment_pins("prunephase.yaml")
    project = pyproject()
    assert SpecifierSet(project["requires-python"]).contains(pins.pop("python") + ".0")
    wanted = {}
    for line in project["dependencies"]:
        requirement = Requirement(line)
        if requirement.name not in DRIVER_ONLY:
            wanted[CONDA_NAMES.get(requirement.name, requirement.name)] = requirement.specifier
    assert set(pins) == set(wanted)
    for package, specifier in wanted.items():
        assert specifier.contains(pins[package]), f"{package}={pins[package]} not in {specifier}"
