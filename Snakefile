from snakemake.utils import min_version

min_version("9.0")


configfile: "config.yaml"


include: "rules/common.smk"
include: "rules/data.smk"
include: "rules/dropout_phases.smk"
include: "rules/rap.smk"


rule all:
    input:
        all_targets(),
    default_target: True
