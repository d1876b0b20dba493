# Homework 1 of a deep-learning course, rerun end to end:
# data -> one training job per (experiment, sweep value, seed) -> tables -> figures -> report.
# `snakemake --cores 8` builds everything for the configured data set; see README.md.

from snakemake.utils import min_version

min_version("9.0")


configfile: "config/config.yaml"


report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"
include: "workflow/rules/data.smk"
include: "workflow/rules/q1.smk"
include: "workflow/rules/q2.smk"
include: "workflow/rules/q3.smk"
include: "workflow/rules/settle.smk"
include: "workflow/rules/tables.smk"
include: "workflow/rules/figures.smk"
include: "workflow/rules/explorer.smk"
include: "workflow/rules/changes.smk"
include: "workflow/rules/report.smk"


rule all:
    default_target: True
    input:
        all_targets(),
