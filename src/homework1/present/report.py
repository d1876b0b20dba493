"""results/report.md: the homework's questions walked through, with our tables and figures inline."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from homework1.analysis import changes, comparisons, paired
from homework1.plan import claims
from homework1.plan.specs import FIGURES, QUESTIONS
from homework1.plan.study import HOMEWORK_DATASET
from homework1.analysis.tables import readable_number, to_markdown

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
CLAIMS_NOTE = (
    "Each claim is judged on the per-seed difference better − worse (*n_pairs* seeds both sides ran; a run that "
    "diverged counts as accuracy 0, and *diverged_better*/*diverged_worse* count them). Its p-value *p* is the "
    "paired t-test's with the spread between seeds taken as at least one example of the test set, valid on "
    f"accuracies that are whole examples out of it: **{claims.HOLDS}** when the interval of the shift that test "
    f"does not reject, Holm-adjusted over the data set's claims, lies above 0, **{claims.REVERSED}** below 0, "
    f"**{claims.OPEN}** when it spans 0; *seeds_needed* is how many seeds would decide an undecided claim if its "
    "observed mean difference were the truth.\n")
SETTLED_CLAIMS_NOTE = (
    "The claims were settled over looks (group-sequential testing): at look *k* the configurations the open "
    "claims compare have run on the first seeds of that look, and each open claim is tested on its pairs so far "
    "(the per-seed difference better − worse; a diverged run counts as accuracy 0) with the paired t-test whose "
    f"spread is floored at one example of the test set. A claim is decided — **{claims.HOLDS}** above 0, "
    f"**{claims.REVERSED}** below — once its p-value is within the share of α spent up to that look (α-spending "
    f"over the looks, Holm's step-down across the claims); it is **{claims.STOPPED}** when its predictive power "
    f"falls below the threshold, and stays **{claims.OPEN}** otherwise. Each row's numbers come from one look, "
    "*numbers_from_look*, on the seeds named in *numbers_from_seeds*: *level* is the level its p-value *p* was "
    "held to there, *low*–*high* the shift its test does not reject at that level.\n")
QUESTION_TITLES = {"q1": "Question 1 — numpy, per-example SGD", "q2": "Question 2 — PyTorch, mini-batch SGD"}
Q3_INTRODUCTION = (
    "The network h = g(Wx + b), y = vᵀh + v0 with g(z) = z(1 − z) is checked claim by claim: "
    "h = A_Θ φ(x) and y = c_Θᵀ φ(x) to machine precision; any c reached — by the report's "
    "construction with K ≥ dim φ units, and by an explicit one with only K = D units, since the "
    "quadratic part of c_Θ is −Σ_j v_j w_j w_jᵀ (rank ≤ K: fewer than D units cannot reach every c); "
    "gradient descent on Θ never below the closed-form least-squares loss and reaching it; and what "
    "a rank-deficient Φ does to the normal equations.\n")


def accuracy_table(by_config: pd.DataFrame) -> str:
    """Mean (± std over seeds, when there are several) of each accuracy, one row per variant."""
    rows = by_config[["variant"]].copy()
    for metric, name in ACCURACY_COLUMNS:
        if metric.startswith("final_train_acc") and by_config[f"{metric}_mean"].isna().all():
            continue  # not measured here: Q1 has no running accuracy, Q2 no full pass by default
        mean, std = by_config[f"{metric}_mean"], by_config[f"{metric}_std"]
        digits = 1 if metric == "wall_time_s" else 4
        rows[name] = [
            "—" if pd.isna(m) else (readable_number(m, f".{digits}f") if pd.isna(s)
                                    else f"{readable_number(m, f'.{digits}f')} ± {readable_number(s, f'.{digits}f')}")
            for m, s in zip(mean, std)
        ]
    rows["seeds"] = by_config["seeds"].astype(str)
    rows["diverged"] = by_config["diverged_runs"]
    return rows.to_markdown(index=False, disable_numparse=True) + "\n"


def training_steps_line(summary: pd.DataFrame) -> str:
    """Which steps trained the torch runs, and how many trained with the CUDA graphs after the check
    against the eager step and how many fell back to it."""
    torch_runs = summary[summary["question"] == "q2"]
    if torch_runs.empty or "training_step" not in torch_runs.columns:
        return ""
    steps = torch_runs["training_step"].fillna("unknown").value_counts()
    checks = torch_runs["graph_check"].fillna("") if "graph_check" in torch_runs.columns else pd.Series(dtype=str)
    graphs, fell_back = int(checks.str.startswith("passed").sum()), int(checks.str.startswith("failed").sum())
    return ("Torch runs by training step: " + ", ".join(f"{step} {count}" for step, count in steps.items())
            + f". CUDA graphs: {graphs} run{'s' * (graphs != 1)} trained with them (checked against the eager "
            f"step), {fell_back} fell back to the eager step.\n")


def code_origin(summary: pd.DataFrame) -> str:
    """The commit(s) of the workflow's checkout that the runs came from, and their hosts."""
    origins = []
    for (commit, dirty), runs in summary.groupby(["git_commit", "git_dirty"], dropna=False, sort=True):
        name = ("no git commit (not run from a git checkout)" if pd.isna(commit)
                else f"commit `{commit}`" + (" with uncommitted changes" if dirty else ""))
        origins.append(f"{name} ({len(runs)} run{'s' * (len(runs) > 1)})")
    hosts = ", ".join(sorted(summary["host"].dropna().astype(str).unique()))
    return f"Code: {'; '.join(origins)}; on {hosts or 'an unknown host'}.\n"


