"""The unchanged workflow on a SLURM cluster, through the repository's SLURM profile.

Needs a cluster that answers `sinfo` (CI starts a one-node one with
.ci/start_local_slurm); skipped elsewhere. The profile has the executor plugin
poll job states with squeue, whether or not the cluster keeps accounting.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from conftest import REPO, TINY, Workspace, snakemake_command, tiny, workflow_environment


def cluster_answers() -> bool:
    """The CI script's own probe, with its time limit: a stale configuration does not hang the tests."""
    return subprocess.run(["bash", str(REPO / ".ci/start_local_slurm"), "--check"], capture_output=True).returncode == 0


pytestmark = pytest.mark.skipif(not cluster_answers(), reason="no SLURM cluster answers sinfo")


def submission(workspace: Workspace, config: dict, *args: str, preexec_fn=None) -> subprocess.Popen:
    """The workflow of ``workspace`` sent to the cluster through the repository's SLURM profile
    (its status command too); its output is read as it comes. ``preexec_fn`` runs in the new
    process before Snakemake starts."""
    command = snakemake_command(
        workspace.work, config, "--workflow-profile", str(workspace.repo / "workflow/profiles/slurm"),
        "--slurm-init-seconds-before-status-checks", "2", "--slurm-no-account", "--jobs", "4", *args,
        repo=workspace.repo,
    )
    # jobs start `python -m snakemake` on the node: it must find this environment's
    environment = workflow_environment(PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=environment,
                            preexec_fn=preexec_fn)


def finished(process: subprocess.Popen, timeout: int = 300) -> tuple[int, str]:
    """(return code, output) of a submission, which must end by itself within ``timeout`` seconds."""
    try:
        output, _ = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        output, _ = process.communicate()
        pytest.fail(f"the workflow did not end by itself within {timeout} s:\n{output}")
    return process.returncode, output


def slurm_job(comment_part: str) -> str | None:
    """The id of the queued or running SLURM job whose comment (the plugin writes the rule and its
    wildcards there) holds ``comment_part``."""
    listed = subprocess.run(["squeue", "-h", "-o", "%i %k"], capture_output=True, text=True).stdout.split("\n")
    return next((line.split()[0] for line in listed if comment_part in line), None)


def running_with_checkpoint(process: subprocess.Popen, checkpoint: Path, comment_part: str) -> str:
    """The id of the SLURM job ``comment_part`` names, once its run has written ``checkpoint`` (so
    that a retry has something to resume from); it must still be running then."""
    deadline = time.monotonic() + 240
    while not checkpoint.exists() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.2)
    job = slurm_job(comment_part)
    assert job is not None, f"the {comment_part} run was not running when its checkpoint appeared"
    return job


def test_workflow_runs_on_slurm_through_the_profile_and_a_cancelled_job_is_retried(workspace):
    # one torch run long enough to be cancelled while it trains
    config = tiny(q1={"perceptron": TINY["q1"]["perceptron"]}, checkpoint_every=5,
                  q2={"ffn_batch": {**TINY["q2"]["ffn_batch"], "batch_size": 64},
                      "long": {"model": "ffn", "epochs": 600, "batch_size": 64, "hidden_size": 16}})
    checkpoint = workspace.work / "results/checkpoints/digits/q2/long/default/seed1.pt"
    process = submission(workspace, config)
    job = running_with_checkpoint(process, checkpoint, "long")
    subprocess.run(["scancel", job], check=True)  # as a user or an admin would
    returncode, output = finished(process)
    assert returncode == 0, output

    # the cancelled job was seen as failed and submitted again, and the retry resumed from the checkpoint
    assert re.search(rf"SLURM-job '{job}' failed, SLURM status is: 'CANCELLED'", output), output
    run = json.loads((workspace.work / "results/runs/digits/q2/long/default/seed1/summary.json").read_text())
    assert run["status"] == "ok" and run["resumed_from_epoch"] >= 5 and run["epochs_completed"] == 600
    attempts = (workspace.work / "logs/runs/digits/q2/long/default/seed1.attempts.log").read_text()
    assert "attempt 2" in attempts and "resumed from checkpoint" in attempts

    # only the jobs that compute go to the cluster: the data set, the training runs (the cancelled one
    # twice) and the Q3 checks; tables, figures and the report are local rules, run on the submitting host
    submitted = re.findall(r"has been submitted with SLURM jobid \d+ \(log: .*/slurm_logs/rule_(\w+)/", output)
    assert sorted(submitted) == ["dataset", "q3_checks", "train_q1", "train_q2", "train_q2", "train_q2"]
    summary = pd.read_csv(workspace.work / "results/tables/summary.csv")
    assert sorted(summary["experiment"]) == ["ffn_batch", "long", "perceptron"]
    torch_run = json.loads(
        (workspace.work / "results/runs/digits/q2/ffn_batch/default/seed1/summary.json").read_text())
    assert torch_run["status"] == "ok" and torch_run["device"] == "cpu"
    assert (workspace.work / "results/report.md").exists()


