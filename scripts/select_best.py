"""Rank the variants of one sweep by validation accuracy (rule `select_best`)."""

import pandas as pd

from homework1.job.joblog import job_log
from homework1.analysis.selection import select_best
from homework1.analysis.tables import write_table

with job_log(snakemake.log[0]) as log:
    table = select_best(pd.read_csv(snakemake.input.summary), snakemake.wildcards.question,
                        snakemake.wildcards.experiment, metric=snakemake.params.metric)
    write_table(table, snakemake.output.csv, snakemake.output.md)
    log(f"selected {table.loc[0, 'variant']} by {table.loc[0, 'selected_by']}")
