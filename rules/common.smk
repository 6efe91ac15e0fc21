import os
import sys
from pathlib import Path

from snakemake.exceptions import WorkflowError

# The rules run this checkout's package, whatever environment (conda or not) a job runs in:
# the conda environments in envs/ hold the dependencies, not the package itself.
SRC = str(Path(workflow.basedir) / "src")
sys.path.insert(0, SRC)
os.environ["PYTHONPATH"] = os.pathsep.join(
    p for p in (SRC, os.environ.get("PYTHONPATH")) if p
)

from prunephase.config import ConfigError, load_schema, validate_config  # noqa: E402

try:
    config.update(
        validate_config(
            config, load_schema(workflow.source_path("../config/config.schema.yaml"))
        )
    )
except ConfigError as err:
    raise WorkflowError(str(err)) from None

NOTEBOOKS = Path(workflow.basedir) / "notebooks"
RESULTS = Path("results")
LOGS = RESULTS / "logs"


def all_targets():
    """Every final output: the executed notebooks (their figures come with them)."""
    return [*dropout_phases_targets(), *teacher_student_targets()]