def test_a_job_that_reaches_its_time_limit_is_retried_with_twice_the_time_and_resumes(workspace):
    config = tiny(q1={}, checkpoint_every=5,
                  q2={"long": {"model": "ffn", "epochs": 1000, "batch_size": 64, "hidden_size": 16}})
    run = workspace.work / "results/runs/digits/q2/long/default/seed1/summary.json"
    checkpoint = workspace.work / "results/checkpoints/digits/q2/long/default/seed1.pt"
    attempts = workspace.work / "logs/runs/digits/q2/long/default/seed1.attempts.log"
    process = submission(workspace, config, str(run.relative_to(workspace.work)))
    job = running_with_checkpoint(process, checkpoint, "long")
    # The job's time is up now: the controller ends it at its next check of time limits (every 30 s
    # or so) with SIGTERM, as at the end of its runtime. Until then the training process is frozen,
    # so that it is still running then however fast this machine is; it thaws once the job ends.
    trainer = int(re.search(r"attempt 1 on \S+, process (\d+)", attempts.read_text()).group(1))
    os.kill(trainer, signal.SIGSTOP)
    try:
        subprocess.run(["scontrol", "update", f"JobId={job}", "EndTime=now"], check=True)
        deadline = time.monotonic() + 90
        while slurm_state(job) == "RUNNING" and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:  # SLURM may have woken it itself (SIGCONT comes with its SIGTERM), and it ended
        with contextlib.suppress(ProcessLookupError):
            os.kill(trainer, signal.SIGCONT)
    returncode, output = finished(process)
    assert returncode == 0, output

    assert re.search(rf"SLURM-job '{job}' failed, SLURM status is: 'TIMEOUT'", output), output
    summary = json.loads(run.read_text())
    assert summary["status"] == "ok" and summary["resumed_from_epoch"] >= 5 and summary["epochs_completed"] == 1000
    first, second = attempts.read_text().split("==== q2/long/default seed 1: attempt 2 ", 1)
    stopped = int(re.search(r"stopped by SIGTERM after epoch (\d+) of 1000: checkpoint \S+ written", first).group(1))
    assert "runtime 240" in first.splitlines()[0] and second.splitlines()[0].endswith("runtime 480")
    assert re.search(rf"resumed from checkpoint \S+ at epoch {stopped}/1000", second), second


def memory_enforced() -> bool:
    """Whether the cluster kills a job over its memory (.ci/start_local_slurm: where cgroups allow)."""
    shown = subprocess.run(["scontrol", "show", "config"], capture_output=True, text=True).stdout
    return bool(re.search(r"^TaskPlugin\s*=.*task/cgroup", shown, re.M)
                and re.search(r"^ConstrainRAMSpace\s*=\s*yes", shown, re.M))


def test_a_job_out_of_memory_is_retried_with_twice_the_memory(workspace):
    if not memory_enforced():
        pytest.skip("this cluster does not enforce memory limits (no cgroup v1 memory controller)")
    run = workspace.work / "results/runs/digits/q2/long/default/seed1/summary.json"
    config = tiny(q1={}, q2={"long": {"model": "ffn", "epochs": 30, "batch_size": 64, "hidden_size": 16}})
    # such a job takes about 375 MB here (torch and Snakemake included): the first attempt's 250 MB
    # are too few, the retry's twice that are enough (the rule's own memory, 8000 MB, grows the same way)
    process = submission(workspace, config, str(run.relative_to(workspace.work)),
                         "--set-resources", "train_q2:mem_mb=250*attempt")
    returncode, output = finished(process)
    assert returncode == 0, output
    # the kernel kills a process of the job: SLURM says OUT_OF_MEMORY where it was the job's own script,
    # FAILED where it was in a job step (the plugin runs the rule in one), and logs the kill either way
    failed = re.search(r"SLURM-job '\d+' failed, SLURM status is: '(OUT_OF_MEMORY|FAILED)'.*?\n\s*log: .*, (\S+\.log)",
                       output, re.S)
    assert failed, output
    assert "oom-kill event" in Path(failed.group(2)).read_text()
    assert json.loads(run.read_text())["status"] == "ok"
    attempts = (workspace.work / "logs/runs/digits/q2/long/default/seed1.attempts.log").read_text()
    assert re.search(r"attempt 2 on \S+, process \d+; mem_mb 500, runtime 480", attempts), attempts


