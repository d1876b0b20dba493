"""The figures of the runs (per-epoch metrics from ``plotting.read_metrics``) and of the claims.

``dataset`` is the data set's description, as figures name it. Each function writes one
figure to every path it is given (PNG and PDF).
"""

from __future__ import annotations

import pandas as pd

from homework1.analysis import comparisons, paired
from homework1.plan.claims import HOLDS, OPEN, REVERSED, STOPPED
from homework1.present.plotting import LABELS, plot_over_seeds, plt, save, title


def run_curves(runs: pd.DataFrame, name: str, question: str, dataset: str, *paths) -> None:
    """One configuration. Question 1: train and validation accuracy per epoch. Question 2,
    as the report draws it: train and validation loss (left), validation accuracy (right)."""
    if question == "q1":
        fig, ax = plt.subplots(figsize=(5.5, 3.8))
        plot_over_seeds(ax, runs, "train_acc")
        plot_over_seeds(ax, runs, "val_acc")
        ax.set(xlabel="epoch", ylabel="accuracy")
        ax.legend()
        ax.set_title(title(runs, name, dataset))
    else:
        fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3.8))
        plot_over_seeds(left, runs, "train_loss")
        plot_over_seeds(left, runs, "val_loss")
        left.set(xlabel="epoch", ylabel="cross-entropy loss")
        left.legend()
        plot_over_seeds(right, runs, "val_acc", color="C2")
        right.set(xlabel="epoch", ylabel="validation accuracy")
        fig.suptitle(title(runs, name, dataset))
    save(fig, *paths)


def sweep_overlay(runs: pd.DataFrame, name: str, dataset: str, *paths) -> None:
    """Every variant of one sweep on the same axes: loss (or, without one, train accuracy)
    on the left, validation accuracy on the right."""
    loss_or_acc = "val_loss" if runs["val_loss"].notna().any() else "train_acc"
    fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3.8))
    for index, (variant, variant_runs) in enumerate(runs.groupby("variant", sort=False)):
        plot_over_seeds(left, variant_runs, loss_or_acc, label=variant, color=f"C{index}")
        plot_over_seeds(right, variant_runs, "val_acc", label=variant, color=f"C{index}")
    left.set(xlabel="epoch", ylabel=loss_or_acc.replace("_", " ").replace("val", "validation"))
    right.set(xlabel="epoch", ylabel="validation accuracy")
    right.legend()
    fig.suptitle(title(runs, f"{name}: sweep", dataset))
    save(fig, *paths)


def _configuration_label(experiment: str, variant: str) -> str:
    return experiment if variant == "default" else f"{experiment} {variant}"


def weight_norm(runs: pd.DataFrame, dataset: str, *paths) -> None:
    """1.2c: the Frobenius norm of W per epoch, one panel per logistic-regression configuration."""
    configurations = list(runs.groupby(["experiment", "variant"], sort=False))
    fig, axes = plt.subplots(1, len(configurations), figsize=(4 * len(configurations), 3.6), squeeze=False)
    for ax, ((experiment, variant), config_runs) in zip(axes[0], configurations):
        plot_over_seeds(ax, config_runs, "weight_norm")
        ax.set(xlabel="epoch", ylabel="Frobenius norm of W", title=_configuration_label(experiment, variant))
    fig.suptitle(title(runs, "q1: norm of the weights per epoch", dataset))
    save(fig, *paths)


# Curves that fall on one another stay visible: each configuration has its own dash and marker.
LINE_STYLES = [dict(linestyle="-", marker="o"), dict(linestyle="--", marker="s"), dict(linestyle=":", marker="^"),
               dict(linestyle="-.", marker="D")]


