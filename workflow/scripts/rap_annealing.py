"""Snakemake job: simulated annealing at several cooling rates (Fig. 5a)."""

from prunephase.core.io import write_parquet
from prunephase.core.logs import job_log
from prunephase.rap.experiments import annealing_runs, beta_ladder, make_instance

snakemake = globals()["snakemake"]

with job_log(snakemake.log[0]) as log:
    config = snakemake.params.config
    rap, seed = config["rap"], config["seed"]
    ann = rap["annealing"]
    instances = [
        (k, make_instance(rap["n"], rap["p1"], rap["p2"], rap["diluted_layer"], ann["q"], seed, k))
        for k in range(ann["instances"])
    ]
    table = annealing_runs(instances, beta_ladder(ann), ann["sweeps_per_temperature"], seed)
    log.info("%d rows", len(table))
    write_parquet(table, snakemake.output[0])
