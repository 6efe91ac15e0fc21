"""The package as installed (a wheel, not this checkout) carries its schema and validates."""

from __future__ import annotations

import subprocess
import sys
import zipfile

from conftest import REPO


def test_a_built_wheel_validates_a_config_on_its_own(tmp_path):
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
         "-w", str(tmp_path), str(REPO)],
        check=True, capture_output=True,
    )  # fmt: skip
    (wheel,) = tmp_path.glob("prunephase-*.whl")
    site = tmp_path / "site"
    with zipfile.ZipFile(wheel) as archive:
        assert "prunephase/core/config.schema.yaml" in archive.namelist()
        archive.extractall(site)
    code = (
        "import prunephase.core.config as c, sys; "
        "assert c.__file__.startswith(sys.argv[1]), c.__file__; "
        "config = c.load_config(sys.argv[2]); print(config['dropout_phases']['runs'])"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, str(site), str(REPO / "config.yaml")],
        cwd=tmp_path, env={"PYTHONPATH": str(site)}, capture_output=True, text=True,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "3"
