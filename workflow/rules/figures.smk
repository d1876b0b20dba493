# Figures drawn from the per-epoch metrics, each as PNG (screens, reports) and PDF (print).
# One script per kind of figure, so editing one redraws only its figures.
# Seconds of work each: on a cluster they run on the submitting host, not as jobs.


localrules:
    run_curves,
    sweep_overlay,
    q1_weight_figures,
    q1_mlp_loss,
    comparisons_figure,


rule run_curves:
    input:
        metrics=lambda w: run_metrics(w.dataset, w.question, w.experiment, w.variant),
        code=code_of("plot_run_curves.py"),
    output:
        png=report(
            "results/figures/{dataset}/{question}/{experiment}/{variant}.png",
            caption="../report/run_curves.rst",
            category="{question}",
            subcategory="{experiment}",
            labels={"figure": "{variant}", "data set": "{dataset}"},
        ),
        pdf="results/figures/{dataset}/{question}/{experiment}/{variant}.pdf",
    params:
        dataset=dataset_description,
    log:
        "logs/figures/{dataset}/{question}/{experiment}/{variant}.log",
    conda:
        ENV
    script:
        "../../scripts/plot_run_curves.py"


rule sweep_overlay:
    input:
        metrics=lambda w: run_metrics(w.dataset, w.question, w.experiment),
        code=code_of("plot_sweep_overlay.py"),
    output:
        png=report(
            "results/figures/{dataset}/{question}/{experiment}_overlay.png",
            caption="../report/sweep_overlay.rst",
            category="{question}",
            subcategory="{experiment}",
            labels={"figure": "all variants", "data set": "{dataset}"},
        ),
        pdf="results/figures/{dataset}/{question}/{experiment}_overlay.pdf",
    params:
        dataset=dataset_description,
    log:
        "logs/figures/{dataset}/{question}/{experiment}_overlay.log",
    conda:
        ENV
    script:
        "../../scripts/plot_sweep_overlay.py"


rule q1_weight_figures:
    input:
        metrics=model_metrics("q1", "logreg"),
        code=code_of("plot_q1_weights.py"),
    output:
        norm_png=report(
            "results/figures/{dataset}/q1/weight_norm.png",
            caption="../report/weight_norm.rst",
            category="q1",
            subcategory="weights",
            labels={"figure": "1.2c weight norm", "data set": "{dataset}"},
        ),
        norm_pdf="results/figures/{dataset}/q1/weight_norm.pdf",
        sparsity_png=report(
            "results/figures/{dataset}/q1/sparsity.png",
            caption="../report/sparsity.rst",
            category="q1",
            subcategory="weights",
            labels={"figure": "1.2d sparsity", "data set": "{dataset}"},
        ),
        sparsity_pdf="results/figures/{dataset}/q1/sparsity.pdf",
    params:
        dataset=dataset_description,
    log:
        "logs/figures/{dataset}/q1/weights.log",
    conda:
        ENV
    script:
        "../../scripts/plot_q1_weights.py"


rule q1_mlp_loss:
    input:
        metrics=model_metrics("q1", "mlp"),
        code=code_of("plot_q1_mlp_loss.py"),
    output:
        png=report(
            "results/figures/{dataset}/q1/mlp_loss.png",
            caption="../report/mlp_loss.rst",
            category="q1",
            subcategory="mlp",
            labels={"figure": "1.3a training loss", "data set": "{dataset}"},
        ),
        pdf="results/figures/{dataset}/q1/mlp_loss.pdf",
    params:
        dataset=dataset_description,
    log:
        "logs/figures/{dataset}/q1/mlp_loss.log",
    conda:
        ENV
    script:
        "../../scripts/plot_q1_mlp_loss.py"


rule comparisons_figure:
    input:
        comparisons="results/tables/seed_comparisons.csv",
        code=code_of("plot_comparisons.py"),
    output:
        png=report(
            "results/figures/{dataset}/seed_comparisons.png",
            caption="../report/comparisons.rst",
            category="claims",
            labels={"figure": "the report's claims, paired by seed", "data set": "{dataset}"},
        ),
        pdf="results/figures/{dataset}/seed_comparisons.pdf",
    params:
        dataset=dataset_description,
    log:
        "logs/figures/{dataset}/seed_comparisons.log",
    conda:
        ENV
    script:
        "../../scripts/plot_comparisons.py"
