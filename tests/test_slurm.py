"""The unchanged workflow on a SLURM cluster, through the repository's SLURM profile.

Needs a cluster that answers `sinfo` (CI starts a one-node one with
.ci/start_local_slurm); skipped elsewhere. Without SLURM's accounting daemon
the executor plugin polls job states with squeue.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from conftest import REPO, TINY, Workspace, snakemake_command, tiny


def cluster_answers() -> bool:
    """The CI script's own probe, with its time limit: a stale configuration does not hang the tests."""
    return subprocess.run(["bash", str(REPO / ".ci/start_local_slurm"), "--check"], capture_output=True).returncode == 0


pytestmark = pytest.mark.skipif(not cluster_answers(), reason="no SLURM cluster answers sinfo")


def submit(workspace: Workspace, config: dict, *args: str) -> subprocess.CompletedProcess:
    """The workflow of ``workspace`` sent to the cluster through the repository's SLURM profile."""
    command = snakemake_command(
        workspace.work, config, "--workflow-profile", str(workspace.repo / "workflow/profiles/slurm"),
        "--slurm-status-command", "squeue", "--slurm-init-seconds-before-status-checks", "2",
        "--slurm-no-account", "--seconds-between-status-checks", "1", "--jobs", "4", *args, repo=workspace.repo,
    )
    # jobs start `python -m snakemake` on the node: it must find this environment's
    environment = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    return subprocess.run(command, capture_output=True, text=True, timeout=900, env=environment)


def test_workflow_runs_on_slurm_through_the_profile(workspace):
    config = tiny(q1={"perceptron": TINY["q1"]["perceptron"]}, q2={"ffn_batch": TINY["q2"]["ffn_batch"]})
    result = submit(workspace, config)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output

    # only the jobs that compute go to the cluster: the data set, the three training runs and the Q3
    # checks; tables, figures and the report are local rules, run on the submitting host
    submitted = re.findall(r"has been submitted with SLURM jobid \d+ \(log: .*/slurm_logs/rule_(\w+)/", output)
    assert sorted(submitted) == ["dataset", "q3_checks", "train_q1", "train_q2", "train_q2"]
    summary = pd.read_csv(workspace.work / "results/tables/summary.csv")
    assert sorted(summary["experiment"]) == ["ffn_batch", "ffn_batch", "perceptron"]
    torch_run = json.loads(
        (workspace.work / "results/runs/digits/q2/ffn_batch/batch_size~64/seed1/summary.json").read_text())
    assert torch_run["status"] == "ok" and torch_run["device"] == "cpu"
    assert (workspace.work / "results/report.md").exists()


def test_a_device_this_machine_lacks_is_left_to_the_cluster_nodes(workspace):
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA: nothing to leave to the nodes")
    # a local run would stop here (tests/test_configuration.py); jobs sent to a cluster go ahead
    result = submit(workspace, TINY, "resources/datasets/digits.npz", "--config", "device=cuda")
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "cannot be used on this machine" not in output
    assert (workspace.work / "resources/datasets/digits.npz").exists()
