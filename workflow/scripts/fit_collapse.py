"""Snakemake job: BKT and power-law collapses around the crossing at every p_train of one
architecture that has one, and the BKT chi2 maps."""

from prunephase.core.config import settings
from prunephase.core.io import read_parquet, write_parquet
from prunephase.core.logs import job_log
from prunephase.dropout_phases.criticality import collapse_fits
from prunephase.dropout_phases.settings import Collapse

snakemake = globals()["snakemake"]

with job_log(snakemake.log[0]) as log:
    config, w = snakemake.params.config, snakemake.wildcards
    runs = read_parquet(snakemake.input.per_run, ["width", "depth", "p_eval", "N", "run"])
    crossings = read_parquet(snakemake.input.crossings, ["width", "depth", "p_cross"])
    mine = {"width": int(w.width), "depth": int(w.depth)}
    runs = runs[(runs["width"] == mine["width"]) & (runs["depth"] == mine["depth"])]
    crossings = crossings[(crossings["width"] == mine["width"])
                          & (crossings["depth"] == mine["depth"])]  # fmt: skip
    collapse = settings(Collapse, config["dropout_phases"]["analysis"]["collapse"])
    fits, maps = collapse_fits(runs, crossings, collapse, config["seed"])
    log.info("\n%s", fits[["p_train", "ansatz", "p_c", "p_c_err", "sigma_or_nu", "chi2_nu"]])
    write_parquet(fits, snakemake.output.fits)
    write_parquet(maps, snakemake.output.maps)
