"""Faults met by the real workflow: a job killed mid-run, a full or read-only disk."""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from conftest import TINY, Workspace, output_of, run_file, snakemake_command, tiny, workflow_environment
from homework1 import q2
from homework1.core.data import load_splits


def test_killed_torch_job_resumes_from_its_checkpoint(workspace):
    config = tiny(q1={}, checkpoint_every=5, keep_checkpoints=False,
                  q2={"long": {"model": "ffn", "epochs": 100, "batch_size": 64, "hidden_size": 16}})
    run = "digits/q2/long/default/seed1"
    target = run_file(run)
    checkpoint = workspace.work / f"results/checkpoints/{run}.pt"

    process = subprocess.Popen(snakemake_command(workspace.work, config, target, repo=workspace.repo),
                               cwd=workspace.work, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               start_new_session=True, env=workflow_environment())
    deadline = time.monotonic() + 300
    while not checkpoint.exists() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    os.killpg(process.pid, signal.SIGKILL)  # the whole job tree, as a cluster's preemption would
    process.wait()
    assert checkpoint.exists(), "the run ended before its first checkpoint"
    assert not (workspace.work / target).exists()

    workspace.run(config, "--unlock")
    workspace.run(config, target, "--rerun-incomplete")
    summary = json.loads((workspace.work / target).read_text())
    assert summary["status"] == "ok" and summary["resumed_from_epoch"] >= 5
    assert "resumed from checkpoint" in (workspace.work / f"logs/runs/{run}.log").read_text()
    assert not checkpoint.exists()  # removed once the run completed

    # the resumed run's numbers are an uninterrupted run's
    splits = load_splits(workspace.work / "resources/datasets/digits.npz", dtype=np.float32)
    uninterrupted = q2.train("ffn", splits, **summary["hparams"], seed=1, device="cpu", threads=1,
                             implementation="fast", full_train_accuracy=False, log=lambda line: None)
    resumed = pd.read_csv(workspace.work / run_file(run, "metrics.csv"))
    expected = pd.DataFrame(uninterrupted.history)
    for column in ["train_loss", "train_acc_running", "val_loss", "val_acc"]:
        np.testing.assert_allclose(resumed[column], expected[column], rtol=1e-12, err_msg=column)
    assert summary["test_acc"] == uninterrupted.test_acc


@pytest.mark.parametrize("signum, whom", [
    (signal.SIGINT, "snakemake alone"), (signal.SIGINT, "the terminal's process group"),
    # a closed terminal or a dropped ssh session: Snakemake had died at once, its lock left and its jobs running on
    (signal.SIGHUP, "snakemake alone"), (signal.SIGHUP, "the terminal's process group"),
], ids=["SIGINT to snakemake alone", "SIGINT to the process group", "SIGHUP to snakemake alone",
        "SIGHUP to the process group"])
def test_one_interrupt_stops_the_jobs_in_a_few_lines_and_the_rerun_resumes(workspace, signum, whom):
    config = tiny(q1={}, checkpoint_every=5, keep_checkpoints=False,
                  q2={"long": {"model": "ffn", "epochs": 2000, "batch_size": 64, "hidden_size": 16}})
    run = "digits/q2/long/default/seed1"
    log = workspace.work / f"logs/runs/{run}.log"
    process = subprocess.Popen(snakemake_command(workspace.work, config, run_file(run), repo=workspace.repo),
                               cwd=workspace.work, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               start_new_session=True, env=workflow_environment())
    deadline = time.monotonic() + 300
    while not (log.exists() and "epoch 2/" in log.read_text()) and time.monotonic() < deadline:
        time.sleep(0.05)
    # a kill to Snakemake alone; a Ctrl-C in a terminal (or its hangup) reaches every process of its group
    if whom == "snakemake alone":
        os.kill(process.pid, signum)
    else:
        os.killpg(process.pid, signum)
    output, _ = process.communicate(timeout=120)  # within the epoch, not after 2000 of them
    assert process.returncode != 0
    said = "Interrupted" if signum == signal.SIGINT else r"Hung up \(SIGHUP: the terminal closed\)"
    interrupted = re.search(rf"{said}: 1 running job process\(es\) asked to stop", output)
    assert interrupted, output
    assert "Run the same command again to resume." in output[interrupted.start():].splitlines()[0]
    # the job's own line, from Snakemake's SIGTERM (from a terminal the job has the signal too, and its
    # line may come before Snakemake's; tests/test_jobs.py: a late second signal does not lose it)
    stopped = re.search(r"ERROR: stopped by SIG(INT|TERM|HUP) after epoch \d+ of 2000: checkpoint .* written", output)
    assert stopped, output
    after = output[min(interrupted.start(), output.rfind("\n", 0, stopped.start()) + 1):].splitlines()
    assert len(after) <= 8 and "Traceback" not in output, output
    with contextlib.suppress(ProcessLookupError):  # nothing of the session is left running
        os.killpg(process.pid, 0)
        pytest.fail("a process of the interrupted run is still running")
    locks = workspace.work / ".snakemake/locks"
    assert not locks.exists() or not any(locks.iterdir()), "Snakemake left its lock"

    shorter = tiny(**(config | {"q2": {"long": config["q2"]["long"] | {"epochs": 20}}}))
    workspace.run(shorter, run_file(run))  # no --unlock; the default profile reruns what the stop left incomplete
    assert "resumed from checkpoint" in log.read_text()