def _every_configuration(runs: pd.DataFrame, column: str, ylabel: str, what: str, dataset: str, *paths) -> None:
    """One curve of ``column`` per configuration, on one pair of axes; each with its own dash and
    marker, so that curves lying on one another stay visible."""
    fig, ax = plt.subplots(figsize=(5.5, 3.8))
    for index, ((experiment, variant), config_runs) in enumerate(
            runs.groupby(["experiment", "variant"], sort=False)):
        style = LINE_STYLES[index % len(LINE_STYLES)]
        every = max(1, int(config_runs["epoch"].max()) // 10)
        plot_over_seeds(ax, config_runs, column, label=_configuration_label(experiment, variant),
                        markevery=every, markersize=4, **style)
    ax.set(xlabel="epoch", ylabel=ylabel)
    ax.legend()
    ax.set_title(title(runs, what, dataset))
    save(fig, *paths)


def sparsity(runs: pd.DataFrame, dataset: str, *paths) -> None:
    """1.2d: the fraction of exactly-zero weights per epoch (L1 gives sparse weights, L2 small dense ones)."""
    _every_configuration(runs, "zero_weight_fraction", "fraction of weights exactly 0", "q1: sparsity of W",
                         dataset, *paths)


def mlp_loss(runs: pd.DataFrame, dataset: str, *paths) -> None:
    """1.3a: the MLP's mean training loss per epoch."""
    _every_configuration(runs, "train_loss", "mean train cross-entropy", "q1: MLP training loss", dataset, *paths)


VERDICT_COLOURS = {HOLDS: "C2", REVERSED: "C3", OPEN: "C7", comparisons.ONE_SEED: "C0", comparisons.IDENTICAL: "C0",
                   STOPPED: "C1"}


def forest(claims: pd.DataFrame, dataset: str, *paths, alpha: float) -> None:
    """The report's claims on one data set at a glance: one row each, the mean paired difference
    (better - worse) with its interval (where its seeds can reach its level), coloured by verdict;
    a line at 0. ``alpha``: the config's ``settle.alpha``, the error rate settled claims were held to."""
    fig, ax = plt.subplots(figsize=(9, 0.45 * len(claims) + 1.8))
    for row, claim in enumerate(claims.itertuples()):
        colour = VERDICT_COLOURS.get(claim.verdict, "C7")
        if pd.notna(claim.low):
            ax.plot([claim.low, claim.high], [row, row], "-", color=colour, linewidth=2.5)
        if pd.notna(claim.mean_difference):
            ax.plot(claim.mean_difference, row, "o", color=colour)
    ax.axvline(0, color="black", linewidth=1)
    ax.set_yticks(range(len(claims)), [f"{claim.report_id} {claim.claim} ({claim.metric})"
                                       for claim in claims.itertuples()])
    ax.set_ylim(len(claims) - 0.5, -0.5)
    verdicts = ax.twinx()  # the verdicts as labels on the right, coloured like their rows
    verdicts.set_ylim(ax.get_ylim())
    verdicts.set_yticks(range(len(claims)), [_verdict_label(claim) for claim in claims.itertuples()])
    for label, claim in zip(verdicts.get_yticklabels(), claims.itertuples()):
        label.set_color(VERDICT_COLOURS.get(claim.verdict, "C7"))
    verdicts.grid(False)
    ax.set_xlabel("accuracy of the better side minus the worse, paired by seed")
    ax.set_title(f"the report's claims: mean paired difference and its interval,\n"
                 f"{forest_method(claims, alpha)}\n{dataset}")
    save(fig, *paths)


def forest_method(claims: pd.DataFrame, alpha: float) -> str:
    """What the forest plot's intervals are, and the level they were tested at: settled over looks,
    1 - ``alpha`` overall; on fixed seeds, ``paired.CONFIDENCE`` Holm-adjusted."""
    if _settled(claims):
        return (f"settled over {int(claims['looks'].max())} looks, {(1 - alpha) * 100:g}% overall: "
                f"α = {alpha:g} spent over the looks, Holm across the claims")
    tested = int(claims["p"].notna().sum())
    if not tested:
        return "no claim tested: each needs two seeds or more on both sides"
    return f"{paired.CONFIDENCE * 100:g}%, Holm-adjusted over the {tested} claim{'s' * (tested != 1)} tested"


def _settled(claims: pd.DataFrame) -> bool:
    return "looks" in claims.columns and claims["looks"].notna().any()


def _verdict_label(claim) -> str:
    """The verdict, the pairs it rests on and, where the claims were settled over looks, the look that decided
    or stopped it."""
    if pd.isna(claim.mean_difference):
        return claim.verdict
    look = next((value for value in (getattr(claim, "decided_at_look", None), getattr(claim, "stopped_at_look", None))
                 if pd.notna(value)), None)
    return claim.verdict + f" (n={int(claim.n_pairs)}" + (f", look {int(look)})" if look is not None else ")")


def before_after(before: pd.DataFrame, after: pd.DataFrame, name: str, verdict: str, dataset: str, *paths) -> None:
    """One configuration before and after a change: each seed's loss (or, without one, train accuracy)
    on the left and validation accuracy on the right, before dashed and after solid, one colour per seed."""
    both = pd.concat([before, after])
    loss_or_acc = "train_loss" if both["train_loss"].notna().any() else "train_acc"
    fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3.8))
    seeds = sorted(both["seed"].unique())
    for side, runs, style in (("before", before, "--"), ("after", after, "-")):
        for seed, run in runs.groupby("seed"):
            colour = f"C{seeds.index(seed) % 10}"
            for ax, column in ((left, loss_or_acc), (right, "val_acc")):
                ax.plot(run["epoch"], run[column], style, color=colour, linewidth=1.2,
                        label=f"seed {seed} {side}")
    left.set(xlabel="epoch", ylabel=LABELS[loss_or_acc])
    right.set(xlabel="epoch", ylabel=LABELS["val_acc"])
    right.legend(ncol=2)
    fig.suptitle(f"{name}: {verdict} (before dashed, after solid)\n{dataset}")
    save(fig, *paths)
