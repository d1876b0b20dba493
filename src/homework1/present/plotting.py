"""The shared look of every figure (``plt`` from here has it), and per-epoch curves averaged over seeds."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # figures are files: no screen needed, also on a cluster node
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from homework1.core.run_checks import SUMMARY_FILE, beside, read_run  # noqa: E402
from homework1.core.runs import METRIC_COLUMNS  # noqa: E402
from homework1.plan.study import run_identity  # noqa: E402

STYLE = {
    "figure.dpi": 110,
    "savefig.dpi": 150,
    "font.size": 9,
    "axes.titlesize": 10,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "legend.frameon": False,
    "legend.fontsize": 8,
}
plt.rcParams.update(STYLE)

LABELS = {
    "train_acc": "train accuracy", "val_acc": "validation accuracy",
    "train_acc_running": "train accuracy on the batches as trained (dropout on)",
    "train_loss": "train loss", "val_loss": "validation loss",
    "weight_norm": "Frobenius norm of W", "zero_weight_fraction": "fraction of zero weights",
}


def read_metrics(paths) -> pd.DataFrame:
    """Per-epoch metrics of several runs, with their identity parsed from the path, each checked with
    the summary beside it (homework1.core.run_checks: a damaged run raises DamagedRun, naming the file).
    A path is a run's metrics.csv, below ``study.RUNS_DIR``."""
    frames = [pd.DataFrame(read_run(beside(path, SUMMARY_FILE), path).metrics, columns=METRIC_COLUMNS,
                           dtype=float).astype({"epoch": int}).assign(**run_identity(path)) for path in paths]
    return pd.concat(frames, ignore_index=True)


def plot_over_seeds(ax, runs: pd.DataFrame, column: str, label: str | None = None, **style) -> None:
    """Mean over seeds per epoch; with several seeds, a band from the min to the max."""
    per_epoch = runs.groupby("epoch")[column]
    mean = per_epoch.mean()
    if mean.isna().all():
        return
    line, = ax.plot(mean.index, mean.values, label=label or LABELS.get(column, column), **style)
    if runs["seed"].nunique() > 1:
        ax.fill_between(mean.index, per_epoch.min().values, per_epoch.max().values,
                        color=line.get_color(), alpha=0.2, linewidth=0)


def seeds_note(runs: pd.DataFrame) -> str:
    seeds = sorted(runs["seed"].unique())
    if not seeds:
        return "no epoch finished (the run diverged)"
    if len(seeds) == 1:
        return f"seed {seeds[0]}"
    return f"mean of {len(seeds)} seeds, band: min-max"


def title(runs: pd.DataFrame, what: str, dataset: str) -> str:
    """``what``, and below it the data set (its description) and the seeds."""
    return f"{what}\n{dataset}; {seeds_note(runs)}"


def overflow(fig) -> float:
    """How far (inches) what a drawn figure shows, its titles and labels, reaches past its edges:
    matplotlib's tight box of the figure against the figure (0 when everything is inside)."""
    box, (width, height) = fig.get_tightbbox(fig.canvas.get_renderer()), fig.get_size_inches()
    return max(0.0, -box.x0, -box.y0, box.x1 - width, box.y1 - height)


def fit_text(fig, tries: int = 5) -> None:
    """Lay the figure out, widening (and heightening) it while a text reaches past its edges."""
    fig.tight_layout()
    for _ in range(tries):
        if overflow(fig) < 0.01:
            return
        box, (width, height) = fig.get_tightbbox(fig.canvas.get_renderer()), fig.get_size_inches()
        fig.set_size_inches(max(width, box.width) + 2 * max(0.0, -box.x0, box.x1 - width) + 0.1,
                            max(height, box.height) + max(0.0, -box.y0, box.y1 - height) + 0.1)
        fig.tight_layout()


def save(fig, *paths) -> None:
    """Write one figure to every path (PNG for screens and the report, PDF for print), no text cut off."""
    fit_text(fig)
    for path in paths:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path)
    plt.close(fig)
