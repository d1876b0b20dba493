"""Write one data set in the course's npz layout (rule `dataset`): homework1.sources.<its source>.build."""

import importlib

from homework1.job.joblog import job_log

with job_log(snakemake.log[0]) as log:
    source = snakemake.params.source
    log(f"building {snakemake.wildcards.dataset} with {source} {snakemake.params.options}")
    # the rule lists this module among its code inputs (common.smk: dataset_code)
    importlib.import_module(f"homework1.sources.{source}").build(snakemake.output[0], log=log,
                                                                 **snakemake.params.options)
    log(f"wrote {snakemake.output[0]}")
