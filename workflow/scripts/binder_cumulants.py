"""Snakemake job: Binder cumulant of the test accuracy over the masks of each network, averaged
over runs, at every sweep point."""

import pandas as pd

from prunephase.core.io import read_parquet, write_parquet
from prunephase.core.logs import job_log
from prunephase.dropout_phases.criticality import binder_table

snakemake = globals()["snakemake"]

with job_log(snakemake.log[0]):
    config = snakemake.params.config
    n_bootstrap = config["dropout_phases"]["analysis"]["bootstrap"]
    tables = [
        binder_table(read_parquet(p, ["accuracy", "mask"]), n_bootstrap, config["seed"])
        for p in snakemake.input
    ]
    write_parquet(pd.concat(tables, ignore_index=True), snakemake.output[0])
