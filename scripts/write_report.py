"""results/report.md (rule `report_md`): see homework1.present.report."""

from pathlib import Path

import pandas as pd

from homework1.job.joblog import job_log
from homework1.present.report import write_report

with job_log(snakemake.log[0]) as log:
    inputs, params = snakemake.input, snakemake.params
    write_report(snakemake.output.report, dataset=params.dataset, description=params.description,
                 seeds=params.seeds, runs=params.runs, report_ids=params.report_ids,
                 summary=pd.read_csv(inputs.summary), by_config=pd.read_csv(inputs.by_config),
                 figures=params.figures, selections=params.selections, q3_checks=pd.read_csv(inputs.q3_checks),
                 q3_figures=inputs.q3_figures,
                 tables={key: Path(inputs[f"{key}_md"]).read_text(encoding="utf-8")
                         for key in ("reproduction", "comparisons", "runtime")},
                 claims=pd.read_csv(inputs.comparisons), settle=params.settle,
                 runs_at_last_look=params.runs_at_last_look,
                 since=params.baseline and {
                     "baseline": params.baseline, "configs": pd.read_csv(inputs.changes[0], keep_default_na=False),
                     "figures": sorted(str(png) for png in Path(inputs.changes[1]).glob("*.png"))})
    log(f"wrote {snakemake.output.report}")