def test_a_device_this_machine_lacks_is_left_to_the_cluster_nodes(workspace):
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA: nothing to leave to the nodes")
    # a local run would stop here (tests/test_configuration.py); jobs sent to a cluster go ahead
    returncode, output = finished(submission(workspace, TINY, "resources/datasets/digits.npz", "--config",
                                             "device=cuda"))
    assert returncode == 0, output
    assert "cannot be used on this machine" not in output
    assert (workspace.work / "resources/datasets/digits.npz").exists()


def test_arrays_with_a_job_limit_that_would_stall_stop_before_any_submission(workspace):
    # the SLURM plugin holds back an array's runs until it has them all; Snakemake hands it two at a time
    process = submission(workspace, tiny(seeds=[1, 2, 3]), "--slurm-array-jobs", "train_q1,train_q2", "--jobs", "2")
    returncode, output = finished(process, timeout=120)
    assert returncode != 0
    assert re.search(r"--jobs 2 is below the \d+ cluster jobs of this study \(\d+ of them train_q\d\), which "
                     r"--slurm-array-jobs submits as job arrays: .* Set --jobs \d+ or more", output), output
    assert "has been submitted" not in output and "Submitted array" not in output
    assert not (workspace.work / "resources").exists()



def slurm_state(job: str) -> str | None:
    """The state of a SLURM job the controller still keeps (None once it is gone)."""
    shown = subprocess.run(["squeue", "-h", "-j", job, "-o", "%T"], capture_output=True, text=True).stdout.strip()
    return shown or None


def preempting_job() -> str:
    """A short job in the partition "urgent" (.ci/start_local_slurm) that needs every CPU of the node:
    it preempts what runs in "main", which the cluster then cancels. Its id."""
    cpus = subprocess.run(["sinfo", "-h", "-o", "%c"], capture_output=True, text=True, check=True).stdout.split()[0]
    return subprocess.run(["sbatch", "--parsable", "--partition", "urgent", "--cpus-per-task", cpus, "--mem", "500",
                           "--output", "/dev/null", "--wrap", "sleep 2"],
                          capture_output=True, text=True, check=True).stdout.strip()


def test_a_job_preempted_and_cancelled_by_the_cluster_is_requeued_and_resumes(workspace):
    # the plugin takes a PREEMPTED job for a running one: without the workflow's requeue it waited for ever
    config = tiny(q1={}, checkpoint_every=5, slurm_watch_every=1,
                  q2={"long": {"model": "ffn", "epochs": 600, "batch_size": 64, "hidden_size": 16}})
    run = workspace.work / "results/runs/digits/q2/long/default/seed1/summary.json"
    checkpoint = workspace.work / "results/checkpoints/digits/q2/long/default/seed1.pt"
    process = submission(workspace, config, str(run.relative_to(workspace.work)))
    job = running_with_checkpoint(process, checkpoint, "long")
    preempting_job()
    returncode, output = finished(process, timeout=240)

    assert returncode == 0, output
    assert f"SLURM job {job} was preempted and cancelled by the cluster: requeued it" in output, output
    summary = json.loads(run.read_text())
    assert summary["status"] == "ok" and summary["resumed_from_epoch"] >= 5 and summary["epochs_completed"] == 600
    attempts = (workspace.work / "logs/runs/digits/q2/long/default/seed1.attempts.log").read_text()
    assert "resumed from checkpoint" in attempts


def run_id(output: str) -> str:
    """The SLURM plugin's id of a run (every job of it has that name)."""
    return re.search(r"SLURM run ID: (\S+)", output).group(1)


def left_in_queue(run: str) -> list[str]:
    """The run's jobs still pending or running."""
    return subprocess.run(["squeue", "-h", "--name", run, "-o", "%i"], capture_output=True, text=True).stdout.split()


