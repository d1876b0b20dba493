"""results/report.md: the homework's questions walked through with our tables and figures (rule `report_md`)."""

from pathlib import Path

import pandas as pd

from homework1.jobs import job_log
from homework1.plotting import DATASET_NOTES
from homework1.tables import to_markdown

REPORT_DIR = Path(snakemake.output.report).parent


def link(path: str) -> str:
    return Path(path).relative_to(REPORT_DIR).as_posix()


def figure(path: str, alt: str) -> str:
    return f"![{alt}]({link(path)})\n"


# What the accuracy tables show, in this order.
ACCURACY_COLUMNS = [
    ("final_train_acc", "train acc"),
    ("final_train_acc_running", "train acc (running)"),
    ("final_val_acc", "val acc"),
    ("best_val_acc", "best val acc"),
    ("test_acc", "test acc"),
    ("wall_time_s", "time (s)"),
]
RUNNING_ACCURACY_NOTE = (
    "*train acc (running)*: accuracy on the training batches as they were trained in the last "
    "epoch (train mode, dropout on), which costs nothing; `q2_full_train_accuracy: true` adds "
    "*train acc*, the eval-mode accuracy on the whole training set (a second pass over it).\n")


def accuracy_table(by_config: pd.DataFrame) -> str:
    """Mean (± std over seeds, when there are several) of each accuracy, one row per variant."""
    rows = by_config[["variant"]].copy()
    for metric, name in ACCURACY_COLUMNS:
        if metric.startswith("final_train_acc") and by_config[f"{metric}_mean"].isna().all():
            continue  # not measured here: Q1 has no running accuracy, Q2 no full pass by default
        mean, std = by_config[f"{metric}_mean"], by_config[f"{metric}_std"]
        digits = 1 if metric == "wall_time_s" else 4
        rows[name] = [
            "—" if pd.isna(m) else (f"{m:.{digits}f}" if pd.isna(s) else f"{m:.{digits}f} ± {s:.{digits}f}")
            for m, s in zip(mean, std)
        ]
    rows["seeds"] = by_config["seeds"].astype(str)
    rows["diverged"] = by_config["diverged_runs"]
    return rows.to_markdown(index=False, disable_numparse=True) + "\n"


def code_origin(summary: pd.DataFrame) -> str:
    """The commit(s) of the workflow's checkout that the runs came from, and their hosts."""
    origins = []
    for (commit, dirty), runs in summary.groupby(["git_commit", "git_dirty"], dropna=False, sort=True):
        name = ("no git commit (not run from a git checkout)" if pd.isna(commit)
                else f"commit `{commit}`" + (" with uncommitted changes" if dirty else ""))
        origins.append(f"{name} ({len(runs)} run{'s' * (len(runs) > 1)})")
    hosts = ", ".join(sorted(summary["host"].dropna().astype(str).unique()))
    return f"Code: {'; '.join(origins)}; on {hosts or 'an unknown host'}.\n"


def section(lines: list, title: str, level: int = 2) -> None:
    lines.append(f"\n{'#' * level} {title}\n")


with job_log(snakemake.log[0]) as log:
    params = snakemake.params
    by_config = pd.read_csv(snakemake.input.by_config)
    figures = {Path(p).relative_to(f"results/figures/{params.dataset}").with_suffix("").as_posix(): p
               for p in snakemake.input.figures}

    lines = [
        "# Homework 1, reproduced\n",
        f"Data set: **{DATASET_NOTES.get(params.dataset, params.dataset)}**; seeds {params.seeds}. "
        "Tables are in `results/tables/` (CSV and Markdown); every figure also exists as PDF.\n",
        code_origin(pd.read_csv(snakemake.input.summary)),
    ]
    if params.dataset != "intel_landscapes":
        lines.append("> These runs did not use the homework's data set, so their accuracies are not "
                     "comparable with the report's; the reproduction table still lists them side by side.\n")

    for question, title in [("q1", "Question 1 — numpy, per-example SGD"),
                            ("q2", "Question 2 — PyTorch, mini-batch SGD")]:
        section(lines, title)
        if question == "q2":
            lines.append(RUNNING_ACCURACY_NOTE)
        for experiment, variants in params.runs[question].items():
            report_id = params.report_ids[question].get(experiment, "")
            section(lines, f"{report_id} {experiment}".strip(), level=3)
            rows = by_config[(by_config["question"] == question) & (by_config["experiment"] == experiment)]
            lines.append(accuracy_table(rows))
            if len(variants) > 1:
                lines.append(figure(figures[f"{question}/{experiment}_overlay"], f"{experiment}: every variant"))
                selection = Path(f"results/tables/selection_{question}_{experiment}.md")
                lines.append(f"Ranked by validation accuracy: [{selection.name}]({link(str(selection))}).\n")
            for variant in variants:
                lines.append(figure(figures[f"{question}/{experiment}/{variant}"], f"{experiment} {variant}"))
        if question == "q1":
            for name, caption in [("weight_norm", "1.2c: norm of W per epoch"),
                                  ("sparsity", "1.2d: L1 gives exactly-zero weights, L2 small dense ones"),
                                  ("mlp_loss", "1.3a: MLP training loss per epoch")]:
                if f"q1/{name}" in figures:
                    section(lines, caption, level=3)
                    lines.append(figure(figures[f"q1/{name}"], caption))

    section(lines, "Question 3 — the theory checked by computation")
    checks = pd.read_csv(snakemake.input.q3_checks)
    lines.append(
        "The network h = g(Wx + b), y = vᵀh + v0 with g(z) = z(1 − z) is checked claim by claim: "
        "h = A_Θ φ(x) and y = c_Θᵀ φ(x) to machine precision; any c reached — by the report's "
        "construction with K ≥ dim φ units, and by an explicit one with only K = D units, since the "
        "quadratic part of c_Θ is −Σ_j v_j w_j w_jᵀ (rank ≤ K: fewer than D units cannot reach every c); "
        "gradient descent on Θ never below the closed-form least-squares loss and reaching it; and what "
        "a rank-deficient Φ does to the normal equations.\n")
    lines.append(f"{int(checks['passed'].sum())} of {len(checks)} numerical checks pass.\n")
    lines.append(to_markdown(checks, floatfmt=".3g"))
    for path in snakemake.input.q3_figures:
        lines.append(figure(path, Path(path).stem.replace("_", " ")))

    section(lines, "The report's numbers beside ours")
    lines.append(Path(snakemake.input.reproduction_md).read_text())
    section(lines, "The report's comparisons against seed noise")
    lines.append(Path(snakemake.input.comparisons_md).read_text())
    section(lines, "Run time and memory of every job")
    lines.append(Path(snakemake.input.runtime_md).read_text())

    Path(snakemake.output.report).write_text("\n".join(lines))
    log(f"wrote {snakemake.output.report}")
