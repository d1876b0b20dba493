"""Copy the build's runs into a snapshot (rule `snapshot`): see homework1.snapshots."""

from homework1.joblog import job_log
from homework1.snapshots import take_snapshot

with job_log(snakemake.log[0]) as log:
    p = snakemake.params
    manifest = take_snapshot(snakemake.output[0], p.runs, p.runs_dir, p.summary_table, p.name, p.config,
                             p.checkout)
    log(f"snapshot {p.name}: {len(manifest['runs'])} runs of commit(s) {', '.join(manifest['run_commits'])} "
        f"in {snakemake.output[0]}", terminal=True)
