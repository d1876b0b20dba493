"""The CI's own scripts, where they can be checked without starting anything."""

import os
import signal
import subprocess

import pytest

from conftest import REPO

START_LOCAL_SLURM = REPO / ".ci" / "start_local_slurm"


def check_for_a_cluster(tmp_path, fake_sinfo: str) -> subprocess.CompletedProcess:
    """``start_local_slurm --check`` with ``fake_sinfo`` (a shell script's body) first on PATH."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "sinfo").write_text("#!/bin/sh\n" + fake_sinfo + "\n")
    (bin_dir / "sinfo").chmod(0o755)
    environment = dict(os.environ, PATH=f"{bin_dir}{os.pathsep}{os.environ['PATH']}", SLURM_PROBE_SECONDS="1")
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


def test_a_cluster_that_answers_is_kept(tmp_path):
    result = check_for_a_cluster(tmp_path, "echo idle")
    assert result.returncode == 0 and "SLURM already running" in result.stdout