LONG = tiny(q1={}, checkpoint_every=5, keep_checkpoints=False,
            q2={"long": {"model": "ffn", "epochs": 3000, "batch_size": 64, "hidden_size": 16}})
LONG_RUN = "digits/q2/long/default/seed1"


def started(workspace: Workspace, config: dict, target: str) -> subprocess.Popen:
    """Snakemake making ``target``, in a session of its own (as from a terminal); its output is read."""
    return subprocess.Popen(snakemake_command(workspace.work, config, target, repo=workspace.repo),
                            cwd=workspace.work, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True, env=workflow_environment())


def trainer_once_checkpointed(workspace: Workspace, run: str, process: subprocess.Popen) -> int:
    """The process id of ``run``'s trainer, once it has written its first checkpoint."""
    checkpoint, log = workspace.work / f"results/checkpoints/{run}.pt", workspace.work / f"logs/runs/{run}.log"
    deadline = time.monotonic() + 300
    while not checkpoint.exists() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert checkpoint.exists(), process.communicate()[0] if process.poll() is not None else "no checkpoint"
    return int(re.search(r"attempt 1 on \S+, process (\d+)", log.read_text()).group(1))


def test_a_killed_job_is_named_and_its_checkpoint_never_resumes_onto_other_data(workspace):
    process = started(workspace, LONG, run_file(LONG_RUN))
    os.kill(trainer_once_checkpointed(workspace, LONG_RUN, process), signal.SIGKILL)  # kill -9 of the job alone
    output, _ = process.communicate(timeout=120)
    assert process.returncode != 0
    assert (f"ERROR: q2/long/default seed 1 was killed by SIGKILL (log: logs/runs/{LONG_RUN}.log): a SIGKILL comes "
            f"from kill -9 or from the system when memory runs out.") in output
    assert "CalledProcessError" not in output and "died with" not in output

    # the rerun makes another split (digits seed 7), whose training set may hold the first split's test images:
    # the checkpoint of 5 or more epochs on the first split is set aside, and the run starts afresh
    other_data = tiny(**(LONG | {"digits": {"seed": 7}, "q2": {"long": LONG["q2"]["long"] | {"epochs": 20}}}))
    workspace.run(other_data, run_file(LONG_RUN))
    summary = json.loads((workspace.work / run_file(LONG_RUN)).read_text())
    assert summary["resumed_from_epoch"] == 0 and summary["resumed_from_checkpoint"] is None
    log = (workspace.work / f"logs/runs/{LONG_RUN}.log").read_text()
    assert re.search(r"checkpoint \S+seed1\.pt is unusable: it was written for another run: dataset_sha256 \w+\.\.\. "
                     r"\(this run: \w+\.\.\.\); moved to seed1\.pt\.unusable, starting afresh", log), log
    assert summary["dataset_sha256"].startswith(re.search(r"this run: (\w+)\.\.\.", log).group(1))


