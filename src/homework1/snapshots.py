"""Snapshots of a build: its runs kept, to compare a later build with (``homework1.changes``).

A snapshot (``results/snapshots/<name>/``) holds every run's ``summary.json`` and
``metrics.csv`` under ``runs/`` (the runs' own paths), the summary table under
``tables/``, and ``manifest.json``, written last: its layout version, name, data
set, the commit(s) of the runs and whether any came from an edited checkout,
the checkout's commit when it was taken, the date, the runs and the config.

Only the standard library: the workflow reads baselines while it reads its
configuration.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import os
import shutil
from pathlib import Path

from homework1.files import FileProblem, atomic_write

SNAPSHOT_VERSION = 1  # of the layout; a snapshot of another version is refused, never half-read
MANIFEST = "manifest.json"
RUN_FILES = ("summary.json", "metrics.csv")
SUMMARY_TABLE = "tables/summary.csv"
# The summary numbers compared per run; test accuracy decides the verdict.
METRICS = ("test_acc", "best_val_acc", "final_val_acc", "final_train_loss")


class SnapshotError(FileProblem):
    """A baseline that cannot be compared with: missing, empty, of another data set or layout."""


def snapshot_name(commit: str | None, dirty: bool | None) -> str:
    """The default name of a snapshot: the checkout's commit, ``-dirty`` if its tree was edited."""
    return (commit or "no-commit") + ("-dirty" if dirty else "")


def run_files(root, runs: list[str]) -> list[Path]:
    """Every file of ``runs`` below ``root`` (``results/runs`` of a build, ``runs`` of a snapshot)."""
    return [Path(root) / run / name for run in runs for name in RUN_FILES]


def missing_files(paths: list[Path]) -> list[str]:
    return [str(path) for path in paths if not path.is_file()]


def files_fingerprint(paths) -> str:
    """Path, size and modification time of each file, hashed: changes when any of them is rewritten
    (what decides whether a snapshot must be taken again; a missing file counts as one)."""
    digest = hashlib.sha256()
    for path in paths:
        try:
            stat = os.stat(path)
            digest.update(f"{path}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
        except FileNotFoundError:
            digest.update(f"{path}\0missing\n".encode())
    return digest.hexdigest()[:16]


# ---------------------------------------------------------------- taking a snapshot

def take_snapshot(out_dir, runs: list[str], runs_root, summary_table, name: str, config: dict,
                  checkout: dict) -> dict:
    """Copy every run's files and the summary table into ``out_dir`` (a new folder), then write
    the manifest last: a folder without one is an unfinished snapshot."""
    out_dir = Path(out_dir)
    sources = run_files(runs_root, runs)
    if missing := missing_files(sources):
        raise SnapshotError(f"a snapshot takes a built study, but {len(missing)} run file(s) are missing "
                            f"(first: {missing[0]}); run snakemake first")
    for source, target in zip(sources, run_files(out_dir / "runs", runs)):
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
    summaries = [json.loads(path.read_text()) for path in sources if path.name == "summary.json"]
    (out_dir / SUMMARY_TABLE).parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(summary_table, out_dir / SUMMARY_TABLE)
    commits = sorted({summary.get("git_commit") or "unknown" for summary in summaries})
    manifest = {
        "snapshot_version": SNAPSHOT_VERSION,
        "name": name,
        "dataset": config["dataset"],
        "run_commits": commits,
        "runs_from_edited_checkout": any(bool(summary.get("git_dirty")) for summary in summaries),
        "taken_at_commit": checkout.get("git_commit"),
        "taken_with_edits": checkout.get("git_dirty"),
        "taken": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "runs": runs,
        "config": config,
    }
    atomic_write(out_dir / MANIFEST, lambda tmp: Path(tmp).write_text(json.dumps(manifest, indent=2) + "\n"))
    return manifest


# ---------------------------------------------------------------- reading a baseline

def resolve_baseline(value: str, snapshots_dir) -> Path:
    """A baseline given by name (a folder of ``snapshots_dir``) or by path."""
    path = Path(value).expanduser()
    return path if path.is_dir() or len(path.parts) > 1 else Path(snapshots_dir) / value


def read_manifest(baseline) -> dict:
    """The manifest of a snapshot, checked whole: raise SnapshotError naming the path and the problem."""
    baseline = Path(baseline)
    if not baseline.exists():
        raise SnapshotError(f"baseline {baseline}: no such snapshot (take one with `snakemake snapshot`; "
                            f"those taken are the folders of results/snapshots/)")
    if not baseline.is_dir():
        raise SnapshotError(f"baseline {baseline}: not a folder; a snapshot is a folder with {MANIFEST}")
    manifest_path = baseline / MANIFEST
    if not manifest_path.is_file():
        content = "empty" if not any(baseline.iterdir()) else "a folder"
        raise SnapshotError(f"baseline {baseline}: {content} without {MANIFEST}, so not a snapshot of this "
                            f"workflow (or one whose taking did not finish)")
    try:
        manifest = json.loads(manifest_path.read_text())
    except (OSError, ValueError) as err:
        raise SnapshotError(f"baseline {baseline}: {MANIFEST} is unreadable ({err})") from err
    version = manifest.get("snapshot_version") if isinstance(manifest, dict) else None
    if version != SNAPSHOT_VERSION:
        raise SnapshotError(f"baseline {baseline}: taken with snapshot layout {version!r}, but this workflow "
                            f"reads layout {SNAPSHOT_VERSION}; take the snapshot again with this version, or "
                            f"compare with the version that took it")
    if not isinstance(manifest.get("runs"), list) or not isinstance(manifest.get("dataset"), str):
        raise SnapshotError(f"baseline {baseline}: {MANIFEST} lacks its list of runs or its data set")
    return manifest


def baseline_problem(baseline, dataset: str) -> str | None:
    """Why ``baseline`` cannot be compared with a study of ``dataset`` (None if it can)."""
    try:
        manifest = read_manifest(baseline)
    except SnapshotError as err:
        return str(err)
    if manifest["dataset"] != dataset:
        return (f"baseline {baseline}: its runs are on the data set {manifest['dataset']!r}, this study's on "
                f"{dataset!r}; compare builds of the same data set")
    if not manifest["runs"]:
        return f"baseline {baseline}: holds no run"
    if missing := missing_files(run_files(Path(baseline) / "runs", manifest["runs"])):
        return f"baseline {baseline}: {len(missing)} of its run files are missing (first: {missing[0]})"
    return None
