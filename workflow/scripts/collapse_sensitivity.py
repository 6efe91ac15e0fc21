"""Snakemake job: the collapses of the main architecture at the focus p_train for other windows
and N_0 (how firm the estimates are)."""

from prunephase.core.config import settings
from prunephase.core.io import read_parquet, write_parquet
from prunephase.core.logs import job_log
from prunephase.dropout_phases.criticality import sensitivity_table
from prunephase.dropout_phases.settings import Collapse

snakemake = globals()["snakemake"]

with job_log(snakemake.log[0]) as log:
    config = snakemake.params.config
    dp = config["dropout_phases"]
    collapse = settings(Collapse, dp["analysis"]["collapse"])
    table = sensitivity_table(
        read_parquet(snakemake.input.per_run, ["width", "depth", "p_eval", "N", "run"]),
        read_parquet(snakemake.input.crossings, ["width", "depth", "p_cross"]),
        collapse,
        width=dp["architectures"][0]["width"],
        depth=dp["architectures"][0]["depth"],
        p_train=dp["figures"]["focus_p_train"],
        half_widths=collapse.sensitivity.half_widths,
        n_0=collapse.sensitivity.N_0,
        seed=config["seed"],
    )
    log.info("\n%s", table)
    write_parquet(table, snakemake.output[0])
