"""Gather every run's summary into results/tables (rule `summary_tables`)."""

from homework1.job.joblog import job_log
from homework1.analysis.tables import by_config, read_summaries, write_table

with job_log(snakemake.log[0]) as log:
    summary = read_summaries(snakemake.input.summaries, warn=lambda line: log(line, terminal=True))
    write_table(summary, snakemake.output.summary, snakemake.output.summary_md)
    write_table(by_config(summary), snakemake.output.by_config, snakemake.output.by_config_md)
    log(f"{len(summary)} runs tabulated, {int(summary['hand_edited'].sum())} of them hand-edited")
