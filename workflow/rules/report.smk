# results/report.md walks through the homework with every table and figure inline.
# (`snakemake --report results/report.html` builds Snakemake's own HTML report
# from the outputs flagged with report() in the other rule files.)
# Seconds of work: on a cluster it runs on the submitting host, not as a job.


localrules:
    report_md,


rule report_md:
    input:
        summary=rules.summary_tables.output.summary,
        by_config=rules.summary_tables.output.by_config,
        reproduction=rules.reproduction_tables.output.reproduction,
        reproduction_md=rules.reproduction_tables.output.reproduction_md,
        comparisons=rules.reproduction_tables.output.comparisons,
        comparisons_md=rules.reproduction_tables.output.comparisons_md,
        runtime_md=rules.runtime_table.output.md,
        selections=selection_tables("md"),
        selection_csvs=selection_tables("csv"),
        figures=figure_targets(ext=["png"]),
        q3_checks=rules.q3_checks.output.checks,
        q3_figures=rules.q3_figures.output,
        changes=lambda w: [rules.compare_to_baseline.output.configs, *rules.changes_figures.output] if BASELINE else [],
        code=code_of("write_report.py"),
    output:
        report=report(
            "results/report.md",
            caption="../report/tables.rst",
            category="report",
            labels={"document": "the homework walked through (Markdown)"},
        ),
        # what was found, a sentence each: report.md opens with it, and so does the HTML report (its caption)
        findings=report(
            "results/findings.md",
            caption=os.path.abspath("results/findings.rst"),
            category="findings",
            labels={"document": "what was found, a sentence each"},
        ),
        findings_rst="results/findings.rst",
    params:
        dataset=DATASET,
        description=schema.dataset_descriptions(config)[DATASET],
        seeds=SEEDS,
        figures={stem: f"results/figures/{DATASET}/{stem}.png" for stem in figure_stems()},
        selections=dict(zip((f"{q}/{e}" for q, e in swept_experiments()), selection_tables("md"))),
        selection_csvs=dict(zip((f"{q}/{e}" for q, e in swept_experiments()), selection_tables("csv"))),
        runs={question: {e: list(v) for e, v in experiments.items()} for question, experiments in RUNS.items()},
        settle=config["settle"],
        baseline=BASELINE.name if BASELINE else "",  # the snapshot as found, whatever prefix or path named it
        runs_at_last_look=runs_at_last_look(),
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
