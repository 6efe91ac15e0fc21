# Paper A, Figs. 4-15: data collapses (BKT-like and power law) around the crossings, chi2 maps,
# the sensitivity of the collapse to its window and N_0, Binder cumulants.


rule fit_collapse:
    input:
        per_run=rules.summarise_dropout_phases.output.per_run,
        crossings=rules.fit_alpha_ce.output.crossings,
    output:
        fits=DP / "w{width}_d{depth}" / "collapse.parquet",
        maps=DP / "w{width}_d{depth}" / "chi2_map.parquet",
    log:
        LOGS / "dropout_phases" / "collapse_w{width}_d{depth}.log",
    conda:
        "../envs/prunephase.yaml"
    resources:
        mem_mb=2000,
        runtime=60,
    params:
        config=config_keys("seed", "dropout_phases.analysis.collapse"),
    script:
        "../workflow/scripts/fit_collapse.py"


rule combine_collapses:
    input:
        fits=expand_architectures(DP / "w{width}_d{depth}" / "collapse.parquet"),
        maps=expand_architectures(DP / "w{width}_d{depth}" / "chi2_map.parquet"),
    output:
        fits=DP / "collapse.parquet",
        maps=DP / "chi2_map.parquet",
    log:
        LOGS / "dropout_phases" / "combine_collapses.log",
    conda:
        "../envs/prunephase.yaml"
    resources:
        mem_mb=2000,
        runtime=10,
    script:
        "../workflow/scripts/concat_tables.py"


rule collapse_sensitivity:
    input:
        per_run=rules.summarise_dropout_phases.output.per_run,
        crossings=rules.fit_alpha_ce.output.crossings,
    output:
        DP / "sensitivity.parquet",
    log:
        LOGS / "dropout_phases" / "sensitivity.log",
    conda:
        "../envs/prunephase.yaml"
    resources:
        mem_mb=2000,
        runtime=30,
    params:
        config=config_keys(
            "seed",
            "dropout_phases.architectures",
            "dropout_phases.analysis.collapse",
            "dropout_phases.figures.focus_p_train",
        ),
    script:
        "../workflow/scripts/collapse_sensitivity.py"


rule binder_cumulants:
    input:
        expand_shards(SHARD / "per_mask.parquet"),
    output:
        DP / "binder.parquet",
    log:
        LOGS / "dropout_phases" / "binder.log",
    group:
        "tables"
    conda:
        "../envs/prunephase.yaml"
    resources:
        mem_mb=4000,
        runtime=15,
    params:
        config=config_keys("seed", "dropout_phases.analysis.bootstrap"),
    script:
        "../workflow/scripts/binder_cumulants.py"
