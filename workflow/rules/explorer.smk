# The run explorer: one self-contained HTML page (plotly's JavaScript inline) of every run's
# curves, with filters, the mean over seeds, and each experiment's hyper-parameters beside its
# accuracies; in the HTML report, and on its own beside the other results.
# Seconds of work: on a cluster it runs on the submitting host, not as a job.


localrules:
    explorer,


rule explorer:
    input:
        summary=rules.summary_tables.output.summary,
        # each run's metrics are read with the summary beside it, checked (homework1.core.run_checks)
        metrics=study_metrics,
        summaries=run_summaries,
        code=code_of("build_explorer.py"),
    output:
        html=report(
            "results/explorer.html",
            caption="../report/explorer.rst",
            category="explorer",
            labels={"page": "the runs, interactive"},
        ),
    params:
        dataset=schema.dataset_descriptions(config)[DATASET],
        # each run's own files, linked from the page
        links={
            "curves": str(rules.run_curves.output.png),
            "summary.json": f"{RUNS_DIR}/{run_path()}/{run_checks.SUMMARY_FILE}",
        },
    log:
        "logs/explorer.log",
    conda:
        ENV
    script:
        "../../scripts/build_explorer.py"