def ignoring_sigint():
    """Start a process with SIGINT ignored, as a script's background job (and CI's) starts it."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def test_a_preempted_job_that_cannot_be_requeued_stops_the_workflow_at_once_with_nothing_left_queued(workspace):
    # three runs: two train side by side (each asks for 8000 MB of the node's 21694), the third waits
    long = {"model": "ffn", "epochs": 5000, "batch_size": 64, "hidden_size": 16}
    config = tiny(q1={}, checkpoint_every=5, slurm_watch_every=1, q2={"long": long, "long_b": long, "long_c": long})
    workspace.run(config, "resources/datasets/digits.npz")  # here: only the runs go to the cluster
    # Snakemake with SIGINT ignored, as a script's background job starts it (Python keeps it ignored): the
    # workflow used to stop itself with a SIGINT to its own process, which did nothing there
    process = submission(workspace, config, "--slurm-no-requeue",
                         *(f"results/runs/digits/q2/{name}/default/seed1/summary.json" for name in config["q2"]),
                         preexec_fn=ignoring_sigint)
    deadline = time.monotonic() + 240
    while not list(workspace.work.glob("results/checkpoints/digits/q2/*/default/seed1.pt")) and \
            process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.2)
    waiting = subprocess.run(["squeue", "-h", "--states=PENDING", "-o", "%Z"], capture_output=True, text=True).stdout
    assert str(workspace.work) in waiting.split(), "no run of the study was waiting at the first checkpoint"
    preempting_job()
    # the workflow stops by itself within seconds
    returncode, output = finished(process, timeout=60)

    assert returncode != 0
    assert re.search(r"ERROR: SLURM job (\d+) was preempted and cancelled by the cluster, and could not be "
                     r"requeued \(scontrol requeue \1: .+\)", output), output
    assert output.count("ERROR: SLURM job") == 1, output  # one stop, said once
    # the run still waiting then was cancelled (with a running one whose preemption was not over yet): none is left
    assert re.search(r"Cancelled the [12] SLURM job\(s\) of this run still queued or running", output), output
    assert left_in_queue(run_id(output)) == [], output
    assert not list(workspace.work.glob("results/runs/digits/q2/*/default/seed1/summary.json"))


def test_a_job_group_larger_than_any_node_stops_before_any_submission_and_runs_with_a_nodes_cores(workspace):
    config = tiny(q2={})  # four Question 1 runs of 4000 MB
    runs = [f"results/runs/digits/q1/{name}/default/seed1/summary.json" for name in config["q1"]]
    groups = ("--groups", "train_q1=q1_runs", "--group-components", "q1_runs=4")
    # a group asks for its runs side by side up to --cores: here all four, on a node of 2 CPUs, which
    # SLURM would keep pending for ever (PartitionConfig)
    returncode, output = finished(submission(workspace, config, *groups, "--cores", "8", *runs), timeout=120)
    assert returncode != 0
    assert re.search(r"the SLURM job of group q1_runs \(4 jobs of train_q1\) asks for 4 CPUs and 16000 MB, more than "
                     r"the largest node of partition main has \(\S+: 2 CPUs, \d+ MB\): SLURM would keep it pending "
                     r"for ever\. .* \(--cores 2\); nothing was submitted", output), output
    assert "has been submitted" not in output and not (workspace.work / "resources").exists()

    # with a node's cores (README, "Job arrays"): one submission of 2 CPUs runs them two at a time
    returncode, output = finished(submission(workspace, config, *groups, "--cores", "2", *runs))
    assert returncode == 0, output
    submitted = re.findall(r"has been submitted with SLURM jobid \d+ \(log: .*/slurm_logs/(\w+)/", output)
    assert sorted(submitted) == ["group_q1_runs_train_q1", "rule_dataset"], output  # one group, the data set
    assert all((workspace.work / run).exists() for run in runs)


def test_a_retry_that_asks_for_more_than_any_node_has_stops_the_workflow_with_nothing_left_queued(workspace):
    config = tiny(q1={}, checkpoint_every=5, slurm_watch_every=1,
                  q2={"long": {"model": "ffn", "epochs": 600, "batch_size": 64, "hidden_size": 16}})
    workspace.run(config, "resources/datasets/digits.npz")  # here: only the run goes to the cluster
    run = workspace.work / "results/runs/digits/q2/long/default/seed1/summary.json"
    checkpoint = workspace.work / "results/checkpoints/digits/q2/long/default/seed1.pt"
    # the first attempt asks for the node's 2 CPUs (checked before submission: it fits), its retry for 4
    process = submission(workspace, config, str(run.relative_to(workspace.work)),
                         "--set-resources", "train_q2:cpus_per_task=2*attempt")
    job = running_with_checkpoint(process, checkpoint, "long")
    subprocess.run(["scancel", job], check=True)  # the plugin sees it failed, and submits the retry
    returncode, output = finished(process, timeout=180)

    assert returncode != 0
    retry = re.search(r"ERROR: SLURM job (\d+) \(rule_train_q2_wildcards_digits_long_default_1\) asks for 4 CPUs and "
                      r"16000 MB, more than the largest node of partition main has \(\S+: 2 CPUs, \d+ MB\): it can "
                      r"never start \(SLURM keeps it pending: PartitionConfig\), so the workflow stops\.", output)
    assert retry and retry.group(1) != job, output
    assert output.count("ERROR: SLURM job") == 1, output
    assert re.search(rf"Cancelled the 1 SLURM job\(s\) of this run still queued or running: {retry.group(1)}\.", output)
    assert left_in_queue(run_id(output)) == [] and not run.exists()
