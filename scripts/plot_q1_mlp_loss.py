"""Question 1.3a (rule `q1_mlp_loss`): the MLP's training loss; see homework1.figures."""

from homework1 import figures
from homework1.joblog import job_log
from homework1.plotting import read_metrics

with job_log(snakemake.log[0]) as log:
    runs = read_metrics(snakemake.input.metrics)
    figures.mlp_loss(runs, snakemake.params.dataset, snakemake.output.png, snakemake.output.pdf)
    log(f"drew {len(runs)} epoch rows")
