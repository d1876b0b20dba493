"""One figure per configuration that changed since the baseline (rule `changes_figures`)."""

from pathlib import Path

import pandas as pd

from homework1.analysis import changes
from homework1.present import figures
from homework1.job.joblog import job_log
from homework1.present.plotting import read_metrics

with job_log(snakemake.log[0]) as log:
    out = Path(snakemake.output[0])
    out.mkdir(parents=True, exist_ok=True)
    changed = changes.changed_configurations(pd.read_csv(snakemake.input.configs, keep_default_na=False))
    metrics = {side: [path for path in snakemake.input[side] if path.endswith("metrics.csv")]
               for side in ("before", "after")}
    for _, row in changed.iterrows():
        run = f"{row['dataset']}/{row['question']}/{row['experiment']}/{row['variant']}/"
        sides = [read_metrics([path for path in metrics[side] if run in path]) for side in ("before", "after")]
        name = changes.figure_name(row)
        figures.before_after(*sides, f"{row['question']}/{row['experiment']} {row['variant']}", row["verdict"],
                             snakemake.params.dataset, out / f"{name}.png", out / f"{name}.pdf")
    log(f"drew {len(changed)} changed configuration(s) into {out}")
