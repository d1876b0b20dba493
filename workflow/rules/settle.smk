# Settling the report's claims over planned looks (config `settle: {looks: [5, 10, 20]}`; off while
# looks is empty). Each look is a checkpoint: its decisions say which configurations the next look
# trains more seeds of (those a claim still undecided compares), so the DAG grows from them in
# one `snakemake` run. Seconds of work each: on a cluster they run on the submitting host.


localrules:
    settle_look,


checkpoint settle_look:
    input:
        summaries=lambda w: [f"{RUNS_DIR}/{run}/summary.json" for run in look_runs(int(w.look))],
        metrics=lambda w: [f"{RUNS_DIR}/{run}/metrics.csv" for run in look_runs(int(w.look))],
        previous=lambda w: previous_look(w.dataset, int(w.look)),
        code=code_of("settle_look.py"),
    output:
        decisions="results/settle/{dataset}/look{look}.csv",
    params:
        look=lambda w: int(w.look),
        looks=len(LOOKS),
        seeds=lambda w: claims.look_seeds(SEEDS, LOOKS[int(w.look) - 1]),
        alpha=config["settle"]["alpha"],
        claims=CLAIMS,
        testable=TESTABLE,
    log:
        "logs/settle/{dataset}/look{look}.log",
    conda:
        ENV
    script:
        "../../scripts/settle_look.py"
