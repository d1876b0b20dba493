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
        q3_figures=Q3_FIGURES,
        code=code_of("write_report.py"),
    output:
        report=report(
            "results/report.md",
            caption="../report/tables.rst",
            category="report",
            labels={"document": "the homework walked through (Markdown)"},
        ),
    params:
        dataset=DATASET,
        description=configuration.dataset_descriptions()[DATASET],
        seeds=SEEDS,
        figures={stem: f"results/figures/{DATASET}/{stem}.png" for stem in figure_stems()},
        selections={f"{q}/{e}": selection_table(q, e, "md") for q, e in swept_experiments()},
        runs={question: {e: list(v) for e, v in experiments.items()} for question, experiments in RUNS.items()},
        report_ids={
            question: {e: settings.get("report_id", "") for e, settings in config[question].items()}
            for question in QUESTIONS
        },
    log:
        "logs/report/report_md.log",
    conda:
        ENV
    script:
        "../../scripts/write_report.py"
