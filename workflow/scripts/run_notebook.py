"""Snakemake job: execute one parameterised notebook with papermill (prunephase.core.notebooks)."""

from prunephase.core.logs import job_log
from prunephase.core.notebooks import execute_notebook, snakemake_parameters

snakemake = globals()["snakemake"]

with job_log(snakemake.log[0]):
    execute_notebook(
        snakemake.input.notebook, snakemake.output.notebook, snakemake_parameters(snakemake)
    )
