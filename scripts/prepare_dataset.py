"""Write one data set in the course's npz layout (rule `dataset`): homework1.sources.<dataset>.build."""

import importlib

from homework1.job.joblog import job_log

with job_log(snakemake.log[0]) as log:
    dataset = snakemake.wildcards.dataset
    log(f"building {dataset} with {snakemake.params.options}")
    # the rule lists this module among its code inputs (common.smk: dataset_code)
    importlib.import_module(f"homework1.sources.{dataset}").build(snakemake.output[0], log=log,
                                                                  **snakemake.params.options)
    log(f"wrote {snakemake.output[0]}")
