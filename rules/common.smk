import os
import sys
from pathlib import Path

from snakemake.exceptions import WorkflowError

# The jobs run this checkout's package, whatever environment (conda or not) they run in: the
# conda environments in envs/ hold the dependencies, not the package. The workflow does not need
# PYTHONPATH from the user (hence no envvars: directive); it only puts src/ in front of it.
SRC = str(Path(workflow.basedir) / "src")
sys.path.insert(0, SRC)
os.environ.update(
    PYTHONPATH=os.pathsep.join(filter(None, [SRC, os.getenv("PYTHONPATH")]))
)

from prunephase.config import ConfigError, load_schema, validate_config  # noqa: E402
from prunephase.training import CPU_ALLOCATOR_ENV  # noqa: E402

# keep large freed tensors in the heap (see CPU_ALLOCATOR_ENV); a user's own setting wins
os.environ.update({k: os.getenv(k, v) for k, v in CPU_ALLOCATOR_ENV.items()})

try:
    config.update(
        validate_config(
            config, load_schema(workflow.source_path("../config/config.schema.yaml"))
        )
    )
except ConfigError as err:
    raise WorkflowError(str(err)) from None

NOTEBOOKS = Path(workflow.basedir) / "notebooks"
CAPTIONS = Path(workflow.basedir) / "report"
RESULTS = Path("results")
LOGS = RESULTS / "logs"


def figure(prefix):
    """A figure's PNG and PDF (``multiext``); the PNG goes into ``snakemake --report`` with the
    caption report/<topic>/<name>.rst of results/figures/<topic>/<name>."""
    png, pdf = multiext(str(prefix), ".png", ".pdf")
    topic, name = Path(prefix).parent.name, Path(prefix).name
    caption = CAPTIONS / topic / f"{name}.rst"
    png = report(png, caption=str(caption), category="Figures", subcategory=topic,
                 labels={"figure": name})  # fmt: skip
    return [png, pdf]


def html_renderings(notebooks):
    """The HTML page of each executed notebook (rules/report.smk), for the report."""
    return [
        RESULTS / "notebooks_html" / Path(nb).parent.name / f"{Path(nb).stem}.html"
        for nb in notebooks
    ]


def dropout_phases_targets():
    """The executed notebooks of paper A."""
    return expand(
        RESULTS / "notebooks" / "dropout_phases" / "{name}.ipynb",
        name=[
            "fig1_schematic",
            "fig2_phase_diagram",
            "fig3_scaling",
            "training_length",
            "fig4_collapse",
            "fig5_accuracy_binder",
            "robustness",
        ],
    )


def rap_targets():
    """The executed notebooks of paper B (rules/rap.smk); their figures come with them."""
    names = [
        "fig1_model",
        "fig2_activations",
        "fig3_dilution",
        "fig4_critical",
        "fig5_low_temperature",
        "supplement_redundancy",
    ]
    return [RESULTS / "notebooks" / "rap" / f"{name}.ipynb" for name in names]


def teacher_student_targets():
    """The executed notebooks of paper C (rules/teacher_student.smk); figures come with them."""
    names = ["dynamics", "random_edge_theory", "pruning", "mnist"]
    return [
        RESULTS / "notebooks" / "teacher_student" / f"{name}.ipynb" for name in names
    ]


def all_targets():
    """Every final output: the executed notebooks (their figures come with them) and their HTML
    renderings (for ``snakemake --report``)."""
    notebooks = [*dropout_phases_targets(), *rap_targets(), *teacher_student_targets()]
    return [*notebooks, *html_renderings(notebooks)]


# GPU jobs ask for one GPU unless the config pins the CPU; without --resources gpu=K on the
# command line Snakemake does not limit the resource, so a laptop runs them all the same.
GPU_JOB = 0 if config["device"] == "cpu" else 1


def study_config(*keys):
    """The root seed, the device and the named keys of the dropout_phases section: a job's params
    (so that a change of an unrelated key does not rerun it)."""
    study = config["dropout_phases"]
    return {
        "seed": config["seed"],
        "device": config["device"],
        "dropout_phases": {k: study[k] for k in keys},
    }


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


def _parameters_per_model(width, depth):
    sizes = [784, *([width] * depth), 10]
    return sum(a * b + b for a, b in zip(sizes, sizes[1:]))


def shard_mem_mb(width, depth):
    """Parameters, Adam state and snapshots of every model of a shard, the data, and headroom."""
    study = config["dropout_phases"]
    n_models = len(study["p_train"]) * study["runs"]
    copies = 4 + len(study["training"]["snapshots"]) + 1
    model_mb = n_models * _parameters_per_model(width, depth) * 4 * copies / 2**20
    return int(2000 + 1.5 * model_mb)


def shard_runtime_min(width, depth, n):
    """A generous wall-time bound: the shard's training FLOPs at 10 GFLOP/s (CPU) or 2 TFLOP/s."""
    study = config["dropout_phases"]
    t = study["training"]
    steps_per_epoch = -(-n // t["batch_size"])
    steps = max(t["epochs"], -(-t["min_steps"] // steps_per_epoch)) * steps_per_epoch
    n_models = len(study["p_train"]) * study["runs"]
    flops = 6 * _parameters_per_model(width, depth) * t["batch_size"] * steps * n_models
    rate = 10e9 if GPU_JOB == 0 else 2e12
    return int(10 + flops / rate / 60)
