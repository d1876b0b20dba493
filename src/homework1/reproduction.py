"""Our results beside the report's: the numbers, its conclusions under seed noise, run times.

Three tables:

- ``reproduction_table``: every number the report gives (config/report_numbers.csv)
  next to our mean and std over seeds, with a one-word verdict;
- ``seed_comparisons``: every "A beats B" conclusion of the report, checked
  against the spread of our seeds;
- ``runtime_table``: wall time, memory and CPU time of every Snakemake job,
  from its benchmark file.
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

from homework1.runs import run_identity
from homework1.tables import SEED_STATISTICS

# The data set the report's numbers were measured on.
REPORT_DATASET = "intel_landscapes"
# Random pixels with the report's shapes: its run times compare, its accuracies never do.
TIMING_DATASET = "synthetic_intel"

REPORT_COLUMNS = ["report_id", "question", "experiment", "variant", "metric",
                  "report_value", "kind", "note"]
KINDS = ("exact", "approximate", "timing")
METRICS = (*SEED_STATISTICS, "final_weight_norm")

# An exact number is printed to 4 digits: ours matches when it rounds to it.
EXACT_FLOOR = 0.5e-4
# "close": within this fraction of the report's value (2.5 accuracy points at 0.5).
CLOSE_RELATIVE = 0.05
# Within seed spread: the report's value lies within this many std's of our mean.
SPREAD_STDS = 2.0


def read_report_numbers(path) -> pd.DataFrame:
    """The report's numbers, one row each, checked for known metrics and kinds."""
    text_columns = [c for c in REPORT_COLUMNS if c != "report_value"]
    # ids like "2.1" must stay text, and an empty note is an empty string
    numbers = pd.read_csv(path, dtype={c: str for c in text_columns}, keep_default_na=False)
    missing = [c for c in REPORT_COLUMNS if c not in numbers.columns]
    if missing:
        raise ValueError(f"{path}: missing columns {missing}")
    numbers["report_value"] = pd.to_numeric(numbers["report_value"], errors="raise").astype(float)
    for column, allowed in (("kind", KINDS), ("metric", METRICS)):
        unknown = sorted(set(numbers[column]) - set(allowed))
        if unknown:
            raise ValueError(f"{path}: unknown {column} {unknown}; expected one of {list(allowed)}")
    return numbers[REPORT_COLUMNS]


# ---------------------------------------------------------------- final weight norms

def final_weight_norms(metrics_paths) -> pd.DataFrame:
    """The last epoch's weight_norm of every run that records one.

    Paths follow results/runs/{dataset}/{question}/{experiment}/{variant}/seed{seed}/metrics.csv;
    runs without a weight norm (the MLP, the torch models) are skipped.
    """
    rows = []
    for path in metrics_paths:
        metrics = pd.read_csv(path)
        if "weight_norm" not in metrics.columns or metrics.empty:
            continue
        last = metrics.sort_values("epoch").iloc[-1]["weight_norm"]
        if pd.isna(last):
            continue
        rows.append({**run_identity(path), "final_weight_norm": float(last)})
    columns = ["dataset", "question", "experiment", "variant", "seed", "final_weight_norm"]
    return pd.DataFrame(rows, columns=columns)


# ---------------------------------------------------------------- the report's numbers

def _measured(by_config: pd.DataFrame, dataset: str, weight_norms: pd.DataFrame | None) -> dict:
    """{(question, experiment, variant, metric): (mean, std, n)} of our runs on ``dataset``.

    Weight norms without a question column are keyed with question None.
    """
    measured = {}

    def add(key, value):
        if key in measured:
            raise ValueError(f"two configurations measure {key}: give one model per experiment/variant")
        measured[key] = value

    for row in by_config[by_config["dataset"] == dataset].to_dict("records"):
        for metric in SEED_STATISTICS:
            add((row["question"], row["experiment"], row["variant"], metric),
                (row[f"{metric}_mean"], row[f"{metric}_std"], int(row[f"{metric}_count"])))
    if weight_norms is not None and len(weight_norms):
        norms = weight_norms
        if "dataset" in norms.columns:
            norms = norms[norms["dataset"] == dataset]
        if "question" not in norms.columns:
            norms = norms.assign(question=None)
        for (question, experiment, variant), group in norms.groupby(
                ["question", "experiment", "variant"], dropna=False, sort=True):
            values = group["final_weight_norm"].dropna()
            question = None if pd.isna(question) else question
            add((question, experiment, variant, "final_weight_norm"),
                (values.mean(), values.std(), len(values)))
    return measured


def _within_seed_spread(kind: str, difference: float, std: float, n: int, comparable: bool):
    """Is the report's value inside our seed spread? NA where that cannot be said."""
    if not comparable or n == 0 or kind == "timing" or math.isnan(difference):
        return pd.NA
    floor = EXACT_FLOOR if kind == "exact" else 0.0
    if n > 1:
        return bool(abs(difference) <= max(SPREAD_STDS * std, floor))
    return bool(abs(difference) <= EXACT_FLOOR) if kind == "exact" else pd.NA


def _verdict(kind, dataset, comparable, ran, n, difference, report_value, within) -> str:
    if not ran:
        return "not run"
    if n == 0 or math.isnan(difference):
        return "no value"
    if not comparable:
        return f"other data set ({dataset})"
    if kind == "timing":
        return "n/a (timing)"
    if kind == "exact" and abs(difference) <= EXACT_FLOOR:
        return "matches"
    if within is True:
        return "within seed spread"
    if abs(difference) <= CLOSE_RELATIVE * abs(report_value):
        return "close"
    return "differs"


