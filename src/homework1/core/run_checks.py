"""A run's files read back and checked: whole, in agreement, and as its job wrote them. Every reader of a
run's ``summary.json`` and ``metrics.csv`` goes through ``read_run``, and the workflow checks each run's
files while it plans (homework1.job.leftovers):

Every reader of a run's ``summary.json`` and ``metrics.csv`` goes through :func:`read_run`, and the
workflow checks each planned run with it. A **damaged** run (a file that does not parse, files that
disagree, a summary without checksums) raises :class:`DamagedRun`, one line naming the file and the
cause, and is trained again; a **hand-edited** one (whole, but not the checksums its job recorded) is
kept and flagged. Details: docs/faults.md.

Standard library only: the workflow runs these checks while it plans.
"""

from __future__ import annotations

import csv
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from homework1.core.files import FileProblem
from homework1.core.runs import METRIC_COLUMNS, METRICS_CHECKSUM, STATUS_OK, SUMMARY_CHECKSUM, summary_checksum

SUMMARY_FILE, METRICS_FILE = "summary.json", "metrics.csv"
RUN_FILES = (SUMMARY_FILE, METRICS_FILE)  # every file a run leaves in its folder
# What a summary must hold for its run to be checked at all.
REQUIRED = ("status", "epochs_completed", "hparams")


class DamagedRun(FileProblem):
    """A run's file that cannot be what its job wrote; the message is ``<path>: <cause>``."""


@dataclass(frozen=True)
class Run:
    """A run's files as read back: its summary, its metrics (one dict per epoch, numbers or None),
    and the files changed since its job wrote them (hand edits: whole, but not what was written)."""
    summary: dict
    metrics: list[dict]
    edited: tuple[str, ...] = ()


def beside(path, name: str) -> Path:
    """The run file ``name`` in the folder of another of the run's files."""
    return Path(path).with_name(name)


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise DamagedRun(f"{path}: missing") from None
    except OSError as err:
        raise DamagedRun(f"{path}: cannot be read ({err.strerror})") from err


def _text(path: Path, data: bytes) -> str:
    if (nul := data.find(b"\0")) >= 0:
        raise DamagedRun(f"{path}: not text (binary bytes from offset {nul})")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise DamagedRun(f"{path}: not text (bytes that are not UTF-8 from offset {err.start})") from None


def read_summary(path) -> dict:
    """A run's summary, parsed; DamagedRun where it is not a whole summary."""
    path = Path(path)
    text = _text(path, _read_bytes(path))
    try:
        summary = json.loads(text)
    except json.JSONDecodeError as err:  # a summary ends with its closing brace: without it, it was cut short
        cause = ("truncated JSON" if not text.rstrip().endswith("}")
                 else f"not valid JSON ({err.msg}: line {err.lineno}, column {err.colno})")
        raise DamagedRun(f"{path}: {cause}") from None
    if not isinstance(summary, dict):
        raise DamagedRun(f"{path}: not a run's summary (a JSON {type(summary).__name__}, not an object)")
    if missing := [key for key in REQUIRED if key not in summary]:
        raise DamagedRun(f"{path}: not a run's summary (no {', '.join(missing)})")
    if not isinstance(summary["hparams"], dict) or not isinstance(summary["epochs_completed"], int):
        raise DamagedRun(f"{path}: not a run's summary (its hparams or epochs_completed of the wrong type)")
    if METRICS_CHECKSUM not in summary or SUMMARY_CHECKSUM not in summary:
        raise DamagedRun(f"{path}: records no checksums of the run's files (written by an older version of "
                         f"the workflow)")
    return summary


def _number(path: Path, line: int, column: str, cell: str) -> float | None:
    if cell == "":
        return None
    try:
        return float(cell)
    except ValueError:
        raise DamagedRun(f"{path}: line {line}: {column} is not a number ({cell[:20]!r})") from None


