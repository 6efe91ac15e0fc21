# Paper A: train shards -> per-mask evaluations -> per-run and summary tables -> alpha_CE, phases.

STUDY = config["dropout_phases"]
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
        "../envs/torch.yaml"
    threads: 4
    resources:
        gpu=GPU_JOB,
        mem_mb=lambda w: shard_mem_mb(int(w.width), int(w.depth)),
        runtime=lambda w: shard_runtime_min(int(w.width), int(w.depth), int(w.n)),
    params:
        config=lambda w: study_config(
            "p_train", "runs", "activation", "rescale", "input_scaling", "training"
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
        "../envs/torch.yaml"
    threads: 4
    resources:
        gpu=GPU_JOB,
        mem_mb=lambda w: shard_mem_mb(int(w.width), int(w.depth)),
        runtime=lambda w: shard_runtime_min(int(w.width), int(w.depth), int(w.n)),
    params:
        config=lambda w: study_config(
            "p_eval", "evaluation", "rescale", "input_scaling", "activation"
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
    conda:
        "../envs/analysis.yaml"
    resources:
        mem_mb=4000,
        runtime=15,
    script:
        "../workflow/scripts/summarise_dropout_phases.py"


rule fit_alpha_ce:
    input:
        rules.summarise_dropout_phases.output.per_run,
    output:
        DP / "alpha_ce.parquet",
    log:
        LOGS / "dropout_phases" / "alpha_ce.log",
    conda:
        "../envs/analysis.yaml"
    resources:
        mem_mb=4000,
        runtime=15,
    params:
        analysis=STUDY["analysis"],
        seed=config["seed"],
    script:
        "../workflow/scripts/fit_alpha_ce.py"
