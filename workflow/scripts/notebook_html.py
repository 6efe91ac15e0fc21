"""Snakemake job: an executed notebook as an HTML page, for the report."""

from prunephase.core.logs import job_log
from prunephase.core.notebooks import notebook_to_html

snakemake = globals()["snakemake"]

with job_log(snakemake.log[0]):
    notebook_to_html(snakemake.input[0], snakemake.output[0])
