import os
import sys
from pathlib import Path

import yaml
from snakemake.exceptions import WorkflowError

# The jobs run this checkout's package, whatever environment (conda or not) they run in: the
# conda environments in envs/ hold the dependencies, not the package. The workflow does not need
# PYTHONPATH from the user (hence no envvars: directive); it only puts src/ in front of it.
SRC = str(Path(workflow.basedir) / "src")
sys.path.insert(0, SRC)
os.environ.update(
    PYTHONPATH=os.pathsep.join(filter(None, [SRC, os.getenv("PYTHONPATH")]))
)

# light modules only: the DAG is built without torch
from prunephase.core.config import ConfigError, lookup, validate_config  # noqa: E402
from prunephase.core.devices import CPU_ALLOCATOR_ENV  # noqa: E402
from prunephase import cost  # noqa: E402

# keep large freed tensors in the heap (see CPU_ALLOCATOR_ENV); a user's own setting wins
os.environ.update({k: os.getenv(k, v) for k, v in CPU_ALLOCATOR_ENV.items()})

try:
    config.update(validate_config(config))
except ConfigError as err:
    raise WorkflowError(str(err)) from None

NOTEBOOKS = Path(workflow.basedir) / "notebooks"
CAPTIONS = Path(workflow.basedir) / "report"
RESULTS = Path("results")
LOGS = RESULTS / "logs"
FIGURES = RESULTS / "figures"

# GPU jobs ask for one GPU unless the config pins the CPU; without --resources gpu=K on the
# command line Snakemake does not limit the resource, so a laptop runs them all the same.
GPU_JOB = 0 if config["device"] == "cpu" else 1


def sorted_keys(value):
    """``value`` with every mapping's keys in sorted order: Snakemake compares params in order,
    and the order of keys in a config file means nothing."""
    if isinstance(value, dict):
        return {k: sorted_keys(value[k]) for k in sorted(value)}
    if isinstance(value, list):
        return [sorted_keys(v) for v in value]
    return value


def config_keys(*paths):
    """The named keys of the config (``"seed"``, ``"rap.bp"``, ...), nested as in the config: a
    job's params, so that a change of a key the job does not use does not rerun it."""
    picked = {}
    for path in paths:
        *parents, leaf = path.split(".")
        node = picked
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = lookup(config, path)
    return sorted_keys(picked)


def figure(study, name):
    """A figure's PNG and PDF (``multiext``); the PNG goes into ``snakemake --report`` with the
    caption report/<study>/<name>.rst."""
    png, pdf = multiext(str(FIGURES / study / name), ".png", ".pdf")
    caption = CAPTIONS / study / f"{name}.rst"
    png = report(png, caption=str(caption), category="Figures", subcategory=study,
                 labels={"figure": name})  # fmt: skip
    return [png, pdf]


# One row per executed notebook (rules/notebooks.yaml): its tables, figures and parameters. The
# notebook rules, their SLURM group and the final targets all come from this table.
with open(Path(workflow.basedir) / "rules" / "notebooks.yaml") as fh:
    NOTEBOOK_TABLE = yaml.safe_load(fh)


def executed_notebooks():
    """Every executed notebook, results/notebooks/<study>/<name>.ipynb."""
    return [
        RESULTS / "notebooks" / study / f"{name}.ipynb"
        for study, rows in NOTEBOOK_TABLE.items()
        for name in rows
    ]


def html_renderings(notebooks):
    """The HTML page of each executed notebook (rules/report.smk), for the report."""
    return [
        RESULTS / "notebooks_html" / Path(nb).parent.name / f"{Path(nb).stem}.html"
        for nb in notebooks
    ]


def all_targets():
    """Every final output: the executed notebooks (their figures come with them) and their HTML
    renderings (for ``snakemake --report``)."""
    notebooks = executed_notebooks()
    return [*notebooks, *html_renderings(notebooks)]


# --- paper A: the sweep's architectures and shards, and what a shard costs -----------------------


def architectures():
    return [(a["width"], a["depth"]) for a in config["dropout_phases"]["architectures"]]


def expand_architectures(pattern):
    """One path per architecture of the sweep."""
    return [str(pattern).format(width=w, depth=d) for w, d in architectures()]


def expand_shards(pattern):
    """One path per shard of the sweep: every architecture and training-set size."""
    return [
        str(pattern).format(width=w, depth=d, n=n)
        for w, d in architectures()
        for n in config["dropout_phases"]["n_train"]
    ]


def _shard_work(rule, wildcards):
    """The cost model's count of one shard job (prunephase.cost, torch-free)."""
    work = cost.JOBS[rule]
    return work(
        config["dropout_phases"],
        int(wildcards.width),
        int(wildcards.depth),
        int(wildcards.n),
    )


def shard_mem_mb(rule):
    """``mem_mb`` of a shard job of ``rule``: the cost model's peak memory, with headroom."""
    return lambda wildcards: cost.mem_mb(_shard_work(rule, wildcards))


def shard_runtime_min(rule):
    """``runtime`` of a shard job of ``rule``: the cost model's time on a deliberately slow
    machine (a GPU job's on an old GPU, a CPU job's on two shared cores), so a bound."""
    return lambda wildcards: cost.runtime_minutes(
        _shard_work(rule, wildcards), cost.scheduler_machine(config)
    )
