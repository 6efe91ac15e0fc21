# The executed notebooks, one rule per row of rules/notebooks.yaml; each also writes its figures
# as PNG and PDF.

for study, rows in NOTEBOOK_TABLE.items():
    for name, row in rows.items():

        rule:
            name:
                f"notebook_{study}_{name}"
            input:
                **row.get("inputs", {}),
                notebook=NOTEBOOKS / study / f"{name}.ipynb",
            output:
                **{fig: figure(study, fig) for fig in row.get("figures", [])},
                notebook=RESULTS / "notebooks" / study / f"{name}.ipynb",
            log:
                LOGS / "notebooks" / study / f"{name}.log",
            group:
                "notebooks"
            conda:
                "../envs/prunephase.yaml"
            resources:
                mem_mb=2000,
                runtime=10,
            params:
                parameters={
                    k: sorted_keys(lookup(config, v))
                    for k, v in row.get("parameters", {}).items()
                },
            script:
                "../workflow/scripts/run_notebook.py"