def hand_edited_line(summary: pd.DataFrame) -> str:
    """How many runs hold a file changed since their job wrote it (homework1.core.run_checks), and which."""
    edited = summary[summary["hand_edited"].fillna(False).astype(bool)]
    if edited.empty:
        return "Every run's files are as their training jobs wrote them (their checksums agree).\n"
    names = ", ".join(f"{run.question}/{run.experiment}/{run.variant} seed {run.seed}" for run in edited.itertuples())
    return (f"**Hand-edited: {len(edited)} run{'s' * (len(edited) > 1)}** ({names}): files changed since their "
            f"training job wrote them (the checksums it recorded differ); kept, so not every number shown for "
            f"them is what training gave.\n")


class Report:
    """The report's lines, with links relative to the folder it is written to."""

    def __init__(self, path):
        self.path = Path(path)
        self.lines: list[str] = []

    def add(self, *lines: str) -> None:
        self.lines += lines

    def section(self, title: str, level: int = 2) -> None:
        self.lines.append(f"\n{'#' * level} {title}\n")

    def figure(self, path, alt: str) -> None:
        self.lines.append(f"![{alt}]({self.link(path)})\n")

    def link(self, path) -> str:
        return Path(path).relative_to(self.path.parent).as_posix()

    def write(self) -> None:
        self.path.write_text("\n".join(self.lines), encoding="utf-8")


def experiment_section(report: Report, question: str, experiment: str, variants: list[str], report_id: str,
                       by_config: pd.DataFrame, figures: dict[str, str], selections: dict[str, str]) -> None:
    """One experiment: its accuracy table, its sweep's overlay and ranking, a figure per configuration."""
    report.section(f"{report_id} {experiment}".strip(), level=3)
    rows = by_config[(by_config["question"] == question) & (by_config["experiment"] == experiment)]
    report.add(accuracy_table(rows))
    if len(variants) > 1:
        report.figure(figures[f"{question}/{experiment}_overlay"], f"{experiment}: every variant")
        selection = selections[f"{question}/{experiment}"]
        report.add(f"Ranked by validation accuracy: [{Path(selection).name}]({report.link(selection)}).\n")
    for variant in variants:
        report.figure(figures[f"{question}/{experiment}/{variant}"], f"{experiment} {variant}")


def question_figures_section(report: Report, question: str, figures: dict[str, str]) -> None:
    """The question's figures over several configurations (homework1.plan.specs.FIGURES) that were drawn."""
    for name, figure in FIGURES.items():
        if figure.question == question and f"{question}/{name}" in figures:
            heading = f"{figure.report_id}: {figure.title}"
            report.section(heading, level=3)
            report.figure(figures[f"{question}/{name}"], heading)


