# The report (snakemake --report report.html): every figure (flagged by figure() in common.smk)
# and every executed notebook as an HTML page.


rule notebook_html:
    input:
        RESULTS / "notebooks" / "{topic}" / "{name}.ipynb",
    output:
        report(
            RESULTS / "notebooks_html" / "{topic}" / "{name}.html",
            caption="../report/notebook.rst",
            category="Notebooks",
            subcategory="{topic}",
            labels={"notebook": "{name}"},
        ),
    log:
        LOGS / "notebooks_html" / "{topic}" / "{name}.log",
    wildcard_constraints:
        topic="[a-z_]+",
        name="[A-Za-z0-9_]+",
    conda:
        "../envs/analysis.yaml"
    resources:
        mem_mb=1000,
        runtime=5,
    script:
        "../workflow/scripts/notebook_html.py"
