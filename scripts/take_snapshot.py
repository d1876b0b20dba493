"""Copy the build's runs into a snapshot (rule `snapshot`): see homework1.analysis.snapshots."""

from pathlib import Path

from homework1.job.joblog import job_log
from homework1.core.run_checks import SUMMARY_FILE
from homework1.analysis.snapshots import SUMMARY_TABLE, copy_runs, write_manifest
from homework1.analysis.tables import read_summaries, write_table

with job_log(snakemake.log[0]) as log:
    p, out = snakemake.params, Path(snakemake.output[0])
    copied = copy_runs(out, p.runs, p.runs_dir, warn=lambda line: log(line, terminal=True))
    # the table of the runs it holds, whatever results/tables holds now
    write_table(read_summaries([out / "runs" / run / SUMMARY_FILE for run in copied]), out / SUMMARY_TABLE)
    manifest = write_manifest(out, p.name, copied, p.checkout)
    log(f"snapshot {p.name}: {len(manifest['runs'])} runs of commit(s) {', '.join(manifest['run_commits'])} "
        f"in {out}", terminal=True)
