# Question 3: the theory answers checked by computation, then drawn.

rule q3_checks:
    input:
        code=code_of("q3_checks.py"),
    output:
        checks=report(
            "results/theory/q3_checks.csv",
            caption="../report/q3.rst",
            category="q3",
            labels={"table": "checks of each claim"},
        ),
        gd_curve="results/theory/q3_gd_curve.csv",
        k_sweep="results/theory/q3_k_sweep.csv",
    params:
        options=config["q3"],
    log:
        "logs/theory/q3_checks.log",
    threads: 1
    benchmark:
        "benchmarks/theory/q3_checks.tsv"
    resources:
        **attempt_resources(runtime=60, mem_mb=4000),
    conda:
        ENV
    script:
        "../../scripts/q3_checks.py"


# Seconds of work: on a cluster it runs on the submitting host, not as a job.
localrules:
    q3_figures,


rule q3_figures:
    input:
        gd_curve=rules.q3_checks.output.gd_curve,
        k_sweep=rules.q3_checks.output.k_sweep,
        code=code_of("plot_q3.py"),
    output:
        figure_gd=report(
            "results/figures/q3/gd_vs_closed_form.png",
            caption="../report/q3.rst",
            category="q3",
            labels={"figure": "gradient descent vs the closed form"},
        ),
        figure_k=report(
            "results/figures/q3/error_vs_units.png",
            caption="../report/q3.rst",
            category="q3",
            labels={"figure": "reach of c as K shrinks"},
        ),
    params:
        gd_dim=len(config["q3"]["gd_features"]),
        sweep_tolerance=config["q3"]["sweep_tolerance"],
    log:
        "logs/theory/q3_figures.log",
    conda:
        ENV
    script:
        "../../scripts/plot_q3.py"
