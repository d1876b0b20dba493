"""Write one data set in the course's npz layout (rule `dataset`)."""

from homework1 import sources
from homework1.jobs import job_log

BUILDERS = {
    "digits": sources.make_digits,
    "intel_landscapes": sources.fetch_intel_landscapes,
    "synthetic_intel": sources.make_synthetic_intel,
}

with job_log(snakemake.log[0]) as log:
    dataset = snakemake.wildcards.dataset
    options = dict(snakemake.params.options)
    if dataset == "intel_landscapes":
        options["log"] = log
    log(f"building {dataset} with {snakemake.params.options}")
    BUILDERS[dataset](snakemake.output[0], **options)
    log(f"wrote {snakemake.output[0]}")
