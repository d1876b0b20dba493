"""Question 1.3a (rule `q1_mlp_loss`): the MLP's mean training loss per epoch."""

import matplotlib.pyplot as plt

from homework1.jobs import job_log
from homework1.plotting import plot_over_seeds, read_metrics, save, title

with job_log(snakemake.log[0]) as log:
    runs = read_metrics(snakemake.input.metrics)
    fig, ax = plt.subplots(figsize=(5.5, 3.8))
    for (experiment, variant), config_runs in runs.groupby(["experiment", "variant"], sort=False):
        plot_over_seeds(ax, config_runs, "train_loss",
                        label=experiment if variant == "default" else f"{experiment} {variant}")
    ax.set(xlabel="epoch", ylabel="mean train cross-entropy")
    ax.legend()
    ax.set_title(title(runs, "q1: MLP training loss", snakemake.wildcards.dataset))
    save(fig, snakemake.output.png, snakemake.output.pdf)
    log(f"drew {len(runs)} epoch rows")
