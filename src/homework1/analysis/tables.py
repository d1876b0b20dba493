"""Run summaries gathered into pandas tables, written as CSV and Markdown."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from homework1.core.run_checks import edit_line, read_run
from homework1.plan.study import RUN_FIELDS

# Columns that identify a run, first in every table: its fields (study.RUN_FIELDS) with its model
# before the seed, and the data set last.
_DATASET, *_CONFIGURATION, _SEED = RUN_FIELDS
ID_COLUMNS = [*_CONFIGURATION, "model", _SEED, _DATASET]
# What names one configuration: everything that identifies a run but its seed.
CONFIG_COLUMNS = [column for column in ID_COLUMNS if column != "seed"]
# How a run's job shared the machine (homework1.core.environment.core_sharing).
CORE_COLUMNS = ["threads", "machine_cores", "workflow_cores", "max_jobs_at_once", "shared_cores"]
RESULT_COLUMNS = [
    "status", "epochs_completed", "final_train_acc", "final_train_acc_running", "final_val_acc", "test_acc",
    "best_val_acc", "best_epoch", "final_train_loss", "final_val_loss",
    "wall_time_s", "cpu_time_s", "kernel_compile_s", "device", "implementation", "training_step", "graph_check",
    *CORE_COLUMNS,
]
# Where a run came from: its data, its code (runs.code_provenance) and its machine; and whether a file of
# it was changed since its job wrote it (homework1.core.run_checks: kept, and counted).
ORIGIN_COLUMNS = ["dataset_sha256", "git_commit", "git_dirty", "host", "hand_edited"]
# What by_config averages over seeds.
SEED_STATISTICS = ["final_train_acc", "final_train_acc_running", "final_val_acc", "test_acc", "best_val_acc",
                   "wall_time_s", "cpu_time_s"]


def read_summaries(paths, warn=lambda line: None) -> pd.DataFrame:
    """One row per run: identity, every hyper-parameter (one column each), results,
    then where the run came from (data set checksum, code commit, host) and whether it was edited
    by hand. Each run is read with its metrics beside it and checked (homework1.core.run_checks: a damaged
    one raises DamagedRun); ``warn`` gets one line per file changed since its job wrote it."""
    rows = []
    for path in paths:
        run = read_run(path)
        for edited in run.edited:
            warn(edit_line(edited))
        summary = run.summary
        row = {key: summary.get(key) for key in ID_COLUMNS + RESULT_COLUMNS + ORIGIN_COLUMNS}
        row["hand_edited"] = bool(run.edited)
        row.update(summary["hparams"])
        row["synthetic_data"] = summary.get("synthetic_data", False)
        rows.append(row)
    frame = pd.DataFrame(rows)
    columns = ID_COLUMNS + hparam_columns(frame) + RESULT_COLUMNS + ["synthetic_data"] + ORIGIN_COLUMNS
    return frame.reindex(columns=columns).sort_values(ID_COLUMNS[:3] + ["seed"], ignore_index=True)


def hparam_columns(summary: pd.DataFrame) -> list[str]:
    """The hyper-parameters' columns of a summary table (one per hyper-parameter of any run), sorted."""
    return sorted(c for c in summary.columns if c not in ID_COLUMNS + RESULT_COLUMNS + ORIGIN_COLUMNS
                  and c != "synthetic_data")


def by_config(summary: pd.DataFrame) -> pd.DataFrame:
    """Mean, std and count over seeds of each accuracy and time, one row per configuration."""
    grouped = summary.groupby(CONFIG_COLUMNS, sort=True)
    stats = grouped[SEED_STATISTICS].agg(["mean", "std", "count"])
    stats.columns = [f"{metric}_{stat}" for metric, stat in stats.columns]
    stats["seeds"] = grouped["seed"].apply(lambda seeds: " ".join(str(s) for s in sorted(seeds)))
    stats["diverged_runs"] = grouped["status"].apply(lambda status: int((status != "ok").sum()))
    stats["cores"] = grouped[CORE_COLUMNS].apply(cores_shared) if set(CORE_COLUMNS) <= set(summary.columns) else ""
    return stats.reset_index()


def cores_shared(runs: pd.DataFrame) -> str:
    """How runs' jobs shared the machine, in words: "shared: up to 8 jobs at once on 2 cores" where
    their Snakemake ran more jobs at once than the machine has cores (their wall times include waiting
    for a core), "own cores" where not, "unknown" where the runs did not record it (a cluster, older runs)."""
    known = runs.dropna(subset=["max_jobs_at_once", "machine_cores"])
    if known.empty:
        return "unknown"
    shared = known[known["shared_cores"].astype(bool)]
    if shared.empty:
        return "own cores"
    most = shared.loc[shared["max_jobs_at_once"].idxmax()]
    return f"shared: up to {int(most['max_jobs_at_once'])} jobs at once on {int(most['machine_cores'])} cores"


def seed_ranges(seeds) -> str:
    """Seeds in words, consecutive ones as a range: [1, 2, 3, 4, 7] -> "seeds 1-4, 7"; [42] -> "seed 42"."""
    seeds = sorted(int(seed) for seed in seeds)
    ranges, start = [], None
    for index, seed in enumerate(seeds):
        start = seed if start is None else start
        if index + 1 == len(seeds) or seeds[index + 1] != seed + 1:
            ranges.append(f"{start}" if start == seed else f"{start}-{seed}")
            start = None
    return f"seed{'s' * (len(seeds) > 1)} {', '.join(ranges)}"


def readable_number(value, floatfmt: str = ".4f") -> str:
    """A number as people read it in a table: in ``floatfmt``, except where that would hide it: 0 (either
    sign) as "0", and a number that would print as zeros (-0.0000 for -3.1e-05) in scientific notation,
    so that the sign of a bound that decides a verdict shows. Empty for a missing value."""
    if value is None or value is pd.NA or (isinstance(value, float) and value != value):
        return ""
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return str(value)
    if value == 0:
        return "0"
    text = format(value, floatfmt)
    return format(value, ".2e") if not text.strip("+-0.") else text


def to_markdown(frame: pd.DataFrame, floatfmt: str = ".4f") -> str:
    """A table in Markdown, its floats as :func:`readable_number` writes them."""
    shown = frame.copy()
    for column in shown.columns:
        if pd.api.types.is_float_dtype(shown[column]):
            shown[column] = [readable_number(value, floatfmt) for value in shown[column]]
        else:  # a missing value is an empty cell, not <NA> or nan
            shown[column] = shown[column].astype(object).where(shown[column].notna(), "")
    return shown.to_markdown(index=False, disable_numparse=True) + "\n"


def write_table(frame: pd.DataFrame, csv_path, markdown_path=None, markdown_columns=None) -> None:
    """Every column to CSV; to Markdown, for people, every column or ``markdown_columns``."""
    Path(csv_path).parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(csv_path, index=False)
    if markdown_path is not None:
        Path(markdown_path).write_text(to_markdown(frame if markdown_columns is None else frame[markdown_columns]),
                                       encoding="utf-8")
