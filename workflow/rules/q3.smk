# Question 3: the theory answers checked by computation.

THEORY_OUTPUTS = [
    "results/theory/q3_checks.csv",
    "results/theory/q3_gd_curve.csv",
    "results/theory/q3_k_sweep.csv",
    "results/figures/q3/gd_vs_closed_form.png",
    "results/figures/q3/error_vs_units.png",
]


rule q3_checks:
    input:
        code=package_files("theory", "jobs"),
    output:
        checks="results/theory/q3_checks.csv",
        gd_curve="results/theory/q3_gd_curve.csv",
        k_sweep="results/theory/q3_k_sweep.csv",
        figure_gd="results/figures/q3/gd_vs_closed_form.png",
        figure_k="results/figures/q3/error_vs_units.png",
    params:
        options=config["q3"],
    log:
        "logs/theory/q3_checks.log",
    threads: 1
    benchmark:
        "benchmarks/theory/q3_checks.tsv"
    script:
        "../../scripts/q3_checks.py"