def test_a_trainer_left_by_a_killed_snakemake_is_alone_and_stops_itself(workspace):
    import psutil

    first = started(workspace, LONG, run_file(LONG_RUN))
    orphan = trainer_once_checkpointed(workspace, LONG_RUN, first)
    os.kill(orphan, signal.SIGSTOP)  # held still, so that it is surely running when the second trainer starts
    os.kill(first.pid, signal.SIGKILL)  # Snakemake alone: its trainer runs on, with no workflow to take its result
    first.wait(timeout=60)
    first.stdout.close()  # the orphan holds the other end
    try:
        workspace.run(LONG, "--unlock")
        second = workspace.run(LONG, run_file(LONG_RUN), check=False)
    finally:
        os.kill(orphan, signal.SIGCONT)
    assert second.returncode != 0
    assert re.search(rf"ERROR: q2/long/default seed 1: another trainer of this run is running \(host \S+, process "
                     rf"{orphan}, since [\d: -]+\); two would write the same checkpoint and outputs, so this one "
                     rf"stops", output_of(second)), output_of(second)
    # once it looks, the orphan sees that its Snakemake has ended: it saves its work at the end of the epoch and ends
    deadline = time.monotonic() + 60
    while psutil.pid_exists(orphan) and psutil.Process(orphan).status() != psutil.STATUS_ZOMBIE:
        assert time.monotonic() < deadline, "the orphaned trainer did not stop"
        time.sleep(0.1)
    attempts = (workspace.work / f"logs/runs/{LONG_RUN}.attempts.log").read_text()
    stopped = re.search(rf"stopped by the end of its Snakemake \(process {first.pid}\) after epoch (\d+) of 3000: "
                        rf"checkpoint \S+ written, a rerun resumes from it", attempts)
    assert stopped, attempts

    shorter = tiny(**(LONG | {"q2": {"long": LONG["q2"]["long"] | {"epochs": int(stopped.group(1)) + 5}}}))
    workspace.run(shorter, run_file(LONG_RUN))
    summary = json.loads((workspace.work / run_file(LONG_RUN)).read_text())
    assert summary["resumed_from_epoch"] == int(stopped.group(1))


