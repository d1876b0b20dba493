"""Snapshots of a build, to compare a later build with (``homework1.analysis.changes``).

``results/snapshots/<name>/`` holds every run's files under ``runs/``, their summary table under
``tables/``, and ``manifest.json``, written last: its layout version, data set, commits, date, runs and
the settings they were trained with (read from their own summaries, never from the day's config). Every
run is checked before and after it is copied (``homework1.core.run_checks``). Standard library only:
the workflow reads baselines while it reads its configuration."""

from __future__ import annotations

import datetime
import hashlib
import json
import os
import shutil
from pathlib import Path

from homework1.core.files import FileProblem, atomic_write
from homework1.core.run_checks import RUN_FILES, SUMMARY_FILE, DamagedRun, Run, damage, edit_line, read_run

# Of the layout; a snapshot of another version is refused, never half-read. 2: runs carry their checksums,
# the manifest their own settings.
SNAPSHOT_VERSION = 2
MANIFEST = "manifest.json"
# The settings of the runs a manifest records (each the sorted values its runs' summaries hold).
RUN_SETTINGS = ("dataset", "dataset_sha256", "seed", "implementation", "training_step", "device")
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


def baseline_runs(baseline: Path) -> tuple[list[str], list[str]]:
    """The runs of the snapshot ``baseline``, and every file of them."""
    runs = read_manifest(baseline)["runs"]
    return runs, [str(path) for path in run_files(Path(baseline) / "runs", runs)]


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

def copy_runs(out_dir, runs: list[str], runs_root, warn=lambda line: None) -> dict[str, Run]:
    """Copy every run's files into ``out_dir``/runs/, each read checked before it is copied (a damaged one
    raises DamagedRun, naming the build's file) and again as copied, so that the snapshot holds whole runs
    whose summaries and metrics belong together; ``warn`` gets one line per file changed by hand since its
    job wrote it (copied, and listed in the manifest). Returns each run as copied."""
    out_dir = Path(out_dir)
    sources = run_files(runs_root, runs)
    if missing := missing_files(sources):
        raise SnapshotError(f"a snapshot takes a built study, but {len(missing)} run file(s) are missing "
                            f"(first: {missing[0]}); run snakemake first")
    checked = {run: read_run(Path(runs_root) / run / SUMMARY_FILE) for run in runs}
    for source, target in zip(sources, run_files(out_dir / "runs", runs)):
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
    copied = {}
    for run in runs:
        try:
            copied[run] = read_run(out_dir / "runs" / run / SUMMARY_FILE)
        except DamagedRun:
            copied[run] = None
        if not _same_run(copied[run], checked[run]):  # a summary and metrics of two writers
            raise SnapshotError(f"{Path(runs_root) / run}: rewritten while the snapshot copied it; take the "
                                f"snapshot when no other Snakemake writes runs here")
        for path in copied[run].edited:
            warn(edit_line(Path(runs_root) / Path(path).relative_to(out_dir / "runs")))
    return copied


def _same_run(copied: Run | None, checked: Run) -> bool:
    return copied is not None and (copied.summary, copied.metrics, len(copied.edited)) == (
        checked.summary, checked.metrics, len(checked.edited))


def write_manifest(out_dir, name: str, copied: dict[str, Run], checkout: dict) -> dict:
    """The manifest, written last (a folder without one is an unfinished snapshot): what the runs are, from
    their own summaries, never from the config of the day."""
    summaries = [run.summary for run in copied.values()]
    settings = {key: sorted({summary.get(key) for summary in summaries}, key=str) for key in RUN_SETTINGS}
    manifest = {
        "snapshot_version": SNAPSHOT_VERSION,
        "name": name,
        "dataset": settings["dataset"][0] if len(settings["dataset"]) == 1 else None,
        "run_commits": sorted({summary.get("git_commit") or "unknown" for summary in summaries}),
        "runs_from_edited_checkout": any(bool(summary.get("git_dirty")) for summary in summaries),
        "taken_at_commit": checkout.get("git_commit"),
        "taken_with_edits": checkout.get("git_dirty"),
        "taken": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "runs": list(copied),
        "settings": settings,
        "hand_edited_runs": [run for run, read in copied.items() if read.edited],
    }
    text = json.dumps(manifest, indent=2) + "\n"
    atomic_write(Path(out_dir) / MANIFEST, lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))
    return manifest


# ---------------------------------------------------------------- reading a baseline

def resolve_baseline(value: str, snapshots_dir) -> Path:
    """A baseline given by path, or by name: a folder of ``snapshots_dir``, or the one whose name starts
    with ``value`` (a commit's first characters, as git users type it). Where none or several start with
    it, the path it would have: reading it says why (:func:`read_manifest`)."""
    path = Path(value).expanduser()
    if path.is_dir() or len(path.parts) > 1:
        return path
    matches = starting_with(Path(snapshots_dir), value)
    return matches[0] if len(matches) == 1 else Path(snapshots_dir) / value


def snapshots_in(folder: Path) -> list[str]:
    """The names of the snapshots taken into ``folder`` (its folders), sorted."""
    return sorted(entry.name for entry in folder.iterdir() if entry.is_dir()) if folder.is_dir() else []


def starting_with(folder: Path, prefix: str) -> list[Path]:
    return [folder / name for name in snapshots_in(folder) if name.startswith(prefix)] if prefix else []


def _not_found(baseline: Path) -> str:
    """Why a baseline by name was found nowhere: none or several snapshots start with it, and those there."""
    several = starting_with(baseline.parent, baseline.name)
    if len(several) > 1:
        return (f"{len(several)} snapshots start with {baseline.name!r}: {', '.join(p.name for p in several)}; "
                f"give more of the name")
    there = snapshots_in(baseline.parent)
    return ("no such snapshot (take one with `snakemake snapshot`; "
            + (f"those in {baseline.parent}: {', '.join(there)})" if there else f"none is in {baseline.parent})"))


def read_manifest(baseline) -> dict:
    """The manifest of a snapshot, checked whole: raise SnapshotError naming the path and the problem."""
    baseline = Path(baseline)
    if not baseline.exists():
        raise SnapshotError(f"baseline {baseline}: {_not_found(baseline)}")
    if not baseline.is_dir():
        raise SnapshotError(f"baseline {baseline}: not a folder; a snapshot is a folder with {MANIFEST}")
    manifest_path = baseline / MANIFEST
    if not manifest_path.is_file():
        content = "empty" if not any(baseline.iterdir()) else "a folder"
        raise SnapshotError(f"baseline {baseline}: {content} without {MANIFEST}, so not a snapshot of this "
                            f"workflow (or one whose taking did not finish)")
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
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
    for run in manifest["runs"]:
        if problem := damage(Path(baseline) / "runs" / run / SUMMARY_FILE):
            return f"baseline {baseline}: {problem}"
    return None
