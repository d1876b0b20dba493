"""One figure per configuration that changed since the baseline (rule `changes_figures`)."""

from pathlib import Path

import pandas as pd

from homework1.analysis import changes
from homework1.present import figures
from homework1.job.joblog import job_log
from homework1.present.plotting import read_metrics
from homework1.plan.study import CONFIG_FIELDS, run_identity


def configuration_of(run) -> tuple:
    """What names the configuration of a run (a row of a table, or the path of one of its files), as text."""
    identity = run_identity(run) if isinstance(run, str) else run
    return tuple(str(identity[field]) for field in CONFIG_FIELDS)


with job_log(snakemake.log[0]) as log:
    out = Path(snakemake.output[0])
    out.mkdir(parents=True, exist_ok=True)
    changed = changes.changed_configurations(pd.read_csv(snakemake.input.configs, keep_default_na=False))
    metrics = {side: [path for path in snakemake.input[side] if path.endswith("metrics.csv")]
               for side in ("before", "after")}
    for _, row in changed.iterrows():
        sides = [read_metrics([path for path in metrics[side] if configuration_of(path) == configuration_of(row)])
                 for side in ("before", "after")]
        name = changes.figure_name(row)
        figures.before_after(*sides, f"{row['question']}/{row['experiment']} {row['variant']}", row["verdict"],
                             snakemake.params.dataset, out / f"{name}.png", out / f"{name}.pdf")
    log(f"drew {len(changed)} changed configuration(s) into {out}")
