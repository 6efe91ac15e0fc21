"""Snakemake job: execute one parameterised notebook with papermill (see prunephase.notebooks)."""

from prunephase.logs import job_log
from prunephase.notebooks import execute_notebook, snakemake_parameters

snakemake = globals()["snakemake"]

with job_log(snakemake.log[0]):
    execute_notebook(
        snakemake.input.notebook, snakemake.output.notebook, snakemake_parameters(snakemake)
    )
