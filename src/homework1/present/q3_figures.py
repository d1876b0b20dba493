"""Question 3's two figures, drawn from the tables of ``checks`` in the workflow's shared style."""

from __future__ import annotations

import numpy as np
import pandas as pd

from homework1.present.plotting import plt, save
from homework1.q3 import feature_dim

FLOOR = 1e-17  # exact zeros, drawn at the bottom of the log axes


def gd_vs_closed_form(curve: pd.DataFrame, D: int, path) -> None:
    """The loss of gradient descent on Theta per step, beside the closed-form floor (table gd_curve;
    D features of the regression task)."""
    floor = float(curve["closed_form_loss"].iloc[0])
    fig, (ax_loss, ax_gap) = plt.subplots(1, 2, figsize=(11, 4.2))
    for i, (K, runs) in enumerate(curve.groupby("K", sort=False)):
        for start, run in runs.groupby("start"):
            label = f"K = {K}" if start == 0 else None
            ax_loss.plot(run["step"], run["loss"], color=f"C{i}", alpha=0.8, lw=1, label=label)
            ax_gap.plot(run["step"], np.maximum(run["relative_gap"], FLOOR), color=f"C{i}", alpha=0.8, lw=1,
                        label=label)
    ax_loss.axhline(floor, color="black", ls="--", lw=1, label=f"closed form {floor:.4g}")
    ax_loss.set(yscale="log", xlabel="gradient-descent step", ylabel="training loss (1/2N) sum (y_hat - y)^2",
                title="loss per step, closed-form floor dashed")
    ax_gap.set(yscale="log", xlabel="gradient-descent step", ylabel="(loss - closed form) / closed form",
               title=f"gap to the floor (D = {D}, dim phi = {feature_dim(D)})")
    ax_loss.legend()
    ax_gap.legend()
    save(fig, path)


def error_vs_units(summary: pd.DataFrame, tolerance: float, path) -> None:
    """The best reachable ||c_theta - c|| as the number of units K shrinks (table k_sweep)."""
    D, P = int(summary["D"].iloc[0]), int(summary["dim_phi"].iloc[0])
    fig, ax = plt.subplots(figsize=(7, 4.2))
    ax.plot(summary["K"], np.maximum(summary["best_error"], FLOOR), "o-", label="optimised, worst target")
    ax.plot(summary["K"], np.maximum(summary["median_error"], FLOOR), ".:", label="optimised, median target")
    bound = summary[summary["lower_bound"] > 0]  # zero from K = D on
    ax.plot(bound["K"], bound["lower_bound"], "s--", ms=4, label="rank lower bound")
    ax.plot(summary["K"], np.maximum(summary["construction_error"], FLOOR), "x", label="explicit construction")
    ax.axhline(tolerance, color="gray", lw=1, ls=":", label=f"tolerance {tolerance:g}")
    ax.axvline(D, color="black", lw=1, ls="--")
    ax.axvline(P, color="black", lw=1, ls="-.")
    ax.text(D, 1, f" D = {D}", va="top")
    ax.text(P, 1, f" dim phi = {P}", va="top", ha="right")
    ax.set(yscale="log", xlabel="hidden units K", ylabel="min over Theta of ||c_theta - c||",
           title="reaching a random c with K units")
    ax.legend(loc="center right")
    save(fig, path)
