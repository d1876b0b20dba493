"""Every variant of one sweep on the same axes (rule `sweep_overlay`)."""

import matplotlib.pyplot as plt

from homework1.jobs import job_log
from homework1.plotting import plot_over_seeds, read_metrics, save, title

with job_log(snakemake.log[0]) as log:
    runs = read_metrics(snakemake.input.metrics)
    loss_or_acc = "val_loss" if runs["val_loss"].notna().any() else "train_acc"
    fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3.8))
    for index, (variant, variant_runs) in enumerate(runs.groupby("variant", sort=False)):
        plot_over_seeds(left, variant_runs, loss_or_acc, label=variant, color=f"C{index}")
        plot_over_seeds(right, variant_runs, "val_acc", label=variant, color=f"C{index}")
    left.set(xlabel="epoch", ylabel=loss_or_acc.replace("_", " ").replace("val", "validation"))
    right.set(xlabel="epoch", ylabel="validation accuracy")
    right.legend()
    sweep = f"{snakemake.wildcards.question}/{snakemake.wildcards.experiment}: sweep"
    fig.suptitle(title(runs, sweep, snakemake.wildcards.dataset))
    save(fig, snakemake.output.png, snakemake.output.pdf)
    log(f"drew {runs['variant'].nunique()} variants into {snakemake.output.png}")
