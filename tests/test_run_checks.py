"""A run's files read back and checked (homework1.core.run_checks), and who holds a working directory's lock
(homework1.job.locks): the checks as plain functions, on files a training job's writer wrote."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys

import pytest

from conftest import write_run
from homework1.job import locks
from homework1.core import run_checks
from homework1.present.plotting import read_metrics
from homework1.core.runs import SUMMARY_CHECKSUM, summary_checksum
from homework1.analysis.tables import read_summaries

RUN = "results/runs/digits/q2/ffn/default/seed1"


def history(epochs: int) -> list[dict]:
    return [{"epoch": epoch, "train_acc_running": 0.5 + epoch / 1000, "val_acc": 0.4 + epoch / 1000,
             "train_loss": 1 / epoch, "val_loss": 1.1 / epoch, "epoch_time_s": 0.01} for epoch in range(1, epochs + 1)]


@pytest.fixture
def run(tmp_path):
    """A whole run of 200 epochs, as its training job wrote it: its folder."""
    folder = tmp_path / RUN
    write_run(folder, history(200), test_acc=0.61, final_val_acc=0.6, hparams={"epochs": 200, "batch_size": 64},
              model="ffn", seed=1, dataset="digits", implementation="fast")
    return folder


def one_line(message: str, path) -> None:
    assert message.startswith(f"{path}: ") and "\n" not in message, message


def test_a_whole_run_reads_back_as_written(run):
    read = run_checks.read_run(run / "summary.json")
    assert read.edited == () and len(read.metrics) == 200 and read.summary["test_acc"] == 0.61
    assert read.metrics[-1] == {**history(200)[-1], "train_acc": None, "weight_norm": None,
                                "zero_weight_fraction": None}
    assert run_checks.damage(run / "summary.json") is None


def test_the_summary_checksum_is_of_its_content_not_its_layout(run):
    path = run / "summary.json"
    summary = json.loads(path.read_text())
    path.write_text(json.dumps(dict(reversed(summary.items()))))  # other order, other spacing, same content
    assert run_checks.read_run(path).edited == ()
    assert summary_checksum(summary) == summary[SUMMARY_CHECKSUM]


def cut(path, size: int) -> None:
    path.write_bytes(path.read_bytes()[:size])


def metrics_bytes_through_row(run, rows: int) -> int:
    """How many bytes of metrics.csv hold its header and ``rows`` rows."""
    text = (run / "metrics.csv").read_bytes()
    return sum(len(line) + 1 for line in text.split(b"\n")[:rows + 1])


@pytest.mark.parametrize("damage, file, cause", [
    (lambda run: cut(run / "summary.json", 300), "summary.json", "truncated JSON"),
    (lambda run: (run / "summary.json").write_text("{\"status\": \"ok\",, }"), "summary.json",
     "not valid JSON (Expecting property name enclosed in double quotes: line 1, column 17)"),
    (lambda run: (run / "summary.json").write_text("[1, 2]"), "summary.json", "not a run's summary (a JSON list"),
    (lambda run: (run / "summary.json").write_bytes(os.urandom(64) + b"\0"), "summary.json", "not text"),
    (lambda run: (run / "metrics.csv").write_bytes(os.urandom(300) + b"\0"), "metrics.csv",
     "not text (binary bytes from offset"),
    (lambda run: cut(run / "metrics.csv", metrics_bytes_through_row(run, 49) + 20), "metrics.csv",
     "truncated: its last line is cut short, after 49 whole epoch row(s) of the 200 epochs its summary records"),
    (lambda run: cut(run / "metrics.csv", metrics_bytes_through_row(run, 49)), "metrics.csv",
     "holds 49 epoch(s), its summary records 200"),
    (lambda run: (run / "metrics.csv").unlink(), "metrics.csv", "missing"),
    (lambda run: (run / "metrics.csv").write_text((run / "metrics.csv").read_text().replace("\n3,", "\n4,", 1)),
     "metrics.csv", "line 4 holds epoch 4.0, expected 3"),
    (lambda run: (run / "metrics.csv").write_text((run / "metrics.csv").read_text().replace(",0.01\n", ",x\n", 1)),
     "metrics.csv", "line 2: epoch_time_s is not a number ('x')"),
    (lambda run: (run / "metrics.csv").write_text("a,b\n1,2\n"), "metrics.csv", "its header is not a run's metrics"),
])
def test_a_damaged_file_is_named_with_its_cause_in_one_line(run, damage, file, cause):
    damage(run)
    message = run_checks.damage(run / "summary.json")
    one_line(message, run / file)
    assert cause in message
    with pytest.raises(run_checks.DamagedRun, match="^" + str(run / file)):
        read_summaries([run / "summary.json"])
    with pytest.raises(run_checks.DamagedRun, match="^" + str(run / file)):
        read_metrics([run / "metrics.csv"])


def test_a_run_that_ended_ok_short_of_its_epochs_is_damaged_and_a_diverged_one_is_not(tmp_path):
    short = write_run(tmp_path / "short" / RUN, history(49), epochs=200)
    one_line(message := run_checks.damage(short), short)
    assert "ended ok after 49 of the 200 epochs its settings ask for" in message
    diverged = write_run(tmp_path / "diverged" / RUN, history(49), status="diverged", epochs=200)
    assert run_checks.damage(diverged) is None


def test_a_summary_without_checksums_is_from_an_older_writer(run):
    summary = json.loads((run / "summary.json").read_text())
    del summary["metrics_sha256"], summary["summary_sha256"]
    (run / "summary.json").write_text(json.dumps(summary))
    assert "records no checksums of the run's files" in run_checks.damage(run / "summary.json")


def test_hand_edits_are_kept_and_named_apart_from_damage(run):
    summary = json.loads((run / "summary.json").read_text())
    (run / "summary.json").write_text(json.dumps(summary | {"test_acc": 0.99}, indent=2, sort_keys=True))
    assert run_checks.damage(run / "summary.json") is None  # whole: not damaged
    assert run_checks.read_run(run / "summary.json").edited == (str(run / "summary.json"),)
    metrics = run / "metrics.csv"
    metrics.write_text(metrics.read_text().replace("0.401", "0.501", 1))
    assert run_checks.read_run(run / "summary.json").edited == (str(run / "summary.json"), str(metrics))

    warned = []
    table = read_summaries([run / "summary.json"], warn=warned.append)
    assert table["hand_edited"].tolist() == [True] and table["test_acc"].tolist() == [0.99]
    assert warned == [run_checks.edit_line(run / "summary.json"), run_checks.edit_line(metrics)]
    assert warned[0].startswith(f"WARNING: {run / 'summary.json'}: changed since its job wrote it")


def test_the_settings_a_run_records_are_compared_with_those_configured(run):
    summary = run_checks.read_run(run / "summary.json").summary
    assert run_checks.settings_differ(summary, {"seed": 1, "hparams": {"epochs": 200, "batch_size": 64}}) is None
    assert run_checks.settings_differ(summary, {"seed": 2, "hparams": {"epochs": 300, "momentum": 0.9}}) == (
        "hparams.batch_size 64, not None; hparams.epochs 200, not 300; hparams.momentum None, not 0.9; seed 1, not 2")


# ---------------------------------------------------------------- who holds a lock

def ended_process() -> int:
    """The PID of a process that has ended."""
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def owner(pid: int, host: str | None = None) -> locks.Owner:
    return locks.Owner(host or socket.gethostname(), pid, locks.process_start(pid), "2026-01-01 10:00:00",
                       "snakemake --cores 2")


def snakemake_lock(lock_dir) -> None:
    (lock_dir / "0.output.lock").write_text(f"{RUN}/summary.json\n")


def test_a_lock_whose_holder_ended_is_stale_and_says_to_unlock(tmp_path):
    assert locks.held_by_the_dead(tmp_path)  # no lock at all
    snakemake_lock(tmp_path)
    locks.record_owner(tmp_path, owner(ended_process()))
    line = locks.refusal(tmp_path, incomplete="of the runs it left incomplete, 1 whole and kept (a)")
    assert line.startswith("this directory is locked by a Snakemake that no longer runs (PID ")
    assert "run the same command once with --unlock, then again as it is; of the runs it left incomplete" in line
    assert "\n" not in line and locks.live_owners(tmp_path) == [] and locks.held_by_the_dead(tmp_path)


def test_a_lock_that_names_no_holder_is_left_alone_but_explained(tmp_path):
    snakemake_lock(tmp_path)  # taken by an earlier version of the workflow, which may still run
    line = locks.refusal(tmp_path, incomplete="never said")
    assert line.startswith("this directory is locked by a Snakemake that recorded no process")
    assert line.endswith("if none runs here any more, run the same command once with --unlock, then again as it is")
    assert not locks.held_by_the_dead(tmp_path)


def test_a_lock_whose_holder_runs_is_left_alone(tmp_path):
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        snakemake_lock(tmp_path)
        locks.record_owner(tmp_path, owner(sleeper.pid))
        assert locks.live_owners(tmp_path) == [owner(sleeper.pid)] and not locks.held_by_the_dead(tmp_path)
        line = locks.refusal(tmp_path, incomplete="never said")
        assert line.startswith(f"this directory is locked by another Snakemake, still running (PID {sleeper.pid} ")
        assert "wait until it has finished (its lock is left as it is)" in line and "--unlock" not in line
    finally:
        sleeper.kill()
        sleeper.wait()
    assert locks.live_owners(tmp_path) == []  # ended now


def test_a_reused_pid_is_not_the_holder(tmp_path):
    parent = os.getppid()
    if locks.process_start(parent) is None:
        pytest.skip("this machine does not say when a process started")
    earlier = owner(parent)
    locks.record_owner(tmp_path, locks.Owner(earlier.host, parent, earlier.start - 1, earlier.locked_at, "snakemake"))
    assert locks.live_owners(tmp_path) == []  # that PID runs, but it is another process


def test_a_holder_on_another_host_cannot_be_checked_from_here(tmp_path):
    locks.record_owner(tmp_path, owner(ended_process(), host="elsewhere"))
    line = locks.refusal(tmp_path)
    assert "locked by a Snakemake on another host (PID " in line and "cannot be checked from here" in line
    assert "if it no longer runs, run the same command once with --unlock" in line


def test_the_files_a_lock_holder_writes_are_read_from_its_lock(tmp_path):
    (tmp_path / "0.output.lock").write_text(f"{RUN}/summary.json\n{RUN}/metrics.csv\n")
    (tmp_path / "0.input.lock").write_text("resources/datasets/digits.npz\n")
    locks.record_owner(tmp_path)
    assert locks.locked_outputs(tmp_path) == {f"{RUN}/summary.json", f"{RUN}/metrics.csv"}
    assert [path.name for path in locks.lock_files(tmp_path)] == ["0.input.lock", "0.output.lock"]
