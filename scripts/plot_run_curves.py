"""Curves of one configuration (rule `run_curves`): see homework1.present.figures.run_curves."""

from homework1.present import figures
from homework1.job.joblog import job_log
from homework1.present.plotting import read_metrics

with job_log(snakemake.log[0]) as log:
    w = snakemake.wildcards
    runs = read_metrics(snakemake.input.metrics)
    figures.run_curves(runs, f"{w.question}/{w.experiment} {w.variant}", w.question, snakemake.params.dataset,
                       snakemake.output.png, snakemake.output.pdf)
    log(f"drew {len(runs)} epoch rows into {snakemake.output.png}")
