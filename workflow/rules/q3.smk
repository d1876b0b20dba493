# Question 3: the theory answers checked by computation.

rule q3_checks:
    input:
        code=package_files("theory", "q3_checks"),
    output:
        checks=report(
            "results/theory/q3_checks.csv",
            caption="../report/q3.rst",
            category="q3",
            labels={"table": "checks of each claim"},
        ),
        gd_curve="results/theory/q3_gd_curve.csv",
        k_sweep="results/theory/q3_k_sweep.csv",
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
        options=config["q3"],
    log:
        "logs/theory/q3_checks.log",
    threads: 1
    benchmark:
        "benchmarks/theory/q3_checks.tsv"
    conda:
        ENV
    script:
        "../../scripts/q3_checks.py"
