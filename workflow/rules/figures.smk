# Figures drawn from the per-epoch metrics, each as PNG (screens, reports) and PDF (print).
# One script per kind of figure, so editing one redraws only its figures. Each run's metrics
# are read with the summary beside it, checked (homework1.core.run_checks).
# Seconds of work each: on a cluster they run on the submitting host, not as jobs.


localrules:
    run_curves,
    sweep_overlay,
    question_figure,
    comparisons_figure,


rule run_curves:
    input:
        metrics=lambda w: run_metrics(w.dataset, w.question, w.experiment, w.variant),
        summaries=lambda w: summaries_beside(run_metrics(w.dataset, w.question, w.experiment, w.variant)),
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
        summaries=lambda w: summaries_beside(run_metrics(w.dataset, w.question, w.experiment)),
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


rule question_figure:
    input:
        metrics=figure_metrics,
        summaries=lambda w: summaries_beside(figure_metrics(w)),
        code=code_of("plot_question_figure.py"),
    output:
        png=report(
            "results/figures/{dataset}/{question}/{figure}.png",
            caption="../report/question_figure.rst",
            category="{question}",
            subcategory="{figure}",
            labels=lambda w: {"figure": f"{specs.FIGURES[w.figure].report_id} {w.figure}", "data set": w.dataset},
        ),
        pdf="results/figures/{dataset}/{question}/{figure}.pdf",
    params:
        dataset=dataset_description,
        caption=lambda w: specs.figure_caption(w.figure, REPORT_NUMBERS),
    log:
        "logs/figures/{dataset}/{question}/{figure}.log",
    conda:
        ENV
    script:
        "../../scripts/plot_question_figure.py"


rule comparisons_figure:
    input:
        comparisons=rules.reproduction_tables.output.comparisons,
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
        alpha=config["settle"]["alpha"],
    log:
        "logs/figures/{dataset}/seed_comparisons.log",
    conda:
        ENV
    script:
        "../../scripts/plot_comparisons.py"
