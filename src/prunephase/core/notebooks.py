"""Execute the parameterised notebooks with papermill, atomically, and check them for errors."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from prunephase.core.io import atomic_path


def error_cells(notebook_path: str | os.PathLike) -> list[int]:
    """Indices of the code cells of an executed notebook that hold an error output."""
    with open(notebook_path) as fh:
        cells = json.load(fh)["cells"]
    return [
        i
        for i, cell in enumerate(cells)
        if cell["cell_type"] == "code"
        and any(out.get("output_type") == "error" for out in cell.get("outputs", []))
    ]


def execute_notebook(
    template: str | os.PathLike,
    output: str | os.PathLike,
    parameters: Mapping[str, Any],
    kernel_name: str = "python3",
) -> None:
    """Run ``template`` with ``parameters`` injected after its ``parameters`` cell.

    The executed notebook appears at ``output`` only if every cell ran without error; the kernel's
    working directory is the current one (the workflow's), so relative paths in the parameters work.
    """
    import papermill

    with atomic_path(output) as tmp:
        papermill.execute_notebook(
            str(template),
            str(tmp),
            parameters=dict(parameters),
            kernel_name=kernel_name,
            cwd=os.getcwd(),
            progress_bar=False,
            log_output=True,
        )
        bad = error_cells(tmp)
        if bad:
            raise RuntimeError(f"{template}: error output in cell(s) {bad}")


def snakemake_parameters(job: Any) -> dict[str, Any]:
    """Notebook parameters of a Snakemake job: named inputs and outputs, ``params.parameters``.

    Every named input and output except ``notebook`` becomes a parameter of the same name (a
    string, or a list of strings for a ``multiext`` output such as a figure's PNG and PDF).
    """
    parameters: dict[str, Any] = {}
    for files in (job.input, job.output):
        for name, value in files.items():
            if name != "notebook":
                parameters[name] = str(value) if isinstance(value, str | Path) else list(value)
    parameters.update(dict(getattr(job.params, "parameters", {}) or {}))
    return parameters


def notebook_to_html(notebook: str | os.PathLike, html: str | os.PathLike) -> None:
    """Render an executed notebook as one self-contained HTML page (figures embedded), atomically.

    Raises
    ------
    RuntimeError
        If the notebook holds an error output (an executed notebook never should).
    """
    import nbconvert
    import nbformat

    bad = error_cells(notebook)
    if bad:
        raise RuntimeError(f"{notebook}: error output in cell(s) {bad}")
    body, _ = nbconvert.HTMLExporter().from_notebook_node(nbformat.read(notebook, as_version=4))
    with atomic_path(html) as tmp:
        Path(tmp).write_text(body, encoding="utf-8")
