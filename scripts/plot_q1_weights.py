"""Question 1.2c and 1.2d (rule `q1_weight_figures`): the norm of W per epoch,
one panel per logistic-regression experiment side by side, and the fraction of
exactly-zero weights per epoch (L1 gives sparse weights, L2 small dense ones)."""

import matplotlib.pyplot as plt

from homework1.jobs import job_log
from homework1.plotting import plot_over_seeds, read_metrics, save, title

with job_log(snakemake.log[0]) as log:
    runs = read_metrics(snakemake.input.metrics)
    configurations = list(runs.groupby(["experiment", "variant"], sort=False))

    fig, axes = plt.subplots(1, len(configurations), figsize=(4 * len(configurations), 3.6),
                             sharey=False, squeeze=False)
    for ax, ((experiment, variant), config_runs) in zip(axes[0], configurations):
        plot_over_seeds(ax, config_runs, "weight_norm")
        ax.set(xlabel="epoch", ylabel="Frobenius norm of W",
               title=experiment if variant == "default" else f"{experiment} {variant}")
    fig.suptitle(title(runs, "q1: norm of the weights per epoch", snakemake.wildcards.dataset))
    save(fig, snakemake.output.norm_png, snakemake.output.norm_pdf)

    fig, ax = plt.subplots(figsize=(5.5, 3.8))
    for experiment_variant, config_runs in configurations:
        plot_over_seeds(ax, config_runs, "zero_weight_fraction", label=" ".join(experiment_variant).removesuffix(" default"))
    ax.set(xlabel="epoch", ylabel="fraction of weights exactly 0")
    ax.legend()
    ax.set_title(title(runs, "q1: sparsity of W", snakemake.wildcards.dataset))
    save(fig, snakemake.output.sparsity_png, snakemake.output.sparsity_pdf)
    log(f"drew {len(configurations)} logistic-regression configurations")
