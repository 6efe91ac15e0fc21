"""Snakemake job: BKT and power-law collapses at every p_train of one architecture, chi2 maps."""

from prunephase.criticality import collapse_fits
from prunephase.io import read_parquet, write_parquet
from prunephase.logs import job_log

snakemake = globals()["snakemake"]

with job_log(snakemake.log[0]) as log:
    w = snakemake.wildcards
    runs = read_parquet(snakemake.input[0], ["width", "depth", "p_eval", "N", "run"])
    runs = runs[(runs["width"] == int(w.width)) & (runs["depth"] == int(w.depth))]
    fits, maps = collapse_fits(runs, snakemake.params.collapse, snakemake.params.seed)
    log.info("\n%s", fits[["p_train", "ansatz", "p_c", "p_c_err", "sigma_or_nu", "chi2_nu"]])
    write_parquet(fits, snakemake.output.fits)
    write_parquet(maps, snakemake.output.maps)
