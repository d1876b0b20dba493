# Run summaries -> pandas tables (CSV for machines, Markdown for people).


def swept_experiments():
    """(question, experiment) of every configured sweep: each gets a selection table."""
    return [
        (question, experiment)
        for question, experiments in RUNS.items()
        for experiment, variants in experiments.items()
        if len(variants) > 1
    ]


TABLES = expand(
    "results/tables/{table}.{ext}",
    table=["summary", "by_config", "reproduction", "seed_comparisons", "runtime"],
    ext=["csv", "md"],
) + [
    f"results/tables/selection_{question}_{experiment}.{ext}"
    for question, experiment in swept_experiments()
    for ext in ("csv", "md")
]


rule summary_tables:
    input:
        summaries=run_outputs("summary.json"),
        code=package_files("tables"),
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
    script:
        "../../scripts/summary_tables.py"


rule select_best:
    input:
        summary=report(
            "results/tables/summary.csv",
            caption="../report/tables.rst",
            category="tables",
            labels={"table": "summary: one row per run"},
        ),
        code=package_files("tables"),
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
    script:
        "../../scripts/select_best.py"


def run_benchmarks():
    """Benchmark files of every training job (written by Snakemake beside each job)."""
    return [
        path.replace("results/runs/", "benchmarks/runs/").replace("/summary.json", ".tsv")
        for path in run_outputs("summary.json")
    ]


rule reproduction_tables:
    input:
        summary=report(
            "results/tables/summary.csv",
            caption="../report/tables.rst",
            category="tables",
            labels={"table": "summary: one row per run"},
        ),
        by_config=report(
            "results/tables/by_config.csv",
            caption="../report/tables.rst",
            category="tables",
            labels={"table": "by configuration: mean and std over seeds"},
        ),
        report_numbers="config/report_numbers.csv",
        metrics=run_outputs("metrics.csv", questions=("q1",)),
        code=package_files("reproduction", "tables"),
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
            caption="../report/tables.rst",
            category="tables",
            labels={"table": "the report's comparisons against seed noise"},
        ),
        comparisons_md="results/tables/seed_comparisons.md",
    params:
        dataset=DATASET,
    log:
        "logs/tables/reproduction.log",
    script:
        "../../scripts/reproduction_tables.py"


rule runtime_table:
    input:
        benchmarks=run_benchmarks() + [f"benchmarks/datasets/{DATASET}.tsv", "benchmarks/theory/q3_checks.tsv"],
        code=package_files("reproduction", "tables"),
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
    script:
        "../../scripts/runtime_table.py"
