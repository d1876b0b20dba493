"""The CI's own scripts, where they can be checked without starting anything."""

import os
import re
import signal
import subprocess

import pytest

from conftest import REPO

START_LOCAL_SLURM = REPO / ".ci" / "start_local_slurm"


def check_for_a_cluster(tmp_path, fake_sinfo: str, configuration: str = "") -> subprocess.CompletedProcess:
    """``start_local_slurm --check`` with ``fake_sinfo`` (a shell script's body) first on PATH, and a
    slurm.conf of ``configuration``."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "sinfo").write_text("#!/bin/sh\n" + fake_sinfo + "\n")
    (bin_dir / "sinfo").chmod(0o755)
    (tmp_path / "slurm.conf").write_text(configuration)
    environment = dict(os.environ, PATH=f"{bin_dir}{os.pathsep}{os.environ['PATH']}", SLURM_PROBE_SECONDS="1",
                       SLURM_CONF=str(tmp_path / "slurm.conf"))
    process = subprocess.Popen(["bash", str(START_LOCAL_SLURM), "--check"], env=environment, text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    try:
        stdout, stderr = process.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)  # the script and the fake sinfo it waits for
        process.communicate()
        pytest.fail("start_local_slurm waited without end for a cluster that does not answer")
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


def test_a_cluster_that_does_not_answer_is_given_up_on_in_time(tmp_path):
    # what sinfo does with a stale slurm.conf: wait for a controller that never answers
    result = check_for_a_cluster(tmp_path, "exec sleep 600")
    assert result.returncode == 1
    assert "no SLURM cluster answers within 1 s" in result.stderr


def current_configuration() -> str:
    """The first line of the slurm.conf the script writes: its version."""
    return re.search(r'^version="(.*)"$', START_LOCAL_SLURM.read_text(), re.M).group(1) + "\nClusterName=local\n"


def test_a_cluster_that_answers_is_kept(tmp_path):
    result = check_for_a_cluster(tmp_path, "echo idle", current_configuration())
    assert result.returncode == 0 and "SLURM already running" in result.stdout


def test_a_cluster_of_an_older_configuration_is_not_taken_for_this_one(tmp_path):
    # a cluster started by an earlier version of the script lacks the partitions the tests preempt in
    result = check_for_a_cluster(tmp_path, "echo idle", "ClusterName=local\n")
    assert result.returncode == 1
    assert "the SLURM cluster that answers runs an older configuration" in result.stderr
