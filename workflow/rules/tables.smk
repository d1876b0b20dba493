# Run summaries -> pandas tables (CSV for machines, Markdown for people).


def swept_experiments():
    """(question, experiment) of every configured sweep: each gets a selection table."""
    return [
        (question, experiment)
        for question, experiments in RUNS.items()
        for experiment, variants in experiments.items()
        if len(variants) > 1
    ]


TABLES = expand("results/tables/{table}.{ext}", table=["summary", "by_config"], ext=["csv", "md"]) + [
    f"results/tables/selection_{question}_{experiment}.{ext}"
    for question, experiment in swept_experiments()
    for ext in ("csv", "md")
]


rule summary_tables:
    input:
        summaries=run_outputs("summary.json"),
        code=package_files("tables"),
    output:
        summary="results/tables/summary.csv",
        summary_md="results/tables/summary.md",
        by_config="results/tables/by_config.csv",
        by_config_md="results/tables/by_config.md",
    log:
        "logs/tables/summary.log",
    script:
        "../../scripts/summary_tables.py"


rule select_best:
    input:
        summary="results/tables/summary.csv",
        code=package_files("tables"),
    output:
        csv="results/tables/selection_{question}_{experiment}.csv",
        md="results/tables/selection_{question}_{experiment}.md",
    params:
        metric="final_val_acc",
    log:
        "logs/tables/selection_{question}_{experiment}.log",
    script:
        "../../scripts/select_best.py"
