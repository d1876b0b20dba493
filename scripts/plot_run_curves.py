"""Curves of one configuration (rule `run_curves`).

Question 1: train and validation accuracy per epoch. Question 2, as the
report draws it: train and validation loss (left), validation accuracy (right).
"""

import matplotlib.pyplot as plt

from homework1.jobs import job_log
from homework1.plotting import plot_over_seeds, read_metrics, save, title

with job_log(snakemake.log[0]) as log:
    runs = read_metrics(snakemake.input.metrics)
    name = f"{snakemake.wildcards.question}/{snakemake.wildcards.experiment} {snakemake.wildcards.variant}"
    if snakemake.wildcards.question == "q1":
        fig, ax = plt.subplots(figsize=(5.5, 3.8))
        plot_over_seeds(ax, runs, "train_acc")
        plot_over_seeds(ax, runs, "val_acc")
        ax.set(xlabel="epoch", ylabel="accuracy")
        ax.legend()
        ax.set_title(title(runs, name, snakemake.wildcards.dataset))
    else:
        fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3.8))
        plot_over_seeds(left, runs, "train_loss")
        plot_over_seeds(left, runs, "val_loss")
        left.set(xlabel="epoch", ylabel="cross-entropy loss")
        left.legend()
        plot_over_seeds(right, runs, "val_acc", color="C2")
        right.set(xlabel="epoch", ylabel="validation accuracy")
        fig.suptitle(title(runs, name, snakemake.wildcards.dataset))
    save(fig, snakemake.output.png, snakemake.output.pdf)
    log(f"drew {len(runs)} epoch rows into {snakemake.output.png}")
