"""Every variant of one sweep on the same axes (rule `sweep_overlay`): see homework1.present.figures."""

from homework1.present import figures
from homework1.job.joblog import job_log
from homework1.present.plotting import read_metrics

with job_log(snakemake.log[0]) as log:
    runs = read_metrics(snakemake.input.metrics)
    figures.sweep_overlay(runs, f"{snakemake.wildcards.question}/{snakemake.wildcards.experiment}",
                          snakemake.params.dataset, snakemake.output.png, snakemake.output.pdf)
    log(f"drew {runs['variant'].nunique()} variants into {snakemake.output.png}")
