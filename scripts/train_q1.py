"""Train one Question 1 numpy model (rule `train_q1`)."""

from homework1 import q1
from homework1.job.jobs import run_training_job

run_training_job(snakemake, "q1", q1.train, implementation=snakemake.params.implementation)
