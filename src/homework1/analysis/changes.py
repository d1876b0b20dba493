"""What a change did: this build compared run by run with a snapshot of an earlier one
(``homework1.analysis.snapshots``).

A run before and the same run after (same seed: same initial weights and batch order) are a
pair. A configuration is IDENTICAL when every pair gave bit for bit the same numbers, BETTER or
WORSE when the ``paired.t_interval`` of its mean paired difference of test accuracy excludes 0,
WITHIN_NOISE when it spans 0, ONE_SEED when a single pair differs, ONLY_BEFORE / ONLY_AFTER
for runs on one side. The unpaired (Welch) interval beside it shows what the pairing buys.
Runs of seeds on one side only are named in the verdict ("identical on seed 42; seeds 1-4 only
after"): the paired verdict speaks for the paired seeds alone; the mean over every run of each side
stands beside the paired means.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from homework1.analysis import paired
from homework1.core.run_checks import SUMMARY_FILE, Run, edit_line, read_run
from homework1.analysis.snapshots import METRICS
from homework1.analysis.tables import seed_ranges
from homework1.plan.study import CONFIG_FIELDS, run_identity

VERDICT_METRIC = "test_acc"
TIMING = ("epoch_time_s",)  # per-epoch columns that differ between any two runs
IDENTICAL, WITHIN_NOISE, BETTER, WORSE = "identical", "within noise", "better", "worse"
ONE_SEED, ONLY_BEFORE, ONLY_AFTER = "changed (one seed)", "only before", "only after"
# The columns the Markdown tables show (the CSVs have every one).
SHOWN = ["question", "experiment", "variant", "n_pairs", "mean_before_paired", "mean_after_paired",
         "mean_difference", "low", "high", "unpaired_low", "unpaired_high", "runs_after", "mean_after_all", "verdict"]
RUNS_SHOWN = ["question", "experiment", "variant", "seed", "test_acc_before", "test_acc_after", "test_acc_diff",
              "side", "identical"]


# ---------------------------------------------------------------- comparing

def _same_numbers(before: Run, after: Run) -> bool:
    """Bit for bit the same summary numbers and per-epoch metrics (times left out)."""
    if any(before.summary.get(metric) != after.summary.get(metric) for metric in METRICS):
        return False
    return [_without_timing(row) for row in before.metrics] == [_without_timing(row) for row in after.metrics]


def _without_timing(epoch: dict) -> dict:
    return {column: value for column, value in epoch.items() if column not in TIMING}


def compare_runs(before_root, before_runs: list[str], after_root, after_runs: list[str],
                 warn=lambda line: None) -> pd.DataFrame:
    """One row per run of either side, paired by dataset/question/experiment/variant/seed: each
    metric before, after and their difference; ``side`` (both, only before, only after) and
    ``identical``. Every run is read checked (homework1.core.run_checks: a damaged one raises DamagedRun
    naming its file); ``warn`` gets one line per file changed since its job wrote it."""
    before_set, after_set = set(before_runs), set(after_runs)
    rows = []
    for run in list(dict.fromkeys([*after_runs, *before_runs])):
        identity = run_identity(f"{run}/summary.json")
        row = dict(identity)
        sides = {"before": (before_root, run in before_set), "after": (after_root, run in after_set)}
        read = {side: read_run(Path(root) / run / SUMMARY_FILE) for side, (root, present) in sides.items()
                if present}
        for edited in (path for side in read.values() for path in side.edited):
            warn(edit_line(edited))
        for side in sides:
            summary = read[side].summary if side in read else {}
            row[f"commit_{side}"] = summary.get("git_commit")
            row[f"dirty_{side}"] = bool(summary.get("git_dirty")) if side in read else None
            for metric in METRICS:
                value = summary.get(metric)
                row[f"{metric}_{side}"] = math.nan if value is None else value
        for metric in METRICS:
            row[f"{metric}_diff"] = row[f"{metric}_after"] - row[f"{metric}_before"]
        both = run in before_set and run in after_set
        row["side"] = "both" if both else (ONLY_BEFORE if run in before_set else ONLY_AFTER)
        row["identical"] = both and _same_numbers(read["before"], read["after"])
        rows.append(row)
    return pd.DataFrame(rows)


def _welch_interval(before: np.ndarray, after: np.ndarray,
                    confidence: float = paired.CONFIDENCE) -> tuple[float, float]:
    """The unpaired (Welch) interval of mean(after) - mean(before): what the spread of each side alone allows."""
    if before.size < 2 or after.size < 2:
        return math.nan, math.nan
    va, vb = after.var(ddof=1) / after.size, before.var(ddof=1) / before.size
    difference = after.mean() - before.mean()
    if va + vb == 0:
        return float(difference), float(difference)
    dof = (va + vb) ** 2 / (va ** 2 / (after.size - 1) + vb ** 2 / (before.size - 1))
    half = stats.t.ppf(0.5 + confidence / 2, dof) * math.sqrt(va + vb)
    return float(difference - half), float(difference + half)


def by_configuration(runs: pd.DataFrame, metric: str = VERDICT_METRIC) -> pd.DataFrame:
    """One row per configuration: seeds paired and on one side only, the mean paired difference of
    ``metric`` with its t interval (``paired.CONFIDENCE``), the unpaired interval beside it, the means over every run of
    each side (runs_before/after, mean_before/after_all), the verdict of the pairs (paired_verdict)
    and the verdict naming the seeds on one side only (verdict)."""
    rows = []
    for key, group in runs.groupby(list(CONFIG_FIELDS), sort=False):
        pairs = group[group["side"] == "both"]
        differences = pairs[f"{metric}_diff"].to_numpy(dtype=float)
        row = dict(zip(CONFIG_FIELDS, key)) | {
            "metric": metric,
            "n_pairs": len(pairs),
            "seeds_only_before": " ".join(map(str, group.loc[group["side"] == ONLY_BEFORE, "seed"])),
            "seeds_only_after": " ".join(map(str, group.loc[group["side"] == ONLY_AFTER, "seed"])),
            "mean_before_paired": pairs[f"{metric}_before"].mean() if len(pairs) else math.nan,
            "mean_after_paired": pairs[f"{metric}_after"].mean() if len(pairs) else math.nan,
            "mean_difference": differences.mean() if len(pairs) else math.nan,
        }
        for side, sides in (("before", ("both", ONLY_BEFORE)), ("after", ("both", ONLY_AFTER))):
            ran = group[group["side"].isin(sides)]
            row[f"runs_{side}"] = len(ran)
            row[f"mean_{side}_all"] = ran[f"{metric}_{side}"].mean() if len(ran) else math.nan
            row[f"edited_runs_{side}"] = int(ran[f"dirty_{side}"].fillna(False).astype(bool).sum()) \
                if f"dirty_{side}" in ran.columns else 0
        low, high = paired.t_interval(differences) if len(pairs) >= 2 else (math.nan, math.nan)
        row["low"], row["high"] = low, high
        row["unpaired_low"], row["unpaired_high"] = _welch_interval(pairs[f"{metric}_before"].to_numpy(float),
                                                                    pairs[f"{metric}_after"].to_numpy(float))
        row["paired_verdict"] = _verdict(group, pairs, low, high)
        row["verdict"] = _with_one_sided_seeds(row["paired_verdict"], group)
        for side in ("before", "after"):
            row[f"commits_{side}"] = " ".join(sorted(set(group[f"commit_{side}"].dropna())))
        rows.append(row)
    return pd.DataFrame(rows)


def _verdict(group: pd.DataFrame, pairs: pd.DataFrame, low: float, high: float) -> str:
    if pairs.empty:
        return ONLY_BEFORE if (group["side"] == ONLY_BEFORE).all() else ONLY_AFTER
    if pairs["identical"].all():
        return IDENTICAL
    if len(pairs) < 2:
        return ONE_SEED
    if low > 0:
        return BETTER
    if high < 0:
        return WORSE
    return WITHIN_NOISE


def _with_one_sided_seeds(verdict: str, group: pd.DataFrame) -> str:
    """The paired verdict, on which seeds, and the seeds run on one side only: "identical on seed 42;
    seeds 1-4 only after". Unchanged where every seed ran on both sides (or none did)."""
    pairs = group[group["side"] == "both"]
    one_sided = [f"{seed_ranges(group.loc[group['side'] == side, 'seed'])} {side}"
                 for side in (ONLY_BEFORE, ONLY_AFTER) if (group["side"] == side).any()]
    if pairs.empty or not one_sided:
        return verdict
    return f"{verdict} on {seed_ranges(pairs['seed'])}; " + "; ".join(one_sided)


def summary_line(configs: pd.DataFrame) -> str:
    """The comparison in one line: the configurations by paired verdict, then the runs on one side only,
    counted (a rebuild with new seeds is not "identical" alone)."""
    counts = configs["paired_verdict"].value_counts()
    line = f"{len(configs)} configurations: " + ", ".join(f"{n} {verdict}" for verdict, n in counts.items())
    for side in ("before", "after"):
        only = int((configs["runs_" + side] - configs["n_pairs"]).sum())
        if only:
            line += f"; {only} run{'s' * (only > 1)} only {side} (not in the paired verdicts)"
    return line


def changed_configurations(table: pd.DataFrame) -> pd.DataFrame:
    """The configurations whose runs differ before and after (those drawn)."""
    return table[~table["paired_verdict"].isin([IDENTICAL, ONLY_BEFORE, ONLY_AFTER])]


def figure_name(row) -> str:
    """The file name (without extension) of one configuration's before/after figure."""
    return f"{row['question']}_{row['experiment']}_{row['variant']}"
