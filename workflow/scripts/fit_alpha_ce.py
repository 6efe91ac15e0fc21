"""Snakemake job: alpha_CE (power law of <L_CE> in N) with bootstrap errors, the label of every
point, and the crossing of alpha_CE at every p_train."""

from prunephase.core.io import read_parquet, write_parquet
from prunephase.core.logs import job_log
from prunephase.dropout_phases.phases import PhaseRule, alpha_ce_tables

snakemake = globals()["snakemake"]

with job_log(snakemake.log[0]) as log:
    config = snakemake.params.config
    analysis = config["dropout_phases"]["analysis"]
    alpha, crossings = alpha_ce_tables(
        read_parquet(snakemake.input[0], ["N", "run", "cross_entropy", "accuracy"]),
        n_bootstrap=analysis["bootstrap"],
        local_sizes=analysis["local_sizes"],
        rule=PhaseRule(
            n_se=analysis["phase_n_se"],
            min_alpha=analysis["phase_min_alpha"],
            amentia_accuracy=analysis["amentia_accuracy"],
        ),
        seed=config["seed"],
    )
    log.info("\n%s", crossings[crossings["train_fraction"] == 1.0])
    write_parquet(alpha, snakemake.output.alpha)
    write_parquet(crossings, snakemake.output.crossings)
