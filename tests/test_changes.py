"""What a change did: snapshots of a build, and a build compared with one, paired by seed."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from test_readable import undocumented
from conftest import TINY, Workspace, copy_workflow, nothing_to_do, output_of, planned_jobs, tiny, write_run
from homework1.analysis import changes, snapshots, tables
from homework1.present import report

# One Question 1 and one Question 2 configuration, two seeds: what a change must tell apart.
STUDY = tiny(seeds=[1, 2], q1={"logreg": TINY["q1"]["logreg"]},
             q2={"ffn": {"model": "ffn", "epochs": 2, "batch_size": 64, "hidden_size": 16, "dropout": 0.3}})
Q1_RUN, Q2_RUN = "digits/q1/logreg/default/seed{}", "digits/q2/ffn/default/seed{}"
TARGET = "results/tables/summary.csv"


def verdicts(work: Path) -> dict[str, str]:
    table = pd.read_csv(work / "results/tables/changes_by_config.csv", keep_default_na=False)
    return dict(zip(table["experiment"], table["verdict"]))


# ---------------------------------------------------------------- the statistics, on runs written here

def write_one_run(root: Path, run: str, test_acc: float, curve=(0.5, 0.6)) -> None:
    times = np.random.default_rng().random(len(curve))
    write_run(root / run, [{"epoch": epoch, "val_acc": acc, "epoch_time_s": time}
                           for epoch, (acc, time) in enumerate(zip(curve, times), start=1)],
              test_acc=test_acc, best_val_acc=max(curve), final_val_acc=curve[-1], git_commit="abc")


def compared(tmp_path, before: dict[int, float], after: dict[int, float]) -> pd.Series:
    runs = {}
    for side, accuracies in (("before", before), ("after", after)):
        runs[side] = [Q1_RUN.format(seed) for seed in accuracies]
        for seed, acc in accuracies.items():
            write_one_run(tmp_path / side, Q1_RUN.format(seed), acc)
    table = changes.by_configuration(changes.compare_runs(tmp_path / "before", runs["before"], tmp_path / "after",
                                                          runs["after"]))
    return table.iloc[0]


def test_the_same_numbers_are_identical_whatever_the_epoch_times(tmp_path):
    row = compared(tmp_path, {1: 0.8, 2: 0.7}, {1: 0.8, 2: 0.7})
    assert row["verdict"] == "identical" and row["n_pairs"] == 2


def test_pairing_by_seed_sees_a_small_steady_gain_that_the_spread_of_each_side_hides(tmp_path):
    # seeds differ by up to 0.2, the change adds 0.01 to each: paired, a sure gain; unpaired, noise
    before = {1: 0.60, 2: 0.70, 3: 0.80, 4: 0.65, 5: 0.75}
    row = compared(tmp_path, before, {seed: acc + 0.01 + 0.001 * seed for seed, acc in before.items()})
    assert row["verdict"] == "better" and row["low"] > 0
    assert row["unpaired_low"] < 0 < row["unpaired_high"]
    worse = compared(tmp_path / "worse", before, {seed: acc - 0.02 for seed, acc in before.items()})
    assert worse["verdict"] == "worse"


def test_a_change_within_the_seeds_noise_is_called_so(tmp_path):
    row = compared(tmp_path, {1: 0.80, 2: 0.70, 3: 0.75}, {1: 0.82, 2: 0.69, 3: 0.74})
    assert row["verdict"] == "within noise" and row["low"] < 0 < row["high"]


def test_a_single_changed_pair_gets_no_interval(tmp_path):
    row = compared(tmp_path, {1: 0.80}, {1: 0.82})
    assert row["verdict"] == "changed (one seed)" and np.isnan(row["low"])


def test_runs_on_one_side_only_are_listed_and_the_common_seeds_paired(tmp_path):
    row = compared(tmp_path, {1: 0.8, 2: 0.7}, {1: 0.8, 2: 0.7, 3: 0.6})
    assert row["n_pairs"] == 2 and row["seeds_only_after"] == "3"
    assert row["verdict"] == "identical on seeds 1-2; seed 3 only after" and row["paired_verdict"] == "identical"
    gone = compared(tmp_path / "gone", {1: 0.8}, {})
    assert gone["verdict"] == "only before" and gone["seeds_only_before"] == "1"


def test_a_rebuild_with_new_seeds_against_a_one_seed_baseline_is_not_summarised_as_identical(tmp_path):
    after = {42: 0.8, 1: 0.6, 2: 0.7, 3: 0.9, 4: 0.5}
    row = compared(tmp_path, {42: 0.8}, after)
    assert row["verdict"] == "identical on seed 42; seeds 1-4 only after"
    assert row["mean_after_paired"] == 0.8 and row["mean_after_all"] == pytest.approx(np.mean(list(after.values())))
    assert row["runs_before"] == 1 and row["runs_after"] == 5
    line = changes.summary_line(pd.DataFrame([row]))
    assert line == "1 configurations: 1 identical; 4 runs only after (not in the paired verdicts)"
    gone = compared(tmp_path / "gone", {42: 0.8, 7: 0.5}, {42: 0.8})
    assert gone["verdict"] == "identical on seed 42; seed 7 only before"
    assert undocumented(row.index) == []  # every column described in docs/tables.md


def test_seeds_in_words():
    assert tables.seed_ranges([4, 1, 2, 3, 7, 9, 10]) == "seeds 1-4, 7, 9-10"
    assert tables.seed_ranges([42]) == "seed 42"


def test_the_changes_section_says_which_side_came_from_uncommitted_edits(tmp_path):
    for side, dirty in (("before", False), ("after", True)):
        for seed in (1, 2):
            write_run(tmp_path / side / Q1_RUN.format(seed), [{"epoch": 1, "val_acc": 0.5}], test_acc=0.5,
                      git_commit="abc" if side == "before" else "def", git_dirty=dirty and seed == 1)
    runs = [Q1_RUN.format(seed) for seed in (1, 2)]
    configs = changes.by_configuration(changes.compare_runs(tmp_path / "before", runs, tmp_path / "after", runs))
    assert report.changes_side(configs, "before") == "commit(s) abc, 2 runs"
    assert report.changes_side(configs, "after") == "commit(s) def, 2 runs, 1 of them from uncommitted edits"


def snapshots_named(folder: Path, *names: str) -> Path:
    for name in names:
        (folder / name).mkdir(parents=True)
    return folder


def test_a_baseline_may_be_any_unique_prefix_of_a_snapshots_name(tmp_path):
    commit = "adf0db8" + "1" * 33
    folder = snapshots_named(tmp_path / "snapshots", commit, "adf0db9" + "2" * 33 + "-dirty", "before")
    assert snapshots.resolve_baseline("adf0db8", folder) == folder / commit
    assert snapshots.resolve_baseline("bef", folder) == folder / "before"
    several = snapshots.baseline_problem(snapshots.resolve_baseline("adf0db", folder), "digits")
    assert f"2 snapshots start with 'adf0db': {commit}, adf0db9" in several and "give more of the name" in several
    none = snapshots.baseline_problem(snapshots.resolve_baseline("0123abc", folder), "digits")
    assert "no such snapshot" in none and f"those in {folder}: {commit}, adf0db9" in none and "before)" in none
    empty = snapshots.baseline_problem(snapshots.resolve_baseline("x", tmp_path / "none"), "digits")
    assert f"none is in {tmp_path / 'none'}" in empty


# ---------------------------------------------------------------- bad baselines

def snapshot_of(tmp_path: Path, **manifest) -> Path:
    folder = tmp_path / "snap"
    write_one_run(folder / "runs", Q1_RUN.format(1), 0.8)
    (folder / "manifest.json").write_text(json.dumps({"snapshot_version": snapshots.SNAPSHOT_VERSION,
                                                      "dataset": "digits", "runs": [Q1_RUN.format(1)]} | manifest))
    return folder


def damaged(snapshot: Path, name: str, content: bytes) -> Path:
    (snapshot / "runs" / Q1_RUN.format(1) / name).write_bytes(content)
    return snapshot


@pytest.mark.parametrize("make, message", [
    (lambda tmp: tmp / "nowhere", "nowhere: no such snapshot (take one with `snakemake snapshot`"),
    (lambda tmp: (tmp / "empty").mkdir() or tmp / "empty", "empty: empty without manifest.json, so not a snapshot"),
    (lambda tmp: (tmp / "other").mkdir() or (tmp / "other/results.csv").touch() or tmp / "other",
     "other: a folder without manifest.json, so not a snapshot of this workflow"),
    (lambda tmp: snapshot_of(tmp, dataset="intel_landscapes"),
     "its runs are on the data set 'intel_landscapes', this study's on 'digits'"),
    (lambda tmp: snapshot_of(tmp, snapshot_version=0),
     f"taken with snapshot layout 0, but this workflow reads layout {snapshots.SNAPSHOT_VERSION}; take the snapshot "
     f"again"),
    (lambda tmp: snapshot_of(tmp, runs=[]), "holds no run"),
    (lambda tmp: snapshot_of(tmp, runs=[Q1_RUN.format(1), Q1_RUN.format(7)]),
     "2 of its run files are missing (first: "),
    (lambda tmp: damaged(snapshot_of(tmp), "metrics.csv", b"\x00\xff" * 50),
     f"snap/runs/{Q1_RUN.format(1)}/metrics.csv: not text (binary bytes from offset 0)"),
    (lambda tmp: damaged(snapshot_of(tmp), "summary.json", b'{"status": "ok", "epochs_'),
     f"snap/runs/{Q1_RUN.format(1)}/summary.json: truncated JSON"),
])
def test_a_baseline_that_cannot_be_compared_is_named_with_its_problem(tmp_path, make, message):
    baseline = make(tmp_path)
    problem = snapshots.baseline_problem(baseline, "digits")
    assert problem.startswith(f"baseline {baseline}: ") and message in problem


def test_a_baseline_given_by_name_is_a_snapshot_taken_here_and_a_missing_one_is_named():
    baseline = snapshots.resolve_baseline("never-taken", "results/snapshots")  # as the workflow resolves it
    assert baseline == Path("results/snapshots/never-taken")
    assert "baseline results/snapshots/never-taken: no such snapshot" in snapshots.baseline_problem(baseline, "digits")


def test_a_run_rewritten_while_it_is_copied_is_no_part_of_a_snapshot(tmp_path, monkeypatch):
    build, runs = tmp_path / "results/runs", [Q1_RUN.format(1), Q1_RUN.format(2)]
    for run in runs:
        write_one_run(build, run, 0.8)
    assert sorted(snapshots.copy_runs(tmp_path / "whole", runs, build)) == sorted(runs)

    copy = snapshots.shutil.copyfile

    def copy_beside_a_writer(source, target):  # another job writes the run between its two files
        copy(source, target)
        if Path(source) == build / runs[1] / "summary.json":
            write_one_run(build, runs[1], 0.9, curve=(0.5, 0.7))
    monkeypatch.setattr(snapshots.shutil, "copyfile", copy_beside_a_writer)
    with pytest.raises(snapshots.SnapshotError, match=f"^{build / runs[1]}: rewritten while the snapshot copied it"):
        snapshots.copy_runs(tmp_path / "mixed", runs, build)


# ---------------------------------------------------------------- through the workflow

@pytest.fixture(scope="module")
def snapshotted(tmp_path_factory, numba_cache):
    """STUDY built and its snapshot "before" taken, in a copy of the workflow of this module's own (the
    last test edits its code), with what a snapshot asked for before the build left: (the workspace,
    Snakemake's refusal, {what it would have made: whether it exists})."""
    root = tmp_path_factory.mktemp("changes")
    workspace = Workspace(root / "work", copy_workflow(root / "repo"))
    refused = workspace.run(STUDY, "snapshot", "--config", "snapshot_name=before", check=False)
    left = {name: (workspace.work / name).exists() for name in ("results/runs", "results/snapshots/before")}
    workspace.run(STUDY, TARGET)
    workspace.run(STUDY, "snapshot", "--config", "snapshot_name=before")
    return workspace, refused, left


def test_a_snapshot_trains_nothing_and_is_taken_once(snapshotted):
    workspace, refused, left = snapshotted
    assert refused.returncode != 0 and "a snapshot takes a built study" in output_of(refused)
    assert left == {"results/runs": False, "results/snapshots/before": False}

    snapshot = workspace.work / "results/snapshots/before"
    manifest = json.loads((snapshot / "manifest.json").read_text())
    assert manifest["dataset"] == "digits" and manifest["settings"]["seed"] == [1, 2]
    assert sorted(manifest["runs"]) == sorted(run.format(s) for run in (Q1_RUN, Q2_RUN) for s in (1, 2))
    assert (snapshot / "runs" / Q2_RUN.format(2) / "metrics.csv").read_bytes() == (
        workspace.work / "results/runs" / Q2_RUN.format(2) / "metrics.csv").read_bytes()
    assert (snapshot / "tables/summary.csv").exists() and not list(snapshot.rglob("*.pt"))
    assert nothing_to_do(workspace.run(STUDY, "snapshot", "--config", "snapshot_name=before"))


def test_a_change_to_one_models_code_changes_exactly_its_runs(snapshotted):
    # the last test of the module: it edits the code of the module's copy of the workflow
    own_workspace = snapshotted[0]
    work = own_workspace.work
    with_baseline = tiny(**(STUDY | {"baseline": "before"}))

    # nothing changed: every run identical, and asking again does nothing
    own_workspace.run(with_baseline)
    assert set(verdicts(work).values()) == {"identical"}
    assert nothing_to_do(own_workspace.run(with_baseline))
    assert "## What changed since the snapshot `before`" in (work / "results/report.md").read_text()
    edited = work / "results/snapshots/before/runs" / Q1_RUN.format(1) / "summary.json"
    original = edited.read_text()
    edited.write_text(original.replace('"test_acc": 0.', '"test_acc": 1.'))  # a snapshot edited by hand is noticed
    plan = planned_jobs(own_workspace.run(with_baseline, "--dry-run"))
    assert "compare_to_baseline" in plan and not {"train_q1", "train_q2"} & set(plan)
    edited.write_text(original)

    # tanh for the ReLU: the ffn runs retrain and change, the logreg runs stay identical. (Dropout moved
    # before the ReLU would change nothing: ReLU commutes with dropout's non-negative scaling, bit for bit.)
    ffn = own_workspace.repo / "src/homework1/q2/models/ffn.py"
    ffn.write_text(ffn.read_text().replace("[nn.Linear(width, hidden_size), nn.ReLU(), nn.Dropout(dropout)]",
                                           "[nn.Linear(width, hidden_size), nn.Tanh(), nn.Dropout(dropout)]"))
    plan = planned_jobs(own_workspace.run(with_baseline, "--dry-run"))
    assert plan["train_q2"] == 2 and "train_q1" not in plan
    own_workspace.run(with_baseline)
    assert verdicts(work)["logreg"] == "identical" and verdicts(work)["ffn"] in ("better", "worse", "within noise")
    assert sorted(path.name for path in (work / "results/figures/digits/changes").glob("*.png")) == [
        "q2_ffn_default.png"]
    runs = pd.read_csv(work / "results/tables/changes.csv")
    assert runs.set_index("experiment")["identical"].groupby(level=0).all().to_dict() == {"ffn": False,
                                                                                          "logreg": True}
    report = work / "report.html"
    own_workspace.run(with_baseline, "--report", str(report))
    html = report.read_text()
    assert all(name in html for name in ("changes_by_config.csv", "changes.csv", "q2_ffn_default.png"))

    # the same snapshot named by its path: another baseline, which reruns the comparison and nothing else
    # named by the first characters of its name: the same snapshot, nothing to do
    assert nothing_to_do(own_workspace.run(tiny(**(STUDY | {"baseline": "bef"}))))
    by_path = tiny(**(STUDY | {"baseline": str(work / "results/snapshots/before")}))
    plan = planned_jobs(own_workspace.run(by_path, "--dry-run"))
    assert "compare_to_baseline" in plan and set(plan) <= {"compare_to_baseline", "changes_figures", "report_md", "all"}

    # the figure's style edited: redrawn, nothing retrained
    plotting = own_workspace.repo / "src/homework1/present/figures.py"
    plotting.write_text(plotting.read_text() + "\n# a style edit\n")
    plan = planned_jobs(own_workspace.run(with_baseline, "--dry-run"))
    assert plan.get("changes_figures") == 1 and not {"train_q1", "train_q2", "compare_to_baseline"} & set(plan)
