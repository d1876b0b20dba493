"""A question's figure over every run of the models whose spec names it (rule `question_figure`):
homework1.present.figures.<figure>, listed in homework1.plan.specs.FIGURES."""

from homework1.present import figures
from homework1.job.joblog import job_log
from homework1.present.plotting import read_metrics

with job_log(snakemake.log[0]) as log:
    figure = snakemake.wildcards.figure
    runs = read_metrics(snakemake.input.metrics)
    getattr(figures, figure)(runs, snakemake.params.dataset, snakemake.output.png, snakemake.output.pdf)
    log(f"drew {runs.groupby(['experiment', 'variant']).ngroups} configurations into {snakemake.output.png}")
