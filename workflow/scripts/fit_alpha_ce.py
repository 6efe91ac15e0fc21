"""Snakemake job: alpha_CE (power law of <L_CE> in N) with bootstrap errors, and the phases."""

from prunephase.io import read_parquet, write_parquet
from prunephase.logs import job_log
from prunephase.phases import alpha_ce_table

snakemake = globals()["snakemake"]

with job_log(snakemake.log[0]):
    a = snakemake.params.analysis
    table = alpha_ce_table(
        read_parquet(snakemake.input[0], ["N", "run", "cross_entropy"]),
        n_bootstrap=a["bootstrap"],
        n_se=a["phase_n_se"],
        min_alpha=a["phase_min_alpha"],
        seed=snakemake.params.seed,
    )
    write_parquet(table, snakemake.output[0])
