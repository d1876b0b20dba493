"""Wall time and peak memory of every job, from Snakemake's benchmark files (rule `runtime_table`)."""

from homework1.job.joblog import job_log
from homework1.analysis.runtime import runtime_table
from homework1.analysis.tables import write_table

with job_log(snakemake.log[0]) as log:
    table = runtime_table(snakemake.input.benchmarks)
    write_table(table, snakemake.output.csv, snakemake.output.md)
    log(f"{len(table)} jobs, {table['wall_s'].sum():.1f} s in all")
