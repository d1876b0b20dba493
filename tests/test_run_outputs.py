"""What earlier runs left, met by the real workflow: damaged outputs named and trained again, hand edits
kept and counted, a killed Snakemake's lock and the runs it left, snapshots beside a rebuild, a data set
installed again."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pandas as pd
import pytest

from conftest import TINY, nothing_to_do, output_of, planned_jobs, run_file, snakemake_command, tiny, \
    workflow_environment
from homework1.core import run_checks

FFN = {"model": "ffn", "batch_size": 64, "hidden_size": 16}
# Two Question 1 runs and two Question 2 runs.
STUDY = tiny(q1={"perceptron": TINY["q1"]["perceptron"], "logreg": TINY["q1"]["logreg"]},
             q2={"ffn_batch": TINY["q2"]["ffn_batch"]})
TABLES = "results/tables/summary.csv"
OVERLAY = "results/figures/digits/q2/ffn_batch_overlay.png"
PERCEPTRON, LOGREG = "digits/q1/perceptron/default/seed1", "digits/q1/logreg/default/seed1"
FFN_64, FFN_256 = "digits/q2/ffn_batch/batch_size~64/seed1", "digits/q2/ffn_batch/batch_size~256/seed1"
LONG = "digits/q2/long/default/seed1"


def training_lines(result) -> list[str]:
    return [line for line in output_of(result).splitlines() if ": ok, test acc" in line]


def lines_after_planning(result) -> list[str]:
    """What the workflow said once Snakemake began to plan (Snakemake's banner before it left out)."""
    text = output_of(result)
    return [line for line in text[text.index("Building DAG of jobs..."):].splitlines()[1:]
            if line and line != "Updating checkpoint dependencies."]


def test_damaged_runs_are_named_in_one_line_and_trained_again_and_hand_edits_are_kept_and_counted(workspace):
    work = workspace.work
    workspace.run(STUDY, TABLES, OVERLAY)
    damaged = {run_file(PERCEPTRON): "truncated JSON", run_file(LOGREG, "metrics.csv"): "not text (binary bytes",
               run_file(FFN_64, "metrics.csv"): "truncated: its last line is cut short, after 1 whole epoch row(s) of "
                                                "the 2 epochs its summary records"}
    (work / run_file(PERCEPTRON)).write_bytes((work / run_file(PERCEPTRON)).read_bytes()[:300])
    (work / run_file(LOGREG, "metrics.csv")).write_bytes(os.urandom(200) + b"\0")
    metrics = (work / run_file(FFN_64, "metrics.csv")).read_bytes()
    (work / run_file(FFN_64, "metrics.csv")).write_bytes(metrics[:metrics.rindex(b"\n", 0, -1) + 20])
    edited = work / run_file(FFN_256)
    edited.write_text(json.dumps(json.loads(edited.read_text()) | {"test_acc": 0.99}, indent=2))
    before = {path: path.read_bytes() for path in (work / "results/runs").rglob("*.*")}

    plan = workspace.run(STUDY, TABLES, OVERLAY, "--dry-run")
    assert (planned_jobs(plan)["train_q1"], planned_jobs(plan)["train_q2"]) == (2, 1)
    assert {path: path.read_bytes() for path in (work / "results/runs").rglob("*.*")} == before  # a dry run

    result = workspace.run(STUDY, TABLES, OVERLAY)
    said = lines_after_planning(result)
    for path, cause in damaged.items():
        [line] = [line for line in said if path in line]
        assert line.startswith(f"{path}: {cause}") and line.endswith("; the run is trained again"), line
        assert run_checks.damage((work / path).with_name("summary.json")) is None  # trained again: whole
    assert len(training_lines(result)) == 3 and "Traceback" not in output_of(result)
    edit_line = run_checks.edit_line(run_file(FFN_256))
    assert [line for line in said if run_file(FFN_256) in line] == [edit_line]
    summary = pd.read_csv(work / TABLES).set_index("variant")
    assert summary["hand_edited"].to_dict() == {"default": False, "batch_size~64": False, "batch_size~256": True}
    assert summary.loc["batch_size~256", "test_acc"] == 0.99  # kept, and counted
    assert nothing_to_do(workspace.run(STUDY, TABLES, OVERLAY))


def start(workspace, config, *targets) -> subprocess.Popen:
    """The real workflow started in the background, in a session of its own."""
    return subprocess.Popen(snakemake_command(workspace.work, config, *targets, repo=workspace.repo),
                            cwd=workspace.work, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True, env=workflow_environment())


def wait_for(condition, seconds: float = 300) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "waited in vain"
        time.sleep(0.1)


def training(log: Path, epoch: int = 20):
    return lambda: log.exists() and f"epoch {epoch}/" in log.read_text()


def long_run(epochs: int) -> dict:
    return tiny(q1={}, checkpoint_every=1000, keep_checkpoints=False, q2={"long": FFN | {"epochs": epochs}})


@pytest.mark.parametrize("epochs_after", [400, 401], ids=["same settings", "settings changed meanwhile"])
def test_after_snakemake_is_killed_one_line_says_how_to_go_on_and_no_finished_run_is_trained_again(workspace,
                                                                                                   epochs_after):
    work, target = workspace.work, run_file(LONG)
    snakemake = start(workspace, long_run(400), target)
    wait_for(training(work / f"logs/runs/{LONG}.log"))
    os.kill(snakemake.pid, signal.SIGKILL)  # Snakemake alone: its job trains on, and finishes
    snakemake.communicate()
    wait_for((work / target).exists)
    written = (work / target).read_bytes(), (work / target).stat().st_mtime_ns

    config, kept = long_run(epochs_after), epochs_after == 400
    refused = workspace.run(config, target, check=False)
    assert refused.returncode != 0 and "LockException" not in output_of(refused)
    [line] = lines_after_planning(refused)
    assert line.startswith(f"ERROR: this directory is locked by a Snakemake that no longer runs (PID {snakemake.pid} ")
    assert "killed, or its machine stopped): run the same command once with --unlock, then again as it is" in line
    assert line.endswith(f"; of the runs it left incomplete, 1 {'whole and kept' if kept else 'to train again'} "
                         f"({LONG})")

    workspace.run(config, "--unlock")
    if not kept:  # trained with 400 epochs, configured with 401 by now
        rerun = workspace.run(config, target)
        assert len(training_lines(rerun)) == 1 and json.loads((work / target).read_text())["epochs_completed"] == 401
        return
    rerun = workspace.run(config, target, "results/tables/runtime.csv")  # which reads every run's benchmark
    assert not training_lines(rerun)
    assert ((work / target).read_bytes(), (work / target).stat().st_mtime_ns) == written
    runtime = pd.read_csv(work / "results/tables/runtime.csv").set_index("job")
    assert pd.isna(runtime.loc[f"runs/{LONG}", "wall_s"])  # not measured: its Snakemake was gone
    # Snakemake holds the kept run's record, as if it had seen its job end: a change of its settings retrains it
    assert planned_jobs(workspace.run(long_run(402), target, "--dry-run")).get("train_q2") == 1


@contextlib.contextmanager
def running_study(workspace, config, target):
    """The workflow training ``target`` in the background, until the block ends (then interrupted)."""
    snakemake = start(workspace, config, target)
    try:
        wait_for(training(workspace.work / f"logs/runs/{LONG}.log"))
        yield snakemake
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(snakemake.pid, signal.SIGINT)
        snakemake.communicate(timeout=300)


def test_a_running_snakemakes_lock_is_named_and_left_alone_and_no_snapshot_is_taken_beside_its_rebuild(workspace):
    work = workspace.work
    short = tiny(q1={}, q2={"long": FFN | {"epochs": 2}, "other": FFN | {"epochs": 2}})
    workspace.run(short, TABLES)  # a built study
    longer = tiny(**(short | {"q2": short["q2"] | {"long": FFN | {"epochs": 5000}}}))
    with running_study(workspace, longer, TABLES) as rebuild:
        refused = workspace.run(longer, TABLES, check=False)
        assert refused.returncode != 0 and "LockException" not in output_of(refused)
        [line] = lines_after_planning(refused)
        assert line.startswith(f"ERROR: this directory is locked by another Snakemake, still running (PID "
                               f"{rebuild.pid} on ")
        assert line.endswith("which writes files this run needs: wait until it has finished (its lock is left "
                             "as it is)")
        assert rebuild.poll() is None and list((work / ".snakemake/locks").glob("*.output.lock"))

        snapshot = workspace.run(longer, "snapshot", "--config", "snapshot_name=beside", check=False)
        assert snapshot.returncode != 0
        [line] = lines_after_planning(snapshot)
        assert line.startswith(f"ERROR: no snapshot taken: this directory is locked by another Snakemake, still "
                               f"running (PID {rebuild.pid} on ")
        assert f"which writes 2 file(s) of this study's runs (first: {run_file(LONG, 'metrics.csv')})" in line
        assert not (work / "results/snapshots/beside").exists()


def test_a_snapshot_holds_whole_runs_and_records_the_settings_they_were_trained_with(workspace):
    work = workspace.work
    reference = tiny(**(STUDY | {"implementation": "reference"}))
    workspace.run(reference, TABLES)
    workspace.run(STUDY, run_file(FFN_64))  # retrained with the fast implementation, the others not

    for path, cause in ((run_file(PERCEPTRON), "truncated JSON"),
                        (run_file(LOGREG, "metrics.csv"), "not text (binary bytes from offset")):
        kept = (work / path).read_bytes()
        (work / path).write_bytes(kept[:300] if path.endswith(".json") else os.urandom(100) + b"\0")
        refused = workspace.run(STUDY, "snapshot", "--config", "snapshot_name=s", check=False)
        errors = [line for line in output_of(refused).splitlines() if line.startswith("ERROR:")]
        assert refused.returncode != 0 and "Traceback" not in output_of(refused)
        assert len(errors) == 1 and errors[0].startswith(f"ERROR: {path}: {cause}"), errors
        assert not (work / "results/snapshots/s").exists()
        (work / path).write_bytes(kept)

    workspace.run(STUDY, "snapshot", "--config", "snapshot_name=s")
    manifest = json.loads((work / "results/snapshots/s/manifest.json").read_text())
    assert manifest["settings"]["implementation"] == ["fast", "reference"]  # the runs', not the config's
    assert manifest["settings"]["seed"] == [1] and manifest["hand_edited_runs"] == []
    assert "config" not in manifest
    table = pd.read_csv(work / "results/snapshots/s/tables/summary.csv").set_index("variant")["implementation"]
    assert table.to_dict() == {"default": "reference", "batch_size~64": "fast", "batch_size~256": "reference"}


def test_a_data_set_installed_again_with_the_same_content_retrains_nothing(workspace):
    work = workspace.work
    config = tiny(q1={"perceptron": TINY["q1"]["perceptron"]}, q2={})
    trained = [work / run_file(PERCEPTRON)]
    workspace.run(config, TABLES)
    for seed, deleted in ((2, ["resources/datasets/digits.npz"]), (3, ["resources/datasets"])):
        written = {path: path.stat().st_mtime_ns for path in trained}
        for path in deleted:
            (os.remove if path.endswith(".npz") else shutil.rmtree)(work / path)
        config = tiny(**(config | {"seeds": [*config["seeds"], seed]}))
        result = workspace.run(config, TABLES)
        assert [line.split(":")[0] for line in training_lines(result)] == [f"q1/perceptron/default seed {seed}"]
        assert {path: path.stat().st_mtime_ns for path in trained} == written  # kept
        trained.append(work / run_file(f"digits/q1/perceptron/default/seed{seed}"))
