"""The run explorer (rule `explorer`): see homework1.present.explorer and explorer_page."""

from pathlib import Path

import pandas as pd

from homework1.job.joblog import job_log
from homework1.present.explorer import check_same_runs, explorer_records
from homework1.present.explorer_page import write_page
from homework1.present.plotting import read_metrics

with job_log(snakemake.log[0]) as log:
    summary = pd.read_csv(snakemake.input.summary)
    check_same_runs(summary, snakemake.input.metrics)
    records = explorer_records(summary, read_metrics(snakemake.input.metrics), snakemake.params.links,
                               Path(snakemake.output.html).parent)
    write_page(snakemake.output.html, records, f"The runs on {snakemake.params.dataset}")
    log(f"{len(records['runs'])} runs, curves of {', '.join(records['curves'])} in {snakemake.output.html} "
        f"({Path(snakemake.output.html).stat().st_size / 1e6:.1f} MB)")