def q3_section(report: Report, q3_checks: pd.DataFrame, q3_figures: list[str], q3_table: str) -> None:
    """The checks counted and linked (their table is long), the failing ones inline."""
    report.section("Question 3 — the theory checked by computation")
    failed = q3_checks[~q3_checks["passed"].astype(bool)]
    every = f"; every check: [{Path(q3_table).name}]({report.link(q3_table)})" if q3_table else ""
    report.add(Q3_INTRODUCTION, f"{int(q3_checks['passed'].sum())} of {len(q3_checks)} numerical checks pass{every}.\n")
    if len(failed):
        report.add("The checks that fail:\n", to_markdown(failed, floatfmt=".3g"))
    for figure in q3_figures:
        report.figure(figure, Path(figure).stem.replace("_", " "))


OPEN_VERDICTS = (claims.OPEN, comparisons.ONE_SEED)


def claim_runs(claims_table: pd.DataFrame, summary: pd.DataFrame) -> tuple[int, int]:
    """How many configurations the testable claims compare, and how many runs of them ``summary`` holds."""
    testable = [row for row in claims_table.to_dict("records") if row["verdict"] != claims.NOT_TESTABLE]
    compared = set(claims.configurations(testable))
    runs = sum(run in compared for run in zip(summary["question"], summary["experiment"], summary["variant"]))
    return len(compared), runs


def settling_line(claims_table: pd.DataFrame, settle: dict, summary: pd.DataFrame, runs_at_last_look: int) -> str:
    """With ``settle`` on: how many runs of the claims' configurations settling took, against every one of
    them at the last look's seeds. Off: how to settle the claims left undecided or on one seed (empty when
    there are none)."""
    if settle["looks"]:
        configurations, runs = claim_runs(claims_table, summary)
        futility = (f"claims stopped for futility below predictive power {settle['futility']}"
                    if settle["futility"] else "no stopping for futility")
        return (f"Settled over looks {settle['looks']} with the family-wise error rate held at {settle['alpha']} "
                f"across every look ({settle['spending']} α-spending over the looks, Holm's method across the "
                f"claims, {futility}): the study trained {runs} runs of the {configurations} configurations the "
                f"claims compare, against {runs_at_last_look} with every one at the last look's "
                f"{settle['looks'][-1]} seeds ({runs_at_last_look - runs} saved).\n")
    open_claims = int(claims_table["verdict"].isin(OPEN_VERDICTS).sum())
    if not open_claims:
        return ""
    return (f"{open_claims} claim{'s' * (open_claims > 1)} undecided or resting on one seed: settle them, with the "
            f"error rate held across every look, with `snakemake --cores 8 --config "
            f"'settle={{looks: {list(claims.SUGGESTED_LOOKS)}}}'`.\n")


def tables_sections(report: Report, tables: dict[str, str], figures: dict[str, str], settling: str = "",
                    settled: bool = False) -> None:
    """The reproduction table, the claims (with their forest plot; ``settled``: over looks) and the run times."""
    for key, title in [("reproduction", "The report's numbers beside ours"),
                       ("comparisons", "The report's claims, judged on runs paired by seed"),
                       ("runtime", "Run time and memory of every job")]:
        report.section(title)
        if key == "comparisons":
            report.add(SETTLED_CLAIMS_NOTE if settled else CLAIMS_NOTE)
            if settling:
                report.add(settling)
            if "seed_comparisons" in figures:
                report.figure(figures["seed_comparisons"], "the report's claims: paired differences and intervals")
        report.add(tables[key])


CHANGES_NOTE = (
    "Each run of this build is paired with the same run (data set, question, experiment, variant, seed) in "
    "the snapshot: a pair shares its initial weights and batch order. Per configuration: the mean paired "
    f"difference of test accuracy (after − before) with its {paired.CONFIDENCE * 100:g}% t interval (*low*, "
    f"*high*), the unpaired interval from the spread of each side alone beside it, and the verdict: "
    f"**{changes.IDENTICAL}** (bit for bit), **{changes.WITHIN_NOISE}** (the interval spans 0), "
    f"**{changes.BETTER}**, **{changes.WORSE}**, *{changes.ONE_SEED}* (no interval), *{changes.ONLY_BEFORE}*, "
    f"*{changes.ONLY_AFTER}*; seeds run on one side only are named after it (\"identical on seed 42; seeds "
    "1-4 only after\"): the paired verdict speaks for the paired seeds alone. *mean_before_paired* and "
    "*mean_after_paired* are over the paired seeds, *mean_after_all* over every run after (*runs_after*). "
    "Every run: `results/tables/changes.csv`.\n")


