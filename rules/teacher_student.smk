# Paper C (Acharyya et al. 2021): pruning in the soft-committee teacher-student setup, and MNIST.
import re

from snakemake.exceptions import WorkflowError

TS = config["teacher_student"]
TS_DIR = RESULTS / "teacher_student"

# a trained run per setting and noise level; the ideal specialised student per setting
TS_IDEAL = {f"K{s['K']}_M{s['M']}": {**s, "sigma": 0.0} for s in TS["settings"]}
TS_RUNS = {
    f"{name}_sigma{sigma:g}": {**s, "sigma": sigma}
    for name, s in TS_IDEAL.items()
    for sigma in TS["sigmas"]
}
TS_NETWORKS = list(range(TS["mnist"]["seeds"]))
# the MNIST ensemble takes half the cores (at most 4), so that on a small machine it trains beside
# the single-threaded teacher-student jobs instead of waiting for all of them to finish; without a
# total number of cores (--report, --unlock, cluster profiles) it takes 4
try:
    TS_MNIST_THREADS = max(1, min(4, workflow.cores // 2))
except WorkflowError:
    TS_MNIST_THREADS = 4
# the keys each job reads, exactly the fields of its settings class (teacher_student.settings)
TS_DYNAMICS_KEYS = [
    f"teacher_student.{key}"
    for key in (
        "N",
        "eta",
        "v_star",
        "w_init_std",
        "v_init_std",
        "students",
        "record_points",
        "ode_rtol",
    )
]
TS_MNIST_TRAINING_KEYS = [
    f"teacher_student.mnist.{key}"
    for key in (
        "seeds",
        "hidden",
        "n_train",
        "input_scaling",
        "lr",
        "momentum",
        "batch_size",
        "max_epochs",
        "stop_train_accuracy",
    )
]
TS_MNIST_PRUNING_KEYS = [
    f"teacher_student.mnist.{key}"
    for key in (
        "input_scaling",
        "fit_samples",
        "budget",
        "kept_percent",
        "draws",
        "ridge",
        "dpp_kernel",
        "rbf_gamma",
        "dpp_jitter",
    )
]


wildcard_constraints:
    ts_run="|".join(map(re.escape, TS_RUNS)),
    ts_ideal="|".join(map(re.escape, TS_IDEAL)),
    ts_network=r"\d+",


rule teacher_student_train:
    output:
        dynamics=TS_DIR / "dynamics" / "{ts_run}.parquet",
        students=TS_DIR / "students" / "{ts_run}.npz",
    log:
        LOGS / "teacher_student" / "train_{ts_run}.log",
    conda:
        "../envs/prunephase.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=60,
    params:
        run=lambda wc: sorted_keys(TS_RUNS[wc.ts_run]),
        config=config_keys("seed", *TS_DYNAMICS_KEYS),
    script:
        "../workflow/scripts/teacher_student_train.py"


rule teacher_student_prune:
    input:
        students=TS_DIR / "students" / "{ts_run}.npz",
    output:
        pruning=TS_DIR / "pruning" / "{ts_run}.parquet",
        heatmaps=TS_DIR / "heatmaps" / "{ts_run}.parquet",
    log:
        LOGS / "teacher_student" / "prune_{ts_run}.log",
    conda:
        "../envs/prunephase.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=30,
    params:
        run=lambda wc: sorted_keys(TS_RUNS[wc.ts_run]),
        config=config_keys("seed", "teacher_student.pruning"),
    script:
        "../workflow/scripts/teacher_student_prune.py"


rule teacher_student_prune_specialised:
    output:
        pruning=TS_DIR / "pruning_specialised" / "{ts_ideal}.parquet",
        heatmaps=TS_DIR / "heatmaps_specialised" / "{ts_ideal}.parquet",
    log:
        LOGS / "teacher_student" / "prune_specialised_{ts_ideal}.log",
    conda:
        "../envs/prunephase.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=30,
    params:
        run=lambda wc: sorted_keys(TS_IDEAL[wc.ts_ideal]),
        config=config_keys(
            "seed",
            "teacher_student.N",
            "teacher_student.v_star",
            "teacher_student.pruning",
        ),
    script:
        "../workflow/scripts/teacher_student_prune_specialised.py"


# every MNIST network in one ensemble, one job; each network is then pruned by a job of its own
rule teacher_student_mnist_train:
    input:
        mnist=rules.mnist.output[0],
    output:
        networks=TS_DIR / "mnist" / "networks.npz",
        history=TS_DIR / "mnist_history.parquet",
    log:
        LOGS / "teacher_student" / "mnist_train.log",
    conda:
        "../envs/prunephase.yaml"
    threads: TS_MNIST_THREADS
    resources:
        gpu=GPU_JOB,
        mem_mb=4000,
        runtime=60,
    params:
        config=config_keys("seed", "device", *TS_MNIST_TRAINING_KEYS),
    script:
        "../workflow/scripts/teacher_student_mnist_train.py"


rule teacher_student_mnist_prune:
    input:
        mnist=rules.mnist.output[0],
        networks=TS_DIR / "mnist" / "networks.npz",
    output:
        pruning=TS_DIR / "mnist" / "pruning_{ts_network}.parquet",
    log:
        LOGS / "teacher_student" / "mnist_prune_{ts_network}.log",
    conda:
        "../envs/prunephase.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=60,
    params:
        config=config_keys("seed", *TS_MNIST_PRUNING_KEYS),
    script:
        "../workflow/scripts/teacher_student_mnist_prune.py"


# one table from the tables of every run, setting or network (the MNIST training job writes
# its history table itself)
TS_TABLES = {
    "dynamics": expand(TS_DIR / "dynamics" / "{ts_run}.parquet", ts_run=TS_RUNS),
    "pruning": expand(TS_DIR / "pruning" / "{ts_run}.parquet", ts_run=TS_RUNS),
    "pruning_specialised": expand(
        TS_DIR / "pruning_specialised" / "{ts_ideal}.parquet", ts_ideal=TS_IDEAL
    ),
    "heatmaps": [
        *expand(TS_DIR / "heatmaps" / "{ts_run}.parquet", ts_run=TS_RUNS),
        *expand(
            TS_DIR / "heatmaps_specialised" / "{ts_ideal}.parquet", ts_ideal=TS_IDEAL
        ),
    ],
    "mnist_pruning": expand(
        TS_DIR / "mnist" / "pruning_{ts_network}.parquet", ts_network=TS_NETWORKS
    ),
}

for table, parts in TS_TABLES.items():

    rule:
        name:
            f"teacher_student_{table}_table"
        input:
            **{table: parts},
        output:
            **{table: TS_DIR / f"{table}.parquet"},
        log:
            LOGS / "teacher_student" / f"{table}_table.log",
        group:
            "tables"
        conda:
            "../envs/prunephase.yaml"
        resources:
            mem_mb=2000,
            runtime=10,
        script:
            "../workflow/scripts/concat_tables.py"


# the claims, the summary of every curve, and the closed-form comparison of random edge and node
# pruning of the specialised student
rule teacher_student_claims:
    input:
        pruning=TS_DIR / "pruning.parquet",
        specialised=TS_DIR / "pruning_specialised.parquet",
    output:
        paired=TS_DIR / "paired_comparisons.parquet",
        claims=TS_DIR / "claims.parquet",
        summary=TS_DIR / "pruning_summary.parquet",
        edge_vs_node=TS_DIR / "random_edge_vs_node.parquet",
    log:
        LOGS / "teacher_student" / "claims.log",
    group:
        "tables"
    conda:
        "../envs/prunephase.yaml"
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        config=config_keys("teacher_student.v_star", "teacher_student.settings"),
    script:
        "../workflow/scripts/teacher_student_claims.py"


rule teacher_student_mnist_ranking:
    input:
        TS_DIR / "mnist_pruning.parquet",
    output:
        TS_DIR / "mnist_ranking.parquet",
    log:
        LOGS / "teacher_student" / "mnist_ranking.log",
    group:
        "tables"
    conda:
        "../envs/prunephase.yaml"
    resources:
        mem_mb=2000,
        runtime=10,
    script:
        "../workflow/scripts/teacher_student_mnist_ranking.py"
