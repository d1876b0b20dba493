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

from conftest import TINY, Workspace, output_of, run_path, snakemake_command, tiny, workflow_environment
from homework1 import q2
from homework1.data import load_splits


def test_killed_torch_job_resumes_from_its_checkpoint(workspace):
    config = tiny(q1={}, checkpoint_every=5, keep_checkpoints=False,
                  q2={"long": {"model": "ffn", "epochs": 100, "batch_size": 64, "hidden_size": 16}})
    run = "digits/q2/long/default/seed1"
    target = run_path(run)
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
    resumed = pd.read_csv(workspace.work / run_path(run, "metrics.csv"))
    expected = pd.DataFrame(uninterrupted.history)
    for column in ["train_loss", "train_acc_running", "val_loss", "val_acc"]:
        np.testing.assert_allclose(resumed[column], expected[column], rtol=1e-12, err_msg=column)
    assert summary["test_acc"] == uninterrupted.test_acc


@pytest.mark.parametrize("whom", ["snakemake alone", "the terminal's process group"])
def test_one_interrupt_stops_the_jobs_in_a_few_lines_and_the_rerun_resumes(workspace, whom):
    config = tiny(q1={}, checkpoint_every=5, keep_checkpoints=False,
                  q2={"long": {"model": "ffn", "epochs": 2000, "batch_size": 64, "hidden_size": 16}})
    run = "digits/q2/long/default/seed1"
    log = workspace.work / f"logs/runs/{run}.log"
    process = subprocess.Popen(snakemake_command(workspace.work, config, run_path(run), repo=workspace.repo),
                               cwd=workspace.work, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               start_new_session=True, env=workflow_environment())
    deadline = time.monotonic() + 300
    while not (log.exists() and "epoch 2/" in log.read_text()) and time.monotonic() < deadline:
        time.sleep(0.05)
    # a kill -INT reaches Snakemake alone; a Ctrl-C in a terminal, every process of its group
    if whom == "snakemake alone":
        os.kill(process.pid, signal.SIGINT)
    else:
        os.killpg(process.pid, signal.SIGINT)
    output, _ = process.communicate(timeout=120)  # within the epoch, not after 2000 of them
    assert process.returncode != 0
    interrupted = output.index("Interrupted: 1 running job process(es) asked to stop")
    assert "Run the same command again to resume." in output[interrupted:].splitlines()[0]
    # the job's own line, from Snakemake's SIGTERM (from a terminal the job has the SIGINT too, and its
    # line may come before Snakemake's; tests/test_jobs.py: a late second signal does not lose it)
    stopped = re.search(r"ERROR: stopped by SIG(INT|TERM) after epoch \d+ of 2000: checkpoint .* written", output)
    assert stopped, output
    after = output[min(interrupted, output.rfind("\n", 0, stopped.start()) + 1):].splitlines()
    assert len(after) <= 8 and "Traceback" not in output, output
    with contextlib.suppress(ProcessLookupError):  # nothing of the session is left running
        os.killpg(process.pid, 0)
        pytest.fail("a process of the interrupted run is still running")

    shorter = tiny(**(config | {"q2": {"long": config["q2"]["long"] | {"epochs": 20}}}))
    workspace.run(shorter, run_path(run))  # the default profile reruns what the stop left incomplete
    assert "resumed from checkpoint" in log.read_text()


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
DISK_TARGETS = [run_path(DISK_RUN), run_path("digits/q1/perceptron/default/seed1")]


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
    previous_checkpoint = checkpoint.read_bytes()  # kept: the run's final state, epoch 4
    earlier = {path: path.read_bytes() for path in (workspace.work / "results").rglob("*") if path.is_file()}

    longer = tiny(**DISK_STUDY)
    longer["q2"]["long"]["epochs"] = 8  # resumes at epoch 4, then must write a checkpoint at epoch 6
    with unwritable(kind, checkpoint.parent) as cause:
        if kind == "full":
            checkpoint.write_bytes(previous_checkpoint)
            fill(checkpoint.parent)
        result = workspace.run(longer, *targets, check=False)
        assert checkpoint.read_bytes() == previous_checkpoint
        assert sorted(path.name for path in checkpoint.parent.iterdir()) in (["seed1.pt"], ["filler", "seed1.pt"])

    output = output_of(result)
    assert result.returncode != 0
    assert f"cannot write results/checkpoints/{run}.pt: {cause}. To fix:" in output
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
    process = subprocess.Popen(snakemake_command(workspace.work, config, run_path(run), "--retries", "1",
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
    summary = json.loads((workspace.work / run_path(run)).read_text())
    assert summary["resumed_from_epoch"] == stopped and summary["epochs_completed"] == 400