def changes_side(configs: pd.DataFrame, side: str) -> str:
    """One side of a comparison in words: its commit(s), and how many of its runs came from uncommitted edits."""
    commits = sorted({commit for cell in configs[f"commits_{side}"].dropna() for commit in str(cell).split()})
    runs, edited = int(configs[f"runs_{side}"].sum()), int(configs[f"edited_runs_{side}"].sum())
    return (f"commit(s) {', '.join(c[:12] for c in commits) or 'unknown'}, {runs} run{'s' * (runs != 1)}"
            + (f", {edited} of them from uncommitted edits" if edited else ""))


def changes_section(report: Report, baseline: str, configs: pd.DataFrame, figures: list[str]) -> None:
    """With a baseline: what changed since it, configuration by configuration, and the changed ones drawn."""
    report.section(f"What changed since the snapshot `{baseline}`")
    report.add(f"Before: {changes_side(configs, 'before')}; after: {changes_side(configs, 'after')}. "
               f"{changes.summary_line(configs)}.\n", CHANGES_NOTE, to_markdown(configs[changes.SHOWN]))
    for figure in figures:
        report.figure(figure, f"before and after: {Path(figure).stem}")


def homework_order(experiments: dict, report_ids: dict) -> list[str]:
    """The experiments in the homework's order (by their report_id), then the study's own (without one)."""
    def key(experiment):
        report_id = report_ids.get(experiment, "")
        return (0, [int(part) if part.isdigit() else part for part in re.findall(r"\d+|\D+", report_id)]) \
            if report_id else (1, [])
    return sorted(experiments, key=key)


def write_report(path, *, dataset: str, description: str, seeds: list[int], runs: dict, report_ids: dict,
                 summary: pd.DataFrame, by_config: pd.DataFrame, figures: dict[str, str],
                 selections: dict[str, str], q3_checks: pd.DataFrame, q3_figures: list[str],
                 tables: dict[str, str], claims: pd.DataFrame, settle: dict, runs_at_last_look: int,
                 since: dict | None = None, findings: str = "", q3_table: str = "") -> None:
    """Write the report to ``path``.

    ``runs``: {question: {experiment: [variants]}}; ``report_ids``: {question:
    {experiment: the homework's item}}; ``figures``: {stem ("q1/weight_norm",
    "q2/ffn_batch/batch_size~64", "q2/ffn_batch_overlay"): PNG path};
    ``selections``: {"question/experiment": the sweep's selection table (Markdown)};
    ``tables``: the Markdown of the tables "reproduction", "comparisons", "runtime";
    ``claims``: the claims' table (seed_comparisons.csv); ``settle``: the config's block;
    ``since``: with a baseline, {"baseline": its name, "configs": changes_by_config.csv,
    "figures": the PNG of each changed configuration}; ``findings``: the Markdown section that opens
    the report (homework1.present.findings); ``q3_table``: the file of every Question 3 check.
    Every path lies below the report's folder.
    """
    report = Report(path)
    report.add("# Homework 1, reproduced\n",
               f"Data set: **{description}**; seeds {seeds}. "
               "Tables are in `results/tables/` (CSV and Markdown); every figure also exists as PDF.\n",
               code_origin(summary), hand_edited_line(summary))
    if findings:
        report.add(findings)
    if dataset != HOMEWORK_DATASET:
        report.add("> These runs did not use the homework's data set, so their accuracies are not "
                   "comparable with the report's; the reproduction table still lists them side by side.\n")
    for question in QUESTIONS:
        report.section(QUESTION_TITLES[question])
        if question == "q2":
            report.add(RUNNING_ACCURACY_NOTE)
            if steps := training_steps_line(summary):
                report.add(steps)
        for experiment in homework_order(runs[question], report_ids[question]):
            variants = runs[question][experiment]
            experiment_section(report, question, experiment, variants, report_ids[question].get(experiment, ""),
                               by_config, figures, selections)
        question_figures_section(report, question, figures)
    q3_section(report, q3_checks, q3_figures, q3_table)
    tables_sections(report, tables, figures, settling_line(claims, settle, summary, runs_at_last_look),
                    settled=bool(settle["looks"]))
    if since:
        changes_section(report, since["baseline"], since["configs"], since["figures"])
    report.write()
