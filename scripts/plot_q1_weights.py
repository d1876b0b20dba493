"""Questions 1.2c and 1.2d (rule `q1_weight_figures`): see homework1.figures."""

from homework1 import figures
from homework1.joblog import job_log
from homework1.plotting import read_metrics

with job_log(snakemake.log[0]) as log:
    runs = read_metrics(snakemake.input.metrics)
    figures.weight_norms(runs, snakemake.params.dataset, snakemake.output.norm_png, snakemake.output.norm_pdf)
    figures.sparsity(runs, snakemake.params.dataset, snakemake.output.sparsity_png, snakemake.output.sparsity_pdf)
    log(f"drew {runs.groupby(['experiment', 'variant']).ngroups} logistic-regression configurations")
