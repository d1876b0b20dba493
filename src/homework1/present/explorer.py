"""The run explorer's data: every run of a study as plain records (its identity, settings, final
numbers, hover text, links to its files), its per-epoch curves, and each experiment's
hyper-parameters beside its accuracies. The page (``explorer_page``) draws them with plotly.

Every number is kept once, to ``SIGNIFICANT`` digits: the page builds its traces from these
records in the browser, so 300 runs cost their numbers, not a trace object per run and view.
"""

from __future__ import annotations

import math
import numbers
import os

import pandas as pd

from homework1.analysis.tables import hparam_columns
from homework1.core.runs import METRIC_COLUMNS
from homework1.plan.study import RUN_FIELDS, run_identity, run_path
from homework1.present.plotting import LABELS

# The curves one can draw: every per-epoch metric a run records (its question's and its spec's extra
# ones), but the epoch itself and its time (the runtime table has the times).
CURVES = [column for column in METRIC_COLUMNS if column not in ("epoch", "epoch_time_s")]
# The final numbers beside the hyper-parameters, and in every run's hover text.
FINALS = {"final_val_acc": "validation accuracy", "test_acc": "test accuracy"}
SIGNIFICANT = 4
# Above this ratio of largest to smallest, a positive hyper-parameter's axis is logarithmic (learning rates).
LOG_SPAN = 100


def rounded(value):
    """A number to SIGNIFICANT digits (a whole one as an integer); None for a missing or infinite one."""
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        value = float(value)
        if not math.isfinite(value):
            return None
        return int(value) if value.is_integer() and abs(value) < 1e15 else float(f"{value:.{SIGNIFICANT}g}")
    return None if value is None or pd.isna(value) else value


def shown_value(value) -> str:
    rounded_value = rounded(value)
    return "NA" if rounded_value is None else f"{rounded_value:g}" if isinstance(rounded_value, float) \
        else str(rounded_value)


def run_hparams(row: dict, columns: list[str]) -> dict:
    """The hyper-parameters a run used: its row's non-empty ones (numbers as read from summary.csv)."""
    return {name: row[name] for name in columns if not pd.isna(row[name])}


def hover_text(run_id: str, row: dict, hparams: dict) -> str:
    """What hovering a run's curve says: the run, its model and configuration, its seed, its final numbers."""
    settings = ", ".join(f"{name}={shown_value(value)}" for name, value in hparams.items())
    finals = ", ".join(f"{label} {shown_value(row.get(column))}" for column, label in FINALS.items())
    return (f"<b>{run_id}</b><br>seed {row['seed']}; {row['model']}: {settings}<br>"
            f"final {finals}; {row['status']} after {shown_value(row['epochs_completed'])} epochs")


def check_same_runs(summary: pd.DataFrame, metrics_paths) -> None:
    """The runs of summary.csv and the metrics files given must be the same runs; else a ValueError naming one."""
    in_summary = {run_path(**{name: row[name] for name in RUN_FIELDS}) for row in summary.to_dict("records")}
    in_metrics = {run_path(**run_identity(path)) for path in metrics_paths}
    if in_summary != in_metrics:
        only, what = ((sorted(in_summary - in_metrics), "is in summary.csv but has no metrics file")
                      if in_summary - in_metrics else (sorted(in_metrics - in_summary),
                                                       "has a metrics file but is not in summary.csv"))
        raise ValueError(f"run {only[0]} {what} ({len(only)} such): rebuild the summary tables")


def epochs_of(history: pd.DataFrame):
    """A run's epochs: their count n where they are 1..n (as a whole run records them), else the list."""
    epochs = [int(epoch) for epoch in history["epoch"]]
    return len(epochs) if epochs == list(range(1, len(epochs) + 1)) else epochs


