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


rule dp_fig4_collapse:
    input:
        notebook=NOTEBOOKS / "dropout_phases" / "fig4_collapse.ipynb",
        summary=rules.summarise_dropout_phases.output.summary,
        per_run=rules.summarise_dropout_phases.output.per_run,
        collapse=rules.combine_collapses.output.fits,
        chi2_map=rules.combine_collapses.output.maps,
    output:
        notebook=NB_OUT / "fig4_collapse.ipynb",
        fig4=multiext(str(FIG_OUT / "fig4"), ".png", ".pdf"),
    log:
        LOGS / "notebooks" / "dp_fig4_collapse.log",
    conda:
        "../envs/analysis.yaml"
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        parameters=MAIN_ARCH
        | {
            "focus_p_train": STUDY["figures"]["focus_p_train"],
            "collapse_settings": STUDY["analysis"]["collapse"],
        },
    script:
        "../workflow/scripts/run_notebook.py"


rule dp_fig5_accuracy_binder:
    input:
        notebook=NOTEBOOKS / "dropout_phases" / "fig5_accuracy_binder.ipynb",
        summary=rules.summarise_dropout_phases.output.summary,
        binder=rules.binder_cumulants.output[0],
        collapse=rules.combine_collapses.output.fits,
    output:
        notebook=NB_OUT / "fig5_accuracy_binder.ipynb",
        fig5=multiext(str(FIG_OUT / "fig5"), ".png", ".pdf"),
    log:
        LOGS / "notebooks" / "dp_fig5_accuracy_binder.log",
    conda:
        "../envs/analysis.yaml"
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        parameters=MAIN_ARCH | {"focus_p_train": STUDY["figures"]["focus_p_train"]},
    script:
        "../workflow/scripts/run_notebook.py"


rule dp_robustness:
    input:
        notebook=NOTEBOOKS / "dropout_phases" / "robustness.ipynb",
        summary=rules.summarise_dropout_phases.output.summary,
        alpha_ce=rules.fit_alpha_ce.output[0],
        per_run=rules.summarise_dropout_phases.output.per_run,
        collapse=rules.combine_collapses.output.fits,
    output:
        notebook=NB_OUT / "robustness.ipynb",
        robustness=multiext(str(FIG_OUT / "robustness"), ".png", ".pdf"),
    log:
        LOGS / "notebooks" / "dp_robustness.log",
    conda:
        "../envs/analysis.yaml"
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        parameters={
            "focus_p_train": STUDY["figures"]["focus_p_train"],
            "collapse_settings": STUDY["analysis"]["collapse"],
        },
    script:
        "../workflow/scripts/run_notebook.py"
