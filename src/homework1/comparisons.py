"""The report's "A beats B" conclusions, each checked against the spread of our seeds."""

from __future__ import annotations

import math

import pandas as pd

COMPARISON_COLUMNS = ["report_id", "question", "metric", "better", "worse", "claim"]


def read_comparisons(path) -> list[dict]:
    """The report's "better beats worse on metric" conclusions (sides named experiment/variant)."""
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    missing = [column for column in COMPARISON_COLUMNS if column not in frame.columns]
    if missing:
        raise ValueError(f"{path}: missing column(s) {', '.join(missing)}")
    return frame[COMPARISON_COLUMNS].to_dict("records")


def _side(summary: pd.DataFrame, question: str, name: str, dataset, metric: str) -> pd.Series:
    """The metric of every seed of one side, ``name`` = experiment/variant."""
    experiment, variant = name.split("/", 1)
    runs = summary[(summary["question"] == question) & (summary["experiment"] == experiment)
                   & (summary["variant"] == variant) & (summary["dataset"] == dataset)]
    return runs[metric].dropna().astype(float)


def _comparison_verdict(better: pd.Series, worse: pd.Series, difference: float,
                        beyond) -> str:
    if len(better) == 0 or len(worse) == 0:
        return "not run"
    if not difference > 0:
        return "does not hold"
    if beyond is pd.NA:
        return "holds (single seed: spread unknown)"
    return "holds beyond seed spread" if beyond else "holds in means only"


def seed_comparisons(summary: pd.DataFrame, comparisons: list[dict]) -> pd.DataFrame:
    """The report's "A beats B" conclusions, each checked against our seed noise.

    ``summary`` is one row per run (:func:`homework1.tables.read_summaries`);
    ``comparisons`` come from :func:`read_comparisons` (report_id, question,
    metric, better, worse as "experiment/variant", claim). One row per
    comparison and data set found in ``summary``.

    holds_in_means: mean(better) > mean(worse).
    holds_beyond_spread: the difference of the means exceeds the sum of the two
    sides' standard deviations over seeds (ddof 1): the seed clouds stay apart
    by more than one std each. NA when a side has a single seed.

    verdict: "not run" (a side has no run), "does not hold" (means in the other
    order, or equal), "holds (single seed: spread unknown)", "holds in means
    only" (within the seed spread), "holds beyond seed spread".
    """
    datasets = sorted(summary["dataset"].dropna().unique()) if len(summary) else []
    rows = []
    for comparison in comparisons:
        for dataset in datasets or [None]:
            sides = {}
            for side in ("better", "worse"):
                values = (_side(summary, comparison["question"], comparison[side], dataset,
                                comparison["metric"]) if dataset else pd.Series(dtype=float))
                sides[side] = values
            better, worse = sides["better"], sides["worse"]
            difference = better.mean() - worse.mean()
            spread = better.std() + worse.std()  # NaN with a single seed on either side
            ran = len(better) > 0 and len(worse) > 0
            beyond = pd.NA if not ran or math.isnan(spread) else bool(difference > spread)
            rows.append({
                "report_id": comparison["report_id"], "question": comparison["question"],
                "metric": comparison["metric"], "claim": comparison.get("claim", ""),
                "better": comparison["better"], "worse": comparison["worse"],
                "dataset": dataset,
                "better_mean": better.mean(), "better_std": better.std(), "better_n": len(better),
                "worse_mean": worse.mean(), "worse_std": worse.std(), "worse_n": len(worse),
                "difference": difference,
                "holds_in_means": bool(difference > 0) if ran else pd.NA,
                "holds_beyond_spread": beyond,
                "verdict": _comparison_verdict(better, worse, difference, beyond),
            })
    columns = ["report_id", "question", "metric", "claim", "better", "worse", "dataset",
               "better_mean", "better_std", "better_n", "worse_mean", "worse_std", "worse_n",
               "difference", "holds_in_means", "holds_beyond_spread", "verdict"]
    table = pd.DataFrame(rows, columns=columns)
    for column in ("holds_in_means", "holds_beyond_spread"):
        table[column] = table[column].astype("boolean")
    return table
