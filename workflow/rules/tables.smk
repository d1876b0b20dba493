# Run summaries -> pandas tables (CSV for machines, Markdown for people).
# Seconds of work each: on a cluster they run on the submitting host, not as jobs.


localrules:
    summary_tables,
    select_best,
    reproduction_tables,
    runtime_table,


rule summary_tables:
    input:
        summaries=run_summaries,
        # each summary is read with the metrics beside it, checked (homework1.core.run_checks)
        metrics=study_metrics,
        code=code_of("summary_tables.py"),
    output:
        summary=report(
            "results/tables/summary.csv",
            caption="../report/tables.rst",
            category="tables",
            labels={"table": "summary: one row per run"},
        ),
        summary_md="results/tables/summary.md",
        by_config=report(
            "results/tables/by_config.csv",
            caption="../report/tables.rst",
            category="tables",
            labels={"table": "by configuration: mean and std over seeds"},
        ),
        by_config_md="results/tables/by_config.md",
    log:
        "logs/tables/summary.log",
    conda:
        ENV
    script:
        "../../scripts/summary_tables.py"


rule select_best:
    input:
        summary=rules.summary_tables.output.summary,
        code=code_of("select_best.py"),
    output:
        csv=report(
            "results/tables/selection_{question}_{experiment}.csv",
            caption="../report/tables.rst",
            category="tables",
            labels={"table": "selection {question} {experiment}"},
        ),
        md="results/tables/selection_{question}_{experiment}.md",
    params:
        metric="final_val_acc",
    log:
        "logs/tables/selection_{question}_{experiment}.log",
    conda:
        ENV
    script:
        "../../scripts/select_best.py"


rule reproduction_tables:
    input:
        summary=rules.summary_tables.output.summary,
        by_config=rules.summary_tables.output.by_config,
        report_numbers=REPORT_NUMBERS,
        report_comparisons=REPORT_COMPARISONS,
        metrics=run_outputs("metrics.csv", questions=("q1",)),
        settled=last_look(),
        # with settle on, the runs of the claims' configurations: the HTML report's caption counts them
        claim_runs=lambda w: [f"{RUNS_DIR}/{run}/summary.json" for run in runs_so_far(len(LOOKS))] if LOOKS else [],
        code=code_of("reproduction_tables.py"),
    output:
        reproduction=report(
            "results/tables/reproduction.csv",
            caption="../report/tables.rst",
            category="tables",
            labels={"table": "reproduction: the report's numbers beside ours"},
        ),
        reproduction_md="results/tables/reproduction.md",
        comparisons=report(
            "results/tables/seed_comparisons.csv",
            caption="../report/comparisons.rst",
            category="claims",
            labels={"table": "the report's claims, paired by seed"},
        ),
        comparisons_md="results/tables/seed_comparisons.md",
    params:
        dataset=DATASET,
        settle=config["settle"],
        runs_at_last_look=runs_at_last_look(),
    log:
        "logs/tables/reproduction.log",
    conda:
        ENV
    script:
        "../../scripts/reproduction_tables.py"


rule runtime_table:
    input:
        benchmarks=lambda w: run_benchmarks() + [source_file(rules.dataset.benchmark, DATASET), "benchmarks/theory/q3_checks.tsv"],
        # each training job's own times and how it shared the machine, read with the metrics beside them
        summaries=run_summaries,
        metrics=study_metrics,
        code=code_of("runtime_table.py"),
    output:
        csv=report(
            "results/tables/runtime.csv",
            caption="../report/tables.rst",
            category="tables",
            labels={"table": "run time and memory per job"},
        ),
        md="results/tables/runtime.md",
    log:
        "logs/tables/runtime.log",
    conda:
        ENV
    script:
        "../../scripts/runtime_table.py"
