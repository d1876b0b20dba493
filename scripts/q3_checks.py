"""Question 3 checked numerically (rule `q3_checks`): see homework1.q3.checks."""

from homework1.job.joblog import job_log
from homework1.q3.checks import run_checks

with job_log(snakemake.log[0]) as log:
    run_checks(dict(snakemake.params.options), dict(snakemake.output.items()), log)
