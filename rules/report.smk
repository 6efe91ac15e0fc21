# The report (snakemake --report report.html): every figure (flagged by figure() in common.smk)
# and every executed notebook as an HTML page.


rule notebook_html:
    input:
        RESULTS / "notebooks" / "{study}" / "{name}.ipynb",
    output:
        report(
            RESULTS / "notebooks_html" / "{study}" / "{name}.html",
            caption="../report/notebook.rst",
            category="Notebooks",
            subcategory="{study}",
            labels={"notebook": "{name}"},
        ),
    log:
        LOGS / "notebooks_html" / "{study}" / "{name}.log",
    wildcard_constraints:
        study="[a-z_]+",
        name="[A-Za-z0-9_]+",
    group:
        "notebooks"
    conda:
        "../envs/prunephase.yaml"
    resources:
        mem_mb=1000,
        runtime=5,
    script:
        "../workflow/scripts/notebook_html.py"