def _comparable(dataset: str, kind: str) -> bool:
    """Does our number measure the same thing as the report's? Data set and, for times, shapes."""
    if dataset == REPORT_DATASET:
        return True
    return kind == "timing" and dataset == TIMING_DATASET


def reproduction_table(by_config: pd.DataFrame, report_numbers: pd.DataFrame, dataset: str,
                       weight_norms: pd.DataFrame | None = None) -> pd.DataFrame:
    """Every number of the report beside ours on ``dataset``, one row each.

    ``by_config`` is :func:`homework1.tables.by_config` of the run summaries;
    ``weight_norms`` has experiment, variant, seed, final_weight_norm (and
    optionally question, dataset), see :func:`final_weight_norms`.

    Columns: the report's (report_id, question, experiment, variant, metric,
    kind, report_value), ``dataset`` (what we trained on), ours_mean, ours_std,
    n_seeds, difference (ours_mean - report_value), within_seed_spread,
    comparable, verdict, note.

    within_seed_spread: with several seeds, |difference| <= max(2 std, 0.00005
    for exact numbers, 0 otherwise); with one seed, for exact numbers, whether
    ours equals the report's to 4 digits (|difference| <= 0.00005), else NA;
    always NA for timings, missing runs and runs on another data set.

    comparable: False when we trained on another data set than the report's
    (intel_landscapes); run times also compare on synthetic_intel (same shapes).
    Our numbers are filled in either way: they are what we measured.

    verdict, the first that applies:
      "not run"                 no run of this configuration on ``dataset``;
      "no value"                runs, but none recorded this metric (e.g. diverged);
      "other data set (NAME)"   not comparable (see above);
      "n/a (timing)"            a run time: the report's machine differs, no verdict;
      "matches"                 exact number, our mean equals it to 4 digits;
      "within seed spread"      several seeds and the report's value is within 2 std;
      "close"                   |difference| <= 5% of the report's value;
      "differs"                 anything else.
    """
    measured = _measured(by_config, dataset, weight_norms)
    rows = []
    for number in report_numbers.to_dict("records"):
        key = (number["question"], number["experiment"], number["variant"], number["metric"])
        found = measured.get(key) or measured.get((None, *key[1:]))
        mean, std, n = found or (math.nan, math.nan, 0)
        mean, std = float(mean), float(std)
        difference = mean - number["report_value"]
        comparable = _comparable(dataset, number["kind"])
        within = _within_seed_spread(number["kind"], difference, std, n, comparable)
        rows.append({
            "report_id": number["report_id"], "question": number["question"],
            "experiment": number["experiment"], "variant": number["variant"],
            "metric": number["metric"], "kind": number["kind"],
            "report_value": number["report_value"], "dataset": dataset,
            "ours_mean": mean, "ours_std": std, "n_seeds": n, "difference": difference,
            "within_seed_spread": within,
            "comparable": comparable,
            "verdict": _verdict(number["kind"], dataset, comparable, found is not None, n, difference,
                                number["report_value"], within),
            "note": number.get("note", ""),
        })
    columns = ["report_id", "question", "experiment", "variant", "metric", "kind",
               "report_value", "dataset", "ours_mean", "ours_std", "n_seeds", "difference",
               "within_seed_spread", "comparable", "verdict", "note"]
    table = pd.DataFrame(rows, columns=columns)
    table["within_seed_spread"] = table["within_seed_spread"].astype("boolean")
    return table


# ---------------------------------------------------------------- the report's conclusions

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


# ---------------------------------------------------------------- run times

def _job_name(path) -> str:
    """The benchmark path below benchmarks/, without .tsv: runs/digits/q1/mlp/default/seed42."""
    parts = Path(path).with_suffix("").parts
    if "benchmarks" in parts:
        last = len(parts) - 1 - parts[::-1].index("benchmarks")
        parts = parts[last + 1:]
    return "/".join(parts)


def _job_identity(job: str) -> dict:
    """dataset, question, experiment, variant, seed of a training job; empty for other jobs."""
    parts = job.split("/")
    identity = {"dataset": "", "question": "", "experiment": "", "variant": "", "seed": pd.NA}
    if parts[0] == "runs" and len(parts) == 6:
        try:
            identity.update(run_identity(job))
        except ValueError:
            pass  # not a training job's benchmark after all: no identity
    elif parts[0] == "datasets" and len(parts) == 2:
        identity["dataset"] = parts[1]
    return identity


def runtime_table(benchmark_paths) -> pd.DataFrame:
    """One row per Snakemake job: its wall time, peak memory and CPU time.

    Reads Snakemake's benchmark TSVs (columns s, h:m:s, max_rss, ..., cpu_time;
    max_rss in MB; "NA" or "-" where unmeasured). A benchmark repeated several
    times gives the mean of its repeats.
    """
    rows = []
    for path in benchmark_paths:
        bench = pd.read_csv(path, sep="\t", na_values=["NA", "-"])

        def mean_of(column):
            if column not in bench.columns:
                return math.nan
            return pd.to_numeric(bench[column], errors="coerce").mean()

        job = _job_name(path)
        rows.append({"job": job, **_job_identity(job), "wall_s": mean_of("s"),
                     "max_rss_mb": mean_of("max_rss"), "cpu_time_s": mean_of("cpu_time")})
    columns = ["job", "dataset", "question", "experiment", "variant", "seed",
               "wall_s", "max_rss_mb", "cpu_time_s"]
    table = pd.DataFrame(rows, columns=columns)
    table["seed"] = table["seed"].astype("Int64")
    return table.sort_values("job", ignore_index=True)
