"""This build against a snapshot, run by run (rule `compare_to_baseline`): see homework1.analysis.changes."""

from pathlib import Path

from homework1.analysis import changes
from homework1.job.joblog import job_log
from homework1.analysis.tables import write_table

with job_log(snakemake.log[0]) as log:
    p, out = snakemake.params, snakemake.output
    runs = changes.compare_runs(Path(p.baseline) / "runs", p.before_runs, p.runs_dir, p.after_runs,
                                warn=lambda line: log(line, terminal=True))
    configs = changes.by_configuration(runs)
    write_table(runs, out.runs, out.runs_md, markdown_columns=changes.RUNS_SHOWN)
    write_table(configs, out.configs, out.configs_md, markdown_columns=changes.SHOWN)
    log(f"against {p.baseline}: {changes.summary_line(configs)}", terminal=True)
