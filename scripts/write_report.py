"""results/report.md and results/findings.md (rule `report_md`): see homework1.present.report and
homework1.present.findings."""

from pathlib import Path

import pandas as pd

from homework1.job.joblog import job_log
from homework1.present import findings
from homework1.present.report import write_report

with job_log(snakemake.log[0]) as log:
    inputs, params, output = snakemake.input, snakemake.params, snakemake.output
    report_folder = Path(output.report).parent
    found = findings.findings(
        by_config=pd.read_csv(inputs.by_config), reproduction=pd.read_csv(inputs.reproduction),
        claims=pd.read_csv(inputs.comparisons), q3_checks=pd.read_csv(inputs.q3_checks),
        chosen={name: pd.read_csv(path) for name, path in params.selection_csvs.items()},
        q3_link=Path(inputs.q3_checks).relative_to(report_folder).as_posix())
    Path(output.findings).write_text(findings.as_markdown(found, level=1), encoding="utf-8")
    Path(output.findings_rst).write_text(findings.as_rst(found), encoding="utf-8")
    write_report(output.report, dataset=params.dataset, description=params.description,
                 seeds=params.seeds, runs=params.runs, report_ids=params.report_ids,
                 summary=pd.read_csv(inputs.summary), by_config=pd.read_csv(inputs.by_config),
                 figures=params.figures, selections=params.selections, q3_checks=pd.read_csv(inputs.q3_checks),
                 q3_figures=inputs.q3_figures, q3_table=inputs.q3_checks,
                 tables={key: Path(inputs[f"{key}_md"]).read_text(encoding="utf-8")
                         for key in ("reproduction", "comparisons", "runtime")},
                 claims=pd.read_csv(inputs.comparisons), settle=params.settle,
                 runs_at_last_look=params.runs_at_last_look, findings=findings.as_markdown(found),
                 since=params.baseline and {
                     "baseline": params.baseline, "configs": pd.read_csv(inputs.changes[0], keep_default_na=False),
                     "figures": sorted(str(png) for png in Path(inputs.changes[1]).glob("*.png"))})
    log(f"wrote {snakemake.output.report} and {snakemake.output.findings}")
