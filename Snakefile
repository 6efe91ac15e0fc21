from snakemake.utils import min_version

min_version("9.0")


configfile: "config.yaml"


report: "report/workflow.rst"


include: "rules/common.smk"
include: "rules/data.smk"
include: "rules/dropout_phases.smk"
include: "rules/criticality.smk"
include: "rules/rap.smk"
include: "rules/teacher_student.smk"
include: "rules/notebooks.smk"
include: "rules/report.smk"


rule all:
    default_target: True
    input:
        all_targets(),
