# Paper A: train shards -> per-mask evaluations -> per-run and summary tables -> alpha_CE, phases,
# crossings.

from prunephase.dropout_phases.settings import problems as dp_problems  # noqa: E402

# what the schema cannot check (N_0 below the smallest N, ...), before any job
if dp_problems(config["dropout_phases"]):
    raise WorkflowError(
        "invalid configuration:\n  "
        + "\n  ".join(dp_problems(config["dropout_phases"]))
    )

DP = RESULTS / "dropout_phases"
SHARD = DP / "w{width}_d{depth}" / "N{n}"


wildcard_constraints:
    width="[0-9]+",
    depth="[0-9]+",
    n="[0-9]+",


rule train_shard:
    input:
        mnist=rules.mnist.output[0],
    output:
        SHARD / "models.pt",
    log:
        LOGS / "dropout_phases" / "train_w{width}_d{depth}_N{n}.log",
    conda:
        "../envs/prunephase.yaml"
    threads: 4
    resources:
        gpu=GPU_JOB,
        mem_mb=shard_mem_mb("train_shard"),
        runtime=shard_runtime_min("train_shard"),
    params:
        config=config_keys(
            "seed",
            "device",
            "tf32",
            "dropout_phases.p_train",
            "dropout_phases.runs",
            "dropout_phases.activation",
            "dropout_phases.rescale",
            "dropout_phases.input_scaling",
            "dropout_phases.training",
        ),
    script:
        "../workflow/scripts/train_shard.py"


rule evaluate_shard:
    input:
        mnist=rules.mnist.output[0],
        shard=rules.train_shard.output[0],
    output:
        SHARD / "per_mask.parquet",
    log:
        LOGS / "dropout_phases" / "evaluate_w{width}_d{depth}_N{n}.log",
    conda:
        "../envs/prunephase.yaml"
    threads: 4
    resources:
        gpu=GPU_JOB,
        mem_mb=shard_mem_mb("evaluate_shard"),
        runtime=shard_runtime_min("evaluate_shard"),
    params:
        config=config_keys(
            "device",
            "tf32",
            "dropout_phases.p_eval",
            "dropout_phases.evaluation",
            "dropout_phases.rescale",
            "dropout_phases.input_scaling",
        ),
    script:
        "../workflow/scripts/evaluate_shard.py"


rule summarise_dropout_phases:
    input:
        expand_shards(SHARD / "per_mask.parquet"),
    output:
        per_run=DP / "per_run.parquet",
        summary=DP / "summary.parquet",
    log:
        LOGS / "dropout_phases" / "summarise.log",
    group:
        "tables"
    conda:
        "../envs/prunephase.yaml"
    resources:
        mem_mb=4000,
        runtime=15,
    script:
        "../workflow/scripts/summarise_dropout_phases.py"


rule fit_alpha_ce:
    input:
        rules.summarise_dropout_phases.output.per_run,
    output:
        alpha=DP / "alpha_ce.parquet",
        crossings=DP / "crossings.parquet",
    log:
        LOGS / "dropout_phases" / "alpha_ce.log",
    group:
        "tables"
    conda:
        "../envs/prunephase.yaml"
    resources:
        mem_mb=4000,
        runtime=15,
    params:
        config=config_keys(
            "seed",
            "dropout_phases.analysis.bootstrap",
            "dropout_phases.analysis.phase_n_se",
            "dropout_phases.analysis.phase_min_alpha",
            "dropout_phases.analysis.amentia_accuracy",
            "dropout_phases.analysis.local_sizes",
        ),
    script:
        "../workflow/scripts/fit_alpha_ce.py"
