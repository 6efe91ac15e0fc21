"""Snakemake job: locate or download the MNIST files, verify their MD5s, store the arrays."""

from prunephase.core.logs import job_log
from prunephase.mnist import locate_mnist, read_mnist, save_npz

snakemake = globals()["snakemake"]

with job_log(snakemake.log[0]) as log:
    paths = locate_mnist(
        snakemake.params.dirs, download=snakemake.params.download, mirrors=snakemake.params.mirrors
    )
    for part, path in paths.items():
        log.info("%s: %s (MD5 verified)", part, path)
    save_npz(read_mnist(paths), snakemake.output[0])
