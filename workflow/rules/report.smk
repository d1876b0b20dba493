# results/report.md walks through the homework with every table and figure inline.
# (`snakemake --report results/report.html` builds Snakemake's own HTML report
# from the outputs flagged with report() in the other rule files.)
# Seconds of work: on a cluster it runs on the submitting host, not as a job.


localrules:
    report_md,


rule report_md:
    input:
        summary="results/tables/summary.csv",
        by_config="results/tables/by_config.csv",
        reproduction_md="results/tables/reproduction.md",
        comparisons_md="results/tables/seed_comparisons.md",
        runtime_md="results/tables/runtime.md",
        selections=SELECTION_TABLES,
        figures=figure_targets(ext=["png"]),
        q3_checks="results/theory/q3_checks.csv",
        q3_figures=[path for path in THEORY_OUTPUTS if path.endswith(".png")],
        code=package_files("plotting", "runs", "tables"),
    output:
        report=report(
            "results/report.md",
            caption="../report/tables.rst",
            category="report",
            labels={"document": "the homework walked through (Markdown)"},
        ),
    params:
        dataset=DATASET,
        seeds=SEEDS,
        runs={question: {e: list(v) for e, v in experiments.items()} for question, experiments in RUNS.items()},
        report_ids={
            question: {e: settings.get("report_id", "") for e, settings in config[question].items()}
            for question in ("q1", "q2")
        },
    log:
        "logs/report/report_md.log",
    conda:
        ENV
    script:
        "../../scripts/write_report.py"