@contextlib.contextmanager
def unwritable(kind: str, directory: Path):
    """``directory`` made "full" (a small tmpfs mounted on it) or "read-only" (bind-mounted
    read-only; chmod where not root, since root writes through chmod) for the duration.
    Yields the cause a job writing there should report; skips where neither can be done."""
    if kind == "read-only" and os.geteuid() != 0:
        directory.chmod(0o555)
        try:
            yield "permission denied"
        finally:
            directory.chmod(0o755)
        return
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root")
    if kind == "full":
        commands = [["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(directory)]]
    else:
        commands = [["mount", "--bind", str(directory), str(directory)],
                    ["mount", "-o", "remount,bind,ro", str(directory)]]
    mounted = False
    try:
        for command in commands:
            done = subprocess.run(command, capture_output=True, text=True)
            if done.returncode != 0:
                pytest.skip(f"this machine does not allow {' '.join(command)}: {done.stderr.strip()}")
            mounted = True
        yield "no space left on device" if kind == "full" else "read-only file system"
    finally:
        if mounted:
            subprocess.run(["umount", str(directory)], check=True)


def fill(directory: Path) -> None:
    """Write into ``directory`` until its file system is full."""
    with contextlib.suppress(OSError), open(directory / "filler", "wb") as handle:
        while True:
            handle.write(bytes(4096))
            handle.flush()


DISK_STUDY = tiny(q1={"perceptron": TINY["q1"]["perceptron"]}, checkpoint_every=2, keep_checkpoints=True,
                  q2={"long": {"model": "ffn", "epochs": 4, "batch_size": 64, "hidden_size": 16}})
DISK_RUN = "digits/q2/long/default/seed1"
DISK_TARGETS = [run_file(DISK_RUN), run_file("digits/q1/perceptron/default/seed1")]


@pytest.fixture(scope="module")
def studied(tmp_path_factory, shared_workflow):
    """A small study run once, its torch run's checkpoint kept. A failed rerun leaves it as it
    was (what the tests below check), so each of them starts from it."""
    workspace = Workspace(tmp_path_factory.mktemp("disk") / "work", shared_workflow)
    workspace.run(DISK_STUDY, *DISK_TARGETS)
    return workspace


@pytest.mark.parametrize("kind", ["full", "read-only"])
def test_a_full_or_read_only_disk_is_named_and_leaves_earlier_results_intact(studied, kind):
    workspace, run, targets = studied, DISK_RUN, DISK_TARGETS
    checkpoint = workspace.work / f"results/checkpoints/{run}.pt"
    kept = {path.name: path.read_bytes() for path in checkpoint.parent.iterdir()}  # the final state, epoch 4
    assert sorted(kept) == ["seed1.pt", "seed1.pt.history"]
    earlier = {path: path.read_bytes() for path in (workspace.work / "results").rglob("*") if path.is_file()}

    longer = tiny(**DISK_STUDY)
    longer["q2"]["long"]["epochs"] = 8  # resumes at epoch 4, then must write a checkpoint at epoch 6
    with unwritable(kind, checkpoint.parent) as cause:
        if kind == "full":
            for name, data in kept.items():
                (checkpoint.parent / name).write_bytes(data)
            fill(checkpoint.parent)
        result = workspace.run(longer, *targets, check=False)
        assert {path.name: path.read_bytes() for path in checkpoint.parent.iterdir() if path.name != "filler"} == kept

    output = output_of(result)
    assert result.returncode != 0
    # the checkpoint or the history beside it, whichever it wrote first
    assert re.search(rf"cannot write results/checkpoints/{run}\.pt(\.history)?: {cause}\. To fix:", output), output
    assert f"earlier results and checkpoints are unchanged (log: logs/runs/{run}.log)" in output
    assert "Traceback" not in output and "enforce fail" not in output
    # the failed run left no output to be taken as complete; every other result is as it was
    assert not (workspace.work / f"results/runs/{run}").exists() or not any(
        (workspace.work / f"results/runs/{run}").iterdir())
    after = {path: path.read_bytes() for path in (workspace.work / "results").rglob("*") if path.is_file()}
    assert after == {path: data for path, data in earlier.items() if f"results/runs/{run}/" not in str(path)}


def test_a_signalled_job_saves_its_work_and_its_retry_resumes_with_more_resources(workspace):
    # SIGTERM is what SLURM sends first when it cancels, preempts or times out a job
    config = tiny(q1={}, checkpoint_every=1000, keep_checkpoints=False,  # no periodic checkpoint: the signal's
                  q2={"long": {"model": "ffn", "epochs": 400, "batch_size": 64, "hidden_size": 16}})
    run = "digits/q2/long/default/seed1"
    log = workspace.work / f"logs/runs/{run}.log"
    attempts = workspace.work / f"logs/runs/{run}.attempts.log"
    process = subprocess.Popen(snakemake_command(workspace.work, config, run_file(run), "--retries", "1",
                                                 repo=workspace.repo),
                               cwd=workspace.work, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               env=workflow_environment())
    deadline = time.monotonic() + 120
    while not (log.exists() and "ffn epoch 3/" in log.read_text()) and time.monotonic() < deadline:
        assert process.poll() is None, process.communicate()[0]
        time.sleep(0.05)
    pid = int(re.search(r"attempt 1 on .*, process (\d+);", log.read_text()).group(1))
    os.kill(pid, signal.SIGTERM)
    terminal, _ = process.communicate(timeout=300)
    assert process.returncode == 0, terminal  # the retry completed the run

    history = attempts.read_text()
    stopped = int(re.search(r"stopped by SIGTERM after epoch (\d+) of 400: checkpoint \S+ written", history).group(1))
    assert f"stopped by SIGTERM after epoch {stopped} of 400" in terminal  # the one line on the terminal
    headers = re.findall(r"==== q2/long/default seed 1: attempt (\d) on .*; mem_mb (\d+), runtime (\d+)", history)
    assert headers == [("1", "8000", "240"), ("2", "16000", "480")]  # the retry asks for twice the time and memory
    assert f"resumed from checkpoint results/checkpoints/{run}.pt at epoch {stopped}/400" in history
    assert "attempt 1" not in log.read_text()  # the job's log: this attempt's
    summary = json.loads((workspace.work / run_file(run)).read_text())
    assert summary["resumed_from_epoch"] == stopped and summary["epochs_completed"] == 400
