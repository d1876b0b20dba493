"""What one training run hands back, and how its outputs reach disk.

Every trainer returns a :class:`TrainResult`; the training job writes it as a per-epoch metrics CSV
and a JSON summary, atomically, the summary recording the sha256 of both (``CHECKSUMS``) for
``homework1.core.run_checks``. No pandas here: a training job should not pay for importing it.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import math
import platform
import socket
import subprocess
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

from homework1.core.files import atomic_write

# Per-epoch columns every metrics CSV carries, in this order; a trainer leaves
# out what its model does not have (those cells stay empty).
METRIC_COLUMNS = [
    "epoch", "train_acc", "train_acc_running", "val_acc", "train_loss", "val_loss",
    "weight_norm", "zero_weight_fraction", "epoch_time_s",
]
STATUS_OK = "ok"
STATUS_DIVERGED = "diverged"
# What a summary records of the files as its job wrote them: the metrics file's sha256, and the sha256
# of the summary's own content without this field (summary_checksum).
METRICS_CHECKSUM, SUMMARY_CHECKSUM = "metrics_sha256", "summary_sha256"


@dataclass
class TrainResult:
    history: list[dict]           # one dict per finished epoch, keys from METRIC_COLUMNS
    test_acc: float | None        # None when the run diverged before the end
    status: str = STATUS_OK       # STATUS_OK or STATUS_DIVERGED
    device: str = "cpu"
    wall_time_s: float = 0.0      # the training loop alone, not data loading
    cpu_time_s: float | None = None  # the process's CPU time over the same loop (all its threads)
    message: str = ""             # why it diverged, for people
    extra: dict = field(default_factory=dict)  # anything model-specific for the summary


def package_versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for name in ("numpy", "torch", "pandas", "snakemake"):
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return versions


def _git(directory, *args) -> str | None:
    try:
        done = subprocess.run(["git", "-C", str(directory), *args], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):  # no git, or a stuck file system
        return None
    return done.stdout if done.returncode == 0 else None


def code_provenance(directory) -> dict:
    """Which code ran, read at run time: the git commit of the checkout holding
    ``directory``, whether its tree differed from that commit (uncommitted or
    untracked, not ignored, files), and the host. The commit is None (and
    ``git_dirty`` with it) where git or a repository is missing."""
    commit = _git(directory, "rev-parse", "HEAD")
    status = _git(directory, "status", "--porcelain") if commit else None
    return {"git_commit": commit.strip() if commit else None,
            "git_dirty": bool(status.strip()) if status is not None else None,
            "host": socket.gethostname()}


def _finite_or_none(value):
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def summarize(result: TrainResult, identity: dict, hparams: dict, dataset: dict) -> dict:
    """The JSON summary of one run: who it is, how it was set, what it reached.
    The best epoch is the first with the highest validation accuracy."""
    history = result.history
    last = history[-1] if history else {}
    scored = [row for row in history if _finite_or_none(row.get("val_acc")) is not None]
    best = max(scored, key=lambda row: row["val_acc"]) if scored else None
    return {
        **identity,
        "hparams": hparams,
        "dataset": dataset["name"],
        "dataset_sha256": dataset["sha256"],
        "synthetic_data": dataset["synthetic"],
        "status": result.status,
        "message": result.message,
        "epochs_completed": len(history),
        "final_train_acc": _finite_or_none(last.get("train_acc")),
        "final_train_acc_running": _finite_or_none(last.get("train_acc_running")),
        "final_val_acc": _finite_or_none(last.get("val_acc")),
        "test_acc": _finite_or_none(result.test_acc),
        "best_val_acc": _finite_or_none(best["val_acc"]) if best else None,
        "best_epoch": int(best["epoch"]) if best else None,
        "final_train_loss": _finite_or_none(last.get("train_loss")),
        "final_val_loss": _finite_or_none(last.get("val_loss")),
        "wall_time_s": round(result.wall_time_s, 3),
        "cpu_time_s": None if result.cpu_time_s is None else round(result.cpu_time_s, 3),
        "device": result.device,
        "versions": package_versions(),
        **result.extra,
    }


def _cell(value) -> str:
    """A metrics cell: empty where the model has no such metric (or it is not a number)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value)


def metrics_text(history: list[dict]) -> str:
    """The metrics CSV: one row per epoch, the columns of METRIC_COLUMNS (floats at full precision)."""
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(METRIC_COLUMNS)
    writer.writerows([_cell(row.get(column)) for column in METRIC_COLUMNS] for row in history)
    return text.getvalue()


def summary_checksum(summary: dict) -> str:
    """The sha256 of a summary's content without its own checksum: its JSON with sorted keys, compact."""
    content = {key: value for key, value in summary.items() if key != SUMMARY_CHECKSUM}
    return hashlib.sha256(json.dumps(content, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def write_run_outputs(result: TrainResult, summary: dict, metrics_path, summary_path) -> None:
    """The metrics, then the summary with both files' checksums (written last: a run is whole once it is)."""
    metrics = metrics_text(result.history).encode()
    atomic_write(metrics_path, lambda tmp: Path(tmp).write_bytes(metrics))
    summary = summary | {METRICS_CHECKSUM: hashlib.sha256(metrics).hexdigest()}
    summary[SUMMARY_CHECKSUM] = summary_checksum(summary)
    text = json.dumps(summary, indent=2, sort_keys=True) + "\n"
    atomic_write(summary_path, lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))