def explorer_records(summary: pd.DataFrame, metrics: pd.DataFrame, links: dict[str, str], page_dir) -> dict:
    """Everything the page draws, as plain JSON-ready records.

    ``summary``: summary.csv's rows (one per run); ``metrics``: the runs' per-epoch metrics with their
    identity (``plotting.read_metrics``); ``links``: {label: path pattern of a run's file, with the fields
    of RUN_PATH}, each made relative to ``page_dir``, where the page lies.

    Returns ``runs`` (one dict each, in summary order), ``curves`` ({metric: one list of values per run,
    or None where the run recorded none}), ``labels`` (each metric's name for people) and ``hparams``
    (per experiment, "question/experiment": the runs' indices and one dimension per hyper-parameter that
    differs between its runs, then FINALS).
    """
    columns = hparam_columns(summary)
    rows = summary.to_dict("records")
    histories = {key: history.sort_values("epoch") for key, history in metrics.groupby(list(RUN_FIELDS))}
    runs, curves = [], {metric: [] for metric in CURVES}
    for row in rows:
        identity = {name: row[name] for name in RUN_FIELDS}
        run_id = run_path(**identity)
        hparams = run_hparams(row, columns)
        history = histories.get(tuple(identity.values()))
        runs.append({
            **identity, "id": run_id, "configuration": f"{row['question']}/{row['experiment']}/{row['variant']}",
            "epochs": 0 if history is None else epochs_of(history), "hover": hover_text(run_id, row, hparams),
            "links": {label: os.path.relpath(pattern.format(**identity), page_dir) for label, pattern in links.items()},
        })
        for metric in CURVES:
            values = None if history is None else [rounded(value) for value in history[metric]]
            curves[metric].append(values if values and any(value is not None for value in values) else None)
    drawn = {metric: values for metric, values in curves.items() if any(values)}
    return {"runs": runs, "curves": drawn, "labels": {metric: LABELS.get(metric, metric) for metric in drawn},
            "hparams": hparam_view(rows, columns)}


def hparam_view(rows: list[dict], columns: list[str]) -> dict:
    """Per experiment ("question/experiment"): its runs' indices (in ``rows``) and the dimensions of a
    parallel-coordinates view, one line per run: every hyper-parameter whose value differs between its
    runs (each distinct value a tick; a logarithmic axis for a positive one spanning over LOG_SPAN),
    then the final accuracies."""
    experiments = {}
    for index, row in enumerate(rows):
        experiments.setdefault(f"{row['question']}/{row['experiment']}", []).append(index)
    view = {}
    for experiment, indices in experiments.items():
        dimensions = []
        for name in columns:
            values = [rows[index][name] for index in indices]
            distinct = sorted({value for value in values if not pd.isna(value)}, key=str)
            if len(distinct) > 1:
                dimensions.append(hparam_dimension(name, values, distinct))
        dimensions += [{"label": label, "values": [rounded(rows[index][column]) for index in indices]}
                       for column, label in FINALS.items()]
        view[experiment] = {"runs": indices, "dimensions": dimensions}
    return view


def hparam_dimension(name: str, values: list, distinct: list) -> dict:
    """One hyper-parameter's axis: numbers on a linear or logarithmic scale, anything else by its rank."""
    numeric = all(isinstance(value, (int, float)) for value in distinct)
    if not numeric:
        position = {value: rank for rank, value in enumerate(distinct)}
        return {"label": name, "values": [position.get(value) for value in values],
                "tickvals": list(range(len(distinct))), "ticktext": [str(value) for value in distinct]}
    distinct = sorted(distinct)
    logarithmic = distinct[0] > 0 and distinct[-1] / distinct[0] > LOG_SPAN
    scale = (lambda value: rounded(math.log10(value))) if logarithmic else rounded
    return {"label": f"{name} (log10)" if logarithmic else name,
            "values": [None if pd.isna(value) else scale(value) for value in values],
            "tickvals": [scale(value) for value in distinct], "ticktext": [shown_value(value) for value in distinct]}
