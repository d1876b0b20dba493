# Settling the report's claims over planned looks (config `settle: {looks: [...]}`, for example
# claims.SUGGESTED_LOOKS; off while looks is empty). Each look is a checkpoint: its decisions say
# which configurations the next look trains more seeds of (those a claim still open compares), so
# the DAG grows from them in one `snakemake` run. Seconds of work each: on a cluster they run on the
# submitting host.


localrules:
    settle_look,


checkpoint settle_look:
    input:
        # every run so far: each look decides the looks before it again, from the runs alone
        summaries=lambda w: [f"{RUNS_DIR}/{run}/summary.json" for run in runs_so_far(int(w.look))],
        metrics=lambda w: [f"{RUNS_DIR}/{run}/metrics.csv" for run in runs_so_far(int(w.look))],
        code=code_of("settle_look.py"),
    output:
        decisions="results/settle/{dataset}/look{look}.csv",
    params:
        look=lambda w: int(w.look),
        settle=config["settle"],
        seeds=SEEDS,
        claims=CLAIMS,
        testable=TESTABLE,
    log:
        "logs/settle/{dataset}/look{look}.log",
    conda:
        ENV
    script:
        "../../scripts/settle_look.py"
