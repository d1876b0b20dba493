"""Wall time and peak memory of every job, from Snakemake's benchmark files, with each training run's
own times from its summary (rule `runtime_table`)."""

from pathlib import Path

from homework1.analysis.runtime import runtime_table, sharing_note
from homework1.analysis.tables import read_summaries, write_table
from homework1.job.joblog import job_log

with job_log(snakemake.log[0]) as log:
    table = runtime_table(snakemake.input.benchmarks, read_summaries(snakemake.input.summaries, warn=log))
    write_table(table, snakemake.output.csv, snakemake.output.md)
    if note := sharing_note(table):
        markdown = Path(snakemake.output.md)
        markdown.write_text(note + "\n" + markdown.read_text(encoding="utf-8"), encoding="utf-8")
        log(note.strip())
    log(f"{len(table)} jobs, {table['wall_s'].sum():.1f} s in all")