def parse_metrics(path, data: bytes, epochs: int | None = None) -> list[dict]:
    """The rows of a metrics file's bytes, each checked whole: DamagedRun where one is not (``epochs``:
    how many its summary records, to say)."""
    path = Path(path)
    text = _text(path, data)
    if not text:
        raise DamagedRun(f"{path}: empty")
    lines = text.split("\n")
    whole, unfinished = lines[:-1], lines[-1]  # the writer ends every line with a newline
    if unfinished:
        rows = max(len(whole) - 1, 0)
        of = f" of the {epochs} epochs its summary records" if epochs is not None else ""
        raise DamagedRun(f"{path}: truncated: its last line is cut short, after {rows} whole epoch row(s){of}")
    table = list(csv.reader(whole))
    if table[0] != METRIC_COLUMNS:
        raise DamagedRun(f"{path}: its header is not a run's metrics ({','.join(METRIC_COLUMNS)})")
    rows = []
    for line, cells in enumerate(table[1:], start=2):
        if len(cells) != len(METRIC_COLUMNS):
            raise DamagedRun(f"{path}: line {line} has {len(cells)} of {len(METRIC_COLUMNS)} fields")
        row = {column: _number(path, line, column, cell) for column, cell in zip(METRIC_COLUMNS, cells)}
        if row["epoch"] != len(rows) + 1:
            raise DamagedRun(f"{path}: line {line} holds epoch {row['epoch']}, expected {len(rows) + 1}")
        rows.append(row)
    return rows


def read_run(summary_path, metrics_path=None) -> Run:
    """A run's summary and metrics (beside it, unless given), checked: DamagedRun where either is not
    whole or they disagree; ``edited`` names those that differ from the checksums their job recorded."""
    summary_path = Path(summary_path)
    metrics_path = Path(metrics_path) if metrics_path is not None else beside(summary_path, METRICS_FILE)
    summary = read_summary(summary_path)
    data = _read_bytes(metrics_path)
    recorded, expected = summary["epochs_completed"], summary["hparams"].get("epochs")
    metrics = parse_metrics(metrics_path, data, recorded)
    if len(metrics) != recorded:
        raise DamagedRun(f"{metrics_path}: holds {len(metrics)} epoch(s), its summary records {recorded}")
    if summary["status"] == STATUS_OK and expected is not None and recorded != expected:
        raise DamagedRun(f"{summary_path}: the run ended {STATUS_OK} after {recorded} of the {expected} epochs "
                         f"its settings ask for")
    edited = [path for path, changed in (
        (summary_path, summary_checksum(summary) != summary[SUMMARY_CHECKSUM]),
        (metrics_path, hashlib.sha256(data).hexdigest() != summary[METRICS_CHECKSUM])) if changed]
    return Run(summary, metrics, tuple(str(path) for path in edited))


def damage(summary_path, metrics_path=None) -> str | None:
    """Why a run's files are not whole (one line naming the file), or None when they are."""
    try:
        read_run(summary_path, metrics_path)
    except DamagedRun as err:
        return str(err)
    return None


def edit_line(path) -> str:
    """The one line a reader says about a file changed since its job wrote it."""
    return (f"WARNING: {path}: changed since its job wrote it (its checksum differs from the one recorded): "
            f"kept, and counted as hand-edited")


def settings_differ(summary: dict, expected: dict, where: str = "") -> str | None:
    """Which of ``expected`` (summary keys and the values the configuration gives them now, a dict of
    them compared key by key) the summary records otherwise, in one line; None when every one agrees."""
    differ = []
    for key in sorted(expected.keys() | (summary.keys() if where else set())):
        recorded, value = summary.get(key), expected.get(key)
        if isinstance(recorded, dict) and isinstance(value, dict):
            differ.append(settings_differ(recorded, value, where=f"{where}{key}."))
        elif recorded != value:
            differ.append(f"{where}{key} {recorded!r}, not {value!r}")
    return "; ".join(filter(None, differ)) or None
