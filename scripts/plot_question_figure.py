"""A question's figure over every run of the models whose spec names it (rule `question_figure`):
homework1.figures.<figure>, listed in homework1.specs.FIGURES."""

from homework1 import figures
from homework1.joblog import job_log
from homework1.plotting import read_metrics

with job_log(snakemake.log[0]) as log:
    figure = snakemake.wildcards.figure
    runs = read_metrics(snakemake.input.metrics)
    getattr(figures, figure)(runs, snakemake.params.dataset, snakemake.output.png, snakemake.output.pdf)
    log(f"drew {runs.groupby(['experiment', 'variant']).ngroups} configurations into {snakemake.output.png}")
