# Executed notebooks of paper A (dropout phases); each also writes its figure as PNG and PDF.

NB_OUT = RESULTS / "notebooks" / "dropout_phases"
FIG_OUT = RESULTS / "figures" / "dropout_phases"
MAIN_ARCH = {"width": architectures()[0][0], "depth": architectures()[0][1]}


rule dp_fig1_schematic:
    input:
        notebook=NOTEBOOKS / "dropout_phases" / "fig1_schematic.ipynb",
    output:
        notebook=NB_OUT / "fig1_schematic.ipynb",
        fig1=multiext(str(FIG_OUT / "fig1"), ".png", ".pdf"),
    log:
        LOGS / "notebooks" / "dp_fig1_schematic.log",
    conda:
        "../envs/analysis.yaml"
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        parameters=MAIN_ARCH,
    script:
        "../workflow/scripts/run_notebook.py"


rule dp_fig2_phase_diagram:
    input:
        notebook=NOTEBOOKS / "dropout_phases" / "fig2_phase_diagram.ipynb",
        summary=rules.summarise_dropout_phases.output.summary,
        alpha_ce=rules.fit_alpha_ce.output[0],
    output:
        notebook=NB_OUT / "fig2_phase_diagram.ipynb",
        fig2=multiext(str(FIG_OUT / "fig2"), ".png", ".pdf"),
    log:
        LOGS / "notebooks" / "dp_fig2_phase_diagram.log",
    conda:
        "../envs/analysis.yaml"
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        parameters=MAIN_ARCH,
    script:
        "../workflow/scripts/run_notebook.py"


rule dp_fig3_scaling:
    input:
        notebook=NOTEBOOKS / "dropout_phases" / "fig3_scaling.ipynb",
        summary=rules.summarise_dropout_phases.output.summary,
        alpha_ce=rules.fit_alpha_ce.output[0],
    output:
        notebook=NB_OUT / "fig3_scaling.ipynb",
        fig3=multiext(str(FIG_OUT / "fig3"), ".png", ".pdf"),
    log:
        LOGS / "notebooks" / "dp_fig3_scaling.log",
    conda:
        "../envs/analysis.yaml"
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        parameters=MAIN_ARCH | {"linecut_p_eval": STUDY["figures"]["linecut_p_eval"]},
    script:
        "../workflow/scripts/run_notebook.py"


rule dp_training_length:
    input:
        notebook=NOTEBOOKS / "dropout_phases" / "training_length.ipynb",
        summary=rules.summarise_dropout_phases.output.summary,
        alpha_ce=rules.fit_alpha_ce.output[0],
    output:
        notebook=NB_OUT / "training_length.ipynb",
        training_length=multiext(str(FIG_OUT / "training_length"), ".png", ".pdf"),
    log:
        LOGS / "notebooks" / "dp_training_length.log",
    conda:
        "../envs/analysis.yaml"
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        parameters=MAIN_ARCH | {"focus_p_train": STUDY["figures"]["focus_p_train"]},
    script:
        "../workflow/scripts/run_notebook.py"
