"""Snakemake job: alpha_CE (power law of <L_CE> in N) with bootstrap errors, and the phases."""

from prunephase.core.io import read_parquet, write_parquet
from prunephase.core.logs import job_log
from prunephase.dropout_phases.phases import alpha_ce_table

snakemake = globals()["snakemake"]

with job_log(snakemake.log[0]):
    config = snakemake.params.config
    analysis = config["dropout_phases"]["analysis"]
    table = alpha_ce_table(
        read_parquet(snakemake.input[0], ["N", "run", "cross_entropy"]),
        n_bootstrap=analysis["bootstrap"],
        n_se=analysis["phase_n_se"],
        min_alpha=analysis["phase_min_alpha"],
        seed=config["seed"],
    )
    write_parquet(table, snakemake.output[0])
