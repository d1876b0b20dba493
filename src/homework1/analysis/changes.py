"""What a change did: this build compared run by run with a snapshot of an earlier one
(``homework1.analysis.snapshots``).

A run before and the same run after (same seed: same initial weights and batch order) are a
pair. A configuration is IDENTICAL when every pair gave bit for bit the same numbers, BETTER or
WORSE when the ``paired.t_interval`` of its mean paired difference of test accuracy excludes 0,
WITHIN_NOISE when it spans 0, ONE_SEED when a single pair differs, ONLY_BEFORE / ONLY_AFTER
for runs on one side. The unpaired (Welch) interval beside it shows what the pairing buys.
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
from homework1.plan.study import CONFIG_FIELDS, run_identity

VERDICT_METRIC = "test_acc"
TIMING = ("epoch_time_s",)  # per-epoch columns that differ between any two runs
IDENTICAL, WITHIN_NOISE, BETTER, WORSE = "identical", "within noise", "better", "worse"
ONE_SEED, ONLY_BEFORE, ONLY_AFTER = "changed (one seed)", "only before", "only after"
# The columns the Markdown tables show (the CSVs have every one).
SHOWN = ["question", "experiment", "variant", "n_pairs", "seeds_only_before", "seeds_only_after", "mean_before",
         "mean_after", "mean_difference", "low", "high", "unpaired_low", "unpaired_high", "verdict"]
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
    ``metric`` with its t interval (``paired.CONFIDENCE``), the unpaired interval beside it, and the verdict."""
    rows = []
    for key, group in runs.groupby(list(CONFIG_FIELDS), sort=False):
        pairs = group[group["side"] == "both"]
        differences = pairs[f"{metric}_diff"].to_numpy(dtype=float)
        row = dict(zip(CONFIG_FIELDS, key)) | {
            "metric": metric,
            "n_pairs": len(pairs),
            "seeds_only_before": " ".join(map(str, group.loc[group["side"] == ONLY_BEFORE, "seed"])),
            "seeds_only_after": " ".join(map(str, group.loc[group["side"] == ONLY_AFTER, "seed"])),
            "mean_before": pairs[f"{metric}_before"].mean() if len(pairs) else math.nan,
            "mean_after": pairs[f"{metric}_after"].mean() if len(pairs) else math.nan,
            "mean_difference": differences.mean() if len(pairs) else math.nan,
        }
        low, high = paired.t_interval(differences) if len(pairs) >= 2 else (math.nan, math.nan)
        row["low"], row["high"] = low, high
        row["unpaired_low"], row["unpaired_high"] = _welch_interval(pairs[f"{metric}_before"].to_numpy(float),
                                                                    pairs[f"{metric}_after"].to_numpy(float))
        row["verdict"] = _verdict(group, pairs, low, high)
        row["commits_before"] = " ".join(sorted(set(pairs["commit_before"].dropna())))
        row["commits_after"] = " ".join(sorted(set(pairs["commit_after"].dropna())))
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


def changed_configurations(table: pd.DataFrame) -> pd.DataFrame:
    """The configurations whose runs differ before and after (those drawn)."""
    return table[~table["verdict"].isin([IDENTICAL, ONLY_BEFORE, ONLY_AFTER])]


def figure_name(row) -> str:
    """The file name (without extension) of one configuration's before/after figure."""
    return f"{row['question']}_{row['experiment']}_{row['variant']}"
