# Paper B: the random active path model (cavity method, Monte Carlo, annealing) and its figures.

RAP = RESULTS / "rap"
RAP_FIGURES = RESULTS / "figures" / "rap"
RAP_NOTEBOOKS = RESULTS / "notebooks" / "rap"


wildcard_constraints:
    layer="[123]",


rule rap_degrees:
    output:
        RAP / "degrees.parquet",
    log:
        LOGS / "rap" / "degrees.log",
    conda:
        "../envs/analysis.yaml"
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        rap=config["rap"],
        seed=config["seed"],
    script:
        "../workflow/scripts/rap_degrees.py"


rule rap_dilution_sweep:
    output:
        RAP / "dilution_layer{layer}.parquet",
    log:
        LOGS / "rap" / "dilution_layer{layer}.log",
    conda:
        "../envs/analysis.yaml"
    resources:
        mem_mb=4000,
        runtime=120,
    params:
        rap=config["rap"],
        seed=config["seed"],
    script:
        "../workflow/scripts/rap_dilution.py"


rule rap_critical:
    output:
        RAP / "critical.parquet",
    log:
        LOGS / "rap" / "critical.log",
    conda:
        "../envs/analysis.yaml"
    resources:
        mem_mb=4000,
        runtime=120,
    params:
        rap=config["rap"],
        seed=config["seed"],
    script:
        "../workflow/scripts/rap_critical.py"


rule rap_annealing:
    output:
        RAP / "annealing.parquet",
    log:
        LOGS / "rap" / "annealing.log",
    conda:
        "../envs/analysis.yaml"
    resources:
        mem_mb=2000,
        runtime=120,
    params:
        rap=config["rap"],
        seed=config["seed"],
    script:
        "../workflow/scripts/rap_annealing.py"


rule rap_low_temperature:
    output:
        RAP / "low_temperature.parquet",
    log:
        LOGS / "rap" / "low_temperature.log",
    conda:
        "../envs/analysis.yaml"
    resources:
        mem_mb=2000,
        runtime=120,
    params:
        rap=config["rap"],
        seed=config["seed"],
    script:
        "../workflow/scripts/rap_low_temperature.py"


rule rap_activations:
    output:
        RAP / "activations.parquet",
    log:
        LOGS / "rap" / "activations.log",
    conda:
        "../envs/torch.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=60,
    params:
        activations=config["rap"]["activations"],
        seed=config["seed"],
    script:
        "../workflow/scripts/rap_activations.py"


rule rap_fig1:
    input:
        notebook=NOTEBOOKS / "rap" / "fig1_model.ipynb",
    output:
        notebook=RAP_NOTEBOOKS / "fig1_model.ipynb",
        fig1=multiext(str(RAP_FIGURES / "fig1"), ".png", ".pdf"),
    log:
        LOGS / "notebooks" / "rap_fig1.log",
    conda:
        "../envs/analysis.yaml"
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        parameters={
            "seed": config["seed"],
            "p1": config["rap"]["p1"],
            "p2": config["rap"]["p2"],
        },
    script:
        "../workflow/scripts/run_notebook.py"


rule rap_fig2:
    input:
        notebook=NOTEBOOKS / "rap" / "fig2_activations.ipynb",
        activations=RAP / "activations.parquet",
    output:
        notebook=RAP_NOTEBOOKS / "fig2_activations.ipynb",
        fig2=multiext(str(RAP_FIGURES / "fig2"), ".png", ".pdf"),
    log:
        LOGS / "notebooks" / "rap_fig2.log",
    conda:
        "../envs/analysis.yaml"
    resources:
        mem_mb=2000,
        runtime=10,
    script:
        "../workflow/scripts/run_notebook.py"


rule rap_fig3:
    input:
        notebook=NOTEBOOKS / "rap" / "fig3_dilution.ipynb",
        degrees=RAP / "degrees.parquet",
        sweeps=expand(
            RAP / "dilution_layer{layer}.parquet",
            layer=config["rap"]["dilution_sweep"]["layers"],
        ),
    output:
        notebook=RAP_NOTEBOOKS / "fig3_dilution.ipynb",
        fig3=multiext(str(RAP_FIGURES / "fig3"), ".png", ".pdf"),
        fig3_check=multiext(str(RAP_FIGURES / "fig3_bp_mc_exact"), ".png", ".pdf"),
    log:
        LOGS / "notebooks" / "rap_fig3.log",
    conda:
        "../envs/analysis.yaml"
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        parameters={
            "beta": config["rap"]["beta"],
            "degree_q": config["rap"]["degrees"]["q"],
        },
    script:
        "../workflow/scripts/run_notebook.py"


rule rap_fig4:
    input:
        notebook=NOTEBOOKS / "rap" / "fig4_critical.ipynb",
        critical=RAP / "critical.parquet",
    output:
        notebook=RAP_NOTEBOOKS / "fig4_critical.ipynb",
        fig4=multiext(str(RAP_FIGURES / "fig4"), ".png", ".pdf"),
    log:
        LOGS / "notebooks" / "rap_fig4.log",
    conda:
        "../envs/analysis.yaml"
    resources:
        mem_mb=2000,
        runtime=10,
    script:
        "../workflow/scripts/run_notebook.py"


rule rap_fig5:
    input:
        notebook=NOTEBOOKS / "rap" / "fig5_low_temperature.ipynb",
        annealing=RAP / "annealing.parquet",
        low_temperature=RAP / "low_temperature.parquet",
    output:
        notebook=RAP_NOTEBOOKS / "fig5_low_temperature.ipynb",
        fig5=multiext(str(RAP_FIGURES / "fig5"), ".png", ".pdf"),
    log:
        LOGS / "notebooks" / "rap_fig5.log",
    conda:
        "../envs/analysis.yaml"
    resources:
        mem_mb=2000,
        runtime=10,
    script:
        "../workflow/scripts/run_notebook.py"


rule rap_redundancy:
    input:
        mnist=rules.mnist.output[0],
    output:
        RAP / "mnist_redundancy.parquet",
    log:
        LOGS / "rap" / "mnist_redundancy.log",
    conda:
        "../envs/torch.yaml"
    threads: 4
    resources:
        gpu=GPU_JOB,
        mem_mb=4000,
        runtime=60,
    params:
        redundancy=config["rap"]["redundancy"],
        seed=config["seed"],
        device=config["device"],
    script:
        "../workflow/scripts/rap_redundancy.py"


rule rap_supplement_redundancy:
    input:
        notebook=NOTEBOOKS / "rap" / "supplement_redundancy.ipynb",
        redundancy=RAP / "mnist_redundancy.parquet",
    output:
        notebook=RAP_NOTEBOOKS / "supplement_redundancy.ipynb",
        supplement_redundancy=multiext(
            str(RAP_FIGURES / "supplement_redundancy"), ".png", ".pdf"
        ),
    log:
        LOGS / "notebooks" / "rap_supplement_redundancy.log",
    conda:
        "../envs/analysis.yaml"
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        parameters={
            "width": config["rap"]["redundancy"]["width"],
            "depth": config["rap"]["redundancy"]["depth"],
            "n_train": config["rap"]["redundancy"]["n_train"],
        },
    script:
        "../workflow/scripts/run_notebook.py"
