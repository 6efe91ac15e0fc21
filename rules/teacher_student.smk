# Paper C (Acharyya et al. 2021): pruning in the soft-committee teacher-student setup, and MNIST.
import re

TS = config["teacher_student"]
TS_DIR = RESULTS / "teacher_student"
TS_FIGURES = RESULTS / "figures" / "teacher_student"
TS_NOTEBOOKS = RESULTS / "notebooks" / "teacher_student"


# a trained run per setting and noise level; the ideal specialised student per setting
TS_IDEAL = {f"K{s['K']}_M{s['M']}": {**s, "sigma": 0.0} for s in TS["settings"]}
TS_RUNS = {
    f"{name}_sigma{sigma:g}": {**s, "sigma": sigma}
    for name, s in TS_IDEAL.items()
    for sigma in TS["sigmas"]
}
TS_NETWORKS = list(range(TS["mnist"]["seeds"]))


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
        "../envs/analysis.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=60,
    params:
        run=lambda wc: TS_RUNS[wc.ts_run],
        section=TS,
        seed=config["seed"],
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
        "../envs/analysis.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=30,
    params:
        run=lambda wc: TS_RUNS[wc.ts_run],
        section=TS,
        seed=config["seed"],
        student="sgd",
    script:
        "../workflow/scripts/teacher_student_prune.py"


rule teacher_student_prune_specialised:
    output:
        pruning=TS_DIR / "pruning_specialised" / "{ts_ideal}.parquet",
        heatmaps=TS_DIR / "heatmaps_specialised" / "{ts_ideal}.parquet",
    log:
        LOGS / "teacher_student" / "prune_specialised_{ts_ideal}.log",
    conda:
        "../envs/analysis.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=30,
    params:
        run=lambda wc: TS_IDEAL[wc.ts_ideal],
        section=TS,
        seed=config["seed"],
        student="specialised",
    script:
        "../workflow/scripts/teacher_student_prune.py"


rule teacher_student_mnist_train:
    input:
        mnist=RESULTS / "data" / "mnist.npz",
    output:
        network=TS_DIR / "mnist" / "network_{ts_network}.npz",
        history=TS_DIR / "mnist" / "history_{ts_network}.parquet",
    log:
        LOGS / "teacher_student" / "mnist_train_{ts_network}.log",
    conda:
        "../envs/torch.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=60,
    params:
        options=TS["mnist"],
        seed=config["seed"],
    script:
        "../workflow/scripts/teacher_student_mnist_train.py"


rule teacher_student_mnist_prune:
    input:
        mnist=RESULTS / "data" / "mnist.npz",
        network=TS_DIR / "mnist" / "network_{ts_network}.npz",
    output:
        pruning=TS_DIR / "mnist" / "pruning_{ts_network}.parquet",
    log:
        LOGS / "teacher_student" / "mnist_prune_{ts_network}.log",
    conda:
        "../envs/torch.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=60,
    params:
        options=TS["mnist"],
        seed=config["seed"],
    script:
        "../workflow/scripts/teacher_student_mnist_prune.py"


rule teacher_student_dynamics_notebook:
    input:
        notebook=NOTEBOOKS / "teacher_student" / "dynamics.ipynb",
        dynamics=expand(TS_DIR / "dynamics" / "{ts_run}.parquet", ts_run=TS_RUNS),
    output:
        notebook=TS_NOTEBOOKS / "dynamics.ipynb",
        figure=figure(TS_FIGURES / "ode_vs_sgd"),
    log:
        LOGS / "notebooks" / "teacher_student_dynamics.log",
    conda:
        "../envs/analysis.yaml"
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        parameters={"N": TS["N"]},
    script:
        "../workflow/scripts/run_notebook.py"


rule teacher_student_random_edge_notebook:
    input:
        notebook=NOTEBOOKS / "teacher_student" / "random_edge_theory.ipynb",
        specialised=expand(
            TS_DIR / "pruning_specialised" / "{ts_ideal}.parquet", ts_ideal=TS_IDEAL
        ),
    output:
        notebook=TS_NOTEBOOKS / "random_edge_theory.ipynb",
        figure=figure(TS_FIGURES / "random_edge_closed_form"),
    log:
        LOGS / "notebooks" / "teacher_student_random_edge.log",
    conda:
        "../envs/analysis.yaml"
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        parameters={"N": TS["N"], "v_star": TS["v_star"]},
    script:
        "../workflow/scripts/run_notebook.py"


rule teacher_student_pruning_notebook:
    input:
        notebook=NOTEBOOKS / "teacher_student" / "pruning.ipynb",
        pruning=expand(TS_DIR / "pruning" / "{ts_run}.parquet", ts_run=TS_RUNS),
        specialised=expand(
            TS_DIR / "pruning_specialised" / "{ts_ideal}.parquet", ts_ideal=TS_IDEAL
        ),
        heatmap_tables=expand(TS_DIR / "heatmaps" / "{ts_run}.parquet", ts_run=TS_RUNS),
        heatmap_tables_specialised=expand(
            TS_DIR / "heatmaps_specialised" / "{ts_ideal}.parquet", ts_ideal=TS_IDEAL
        ),
    output:
        notebook=TS_NOTEBOOKS / "pruning.ipynb",
        comparisons=figure(TS_FIGURES / "pruning_comparisons"),
        comparisons_reweighted=figure(TS_FIGURES / "pruning_comparisons_reweighted"),
        heatmaps_figure=figure(TS_FIGURES / "heatmaps"),
        claims=TS_DIR / "claims.parquet",
    log:
        LOGS / "notebooks" / "teacher_student_pruning.log",
    conda:
        "../envs/analysis.yaml"
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        parameters={"v_star": TS["v_star"]},
    script:
        "../workflow/scripts/run_notebook.py"


rule teacher_student_mnist_notebook:
    input:
        notebook=NOTEBOOKS / "teacher_student" / "mnist.ipynb",
        pruning=expand(
            TS_DIR / "mnist" / "pruning_{ts_network}.parquet", ts_network=TS_NETWORKS
        ),
        history=expand(
            TS_DIR / "mnist" / "history_{ts_network}.parquet", ts_network=TS_NETWORKS
        ),
    output:
        notebook=TS_NOTEBOOKS / "mnist.ipynb",
        figure=figure(TS_FIGURES / "mnist_pruning"),
        ranking=TS_DIR / "mnist_ranking.parquet",
    log:
        LOGS / "notebooks" / "teacher_student_mnist.log",
    conda:
        "../envs/analysis.yaml"
    resources:
        mem_mb=2000,
        runtime=10,
    script:
        "../workflow/scripts/run_notebook.py"
