"""Our results beside the report's numbers: ``reproduction_table`` puts every number the
report gives (config/report_numbers.csv) next to our mean and std over seeds, with a
one-word verdict. (Its conclusions are checked in ``comparisons``.)"""

from __future__ import annotations

import math

import pandas as pd

from homework1.core.run_checks import SUMMARY_FILE, beside, read_run
from homework1.plan.study import HOMEWORK_DATASET, RUN_FIELDS, SYNTHETIC_DATASET, run_identity
from homework1.analysis.tables import SEED_STATISTICS

REPORT_COLUMNS = ["report_id", "question", "experiment", "variant", "metric",
                  "report_value", "kind", "note"]
KINDS = ("exact", "approximate", "timing")
METRICS = (*SEED_STATISTICS, "final_weight_norm")

# What the Markdown table shows people (the CSV has every column, docs/tables.md describes them).
SHOWN = ["report_id", "experiment", "variant", "metric", "report_value", "ours_mean", "ours_std", "n_seeds", "verdict"]
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

    Paths are runs' metrics.csv (``study.run_identity`` reads them); runs without a weight norm (the
    MLP, the torch models) are skipped. Each is checked with the summary beside it
    (homework1.core.run_checks).
    """
    rows = []
    for path in metrics_paths:
        epochs = read_run(beside(path, SUMMARY_FILE), path).metrics
        last = epochs[-1]["weight_norm"] if epochs else None
        if last is None:
            continue
        rows.append({**run_identity(path), "final_weight_norm": last})
    return pd.DataFrame(rows, columns=[*RUN_FIELDS, "final_weight_norm"])


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
    if dataset == HOMEWORK_DATASET:
        return True
    return kind == "timing" and dataset == SYNTHETIC_DATASET


def reproduction_table(by_config: pd.DataFrame, report_numbers: pd.DataFrame, dataset: str,
                       weight_norms: pd.DataFrame | None = None) -> pd.DataFrame:
    """Every number of the report beside ours on ``dataset``, one row each.

    ``by_config`` is :func:`homework1.analysis.tables.by_config` of the run summaries;
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

    cores, for run times only: how the runs' jobs shared the machine (tables.cores_shared): a time
    measured while more jobs ran than the machine has cores is not the run's own speed.
    """
    measured = _measured(by_config, dataset, weight_norms)
    ours = by_config[by_config["dataset"] == dataset]
    cores = dict(zip(zip(ours["question"], ours["experiment"], ours["variant"]),
                     ours["cores"] if "cores" in ours.columns else [""] * len(ours)))
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
            "cores": cores.get(key[:3], "") if number["kind"] == "timing" else "",
        })
    columns = ["report_id", "question", "experiment", "variant", "metric", "kind",
               "report_value", "dataset", "ours_mean", "ours_std", "n_seeds", "difference",
               "within_seed_spread", "comparable", "verdict", "note", "cores"]
    table = pd.DataFrame(rows, columns=columns)
    table["within_seed_spread"] = table["within_seed_spread"].astype("boolean")
    return table
