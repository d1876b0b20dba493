"""What every job shares: its log (the file gets everything, the terminal little), clear
failures, atomic writes and the provenance of the code that ran."""

import errno
import os
import signal
import socket
import subprocess
import sys
import time
import warnings
from pathlib import Path
from types import SimpleNamespace

import pytest

from homework1.core.data import DataError
from homework1.core.files import atomic_write
from homework1.job.jobs import run_training_job
from homework1.job.joblog import attempts_log, job_log
from homework1.core.runs import code_provenance
from homework1.core.stopping import STOPPED_EXIT_STATUS, StopRequested, StopSignals

from conftest import REPO, workflow_environment


def test_the_file_gets_every_line_the_terminal_only_marked_ones(tmp_path, capfd):
    path = tmp_path / "logs" / "job.log"
    with job_log(path) as log:
        log("epoch", 1, "of", 2)
        log("the run's result", terminal=True)
        warnings.warn("a library's warning")
    terminal = capfd.readouterr().err
    assert terminal == "the run's result\n"
    text = path.read_text()
    assert "epoch 1 of 2" in text and "the run's result" in text and "a library's warning" in text


def test_a_data_error_is_one_line_naming_the_log(tmp_path, capfd):
    path = tmp_path / "job.log"
    with pytest.raises(SystemExit), job_log(path):
        raise DataError("data.npz: array 'x' is wrong")
    terminal = capfd.readouterr().err
    assert terminal == f"ERROR: data.npz: array 'x' is wrong (log: {path})\n"
    assert "array 'x' is wrong" in path.read_text()


@pytest.mark.parametrize("code, cause, remedy", [
    (errno.ENOSPC, "no space left on device", "free some space"),
    (errno.EDQUOT, "disk quota exceeded", "free some space"),
    (errno.EACCES, "permission denied", "make it writable"),
    (errno.EROFS, "read-only file system", "make it writable"),
])
def test_a_full_or_unwritable_disk_is_one_line_naming_path_cause_and_remedy(tmp_path, capfd, code, cause,
                                                                           remedy):
    with pytest.raises(SystemExit), job_log(tmp_path / "job.log"):
        raise OSError(code, "from the system", "results/x.pt")
    terminal = capfd.readouterr().err
    assert terminal.count("\n") == 1 and "Traceback" not in terminal
    assert f"cannot write results/x.pt: {cause}" in terminal and remedy in terminal
    assert "earlier results and checkpoints are unchanged" in terminal


def test_other_failures_keep_their_traceback(tmp_path, capfd):
    with pytest.raises(ZeroDivisionError), job_log(tmp_path / "job.log"):
        1 / 0
    terminal = capfd.readouterr().err
    assert "Traceback" in terminal and "ZeroDivisionError" in terminal
    assert f"(log: {tmp_path / 'job.log'})" in terminal


def test_atomic_write_keeps_the_previous_file_and_names_the_target(tmp_path):
    target = tmp_path / "out" / "state.pt"
    atomic_write(target, lambda tmp: Path(tmp).write_bytes(b"first"))

    def fail(tmp):
        Path(tmp).write_bytes(b"half")
        raise OSError(errno.ENOSPC, "No space left on device")

    with pytest.raises(OSError) as caught:
        atomic_write(target, fail)
    assert caught.value.errno == errno.ENOSPC and caught.value.filename == str(target)
    assert target.read_bytes() == b"first"
    assert sorted(p.name for p in target.parent.iterdir()) == ["state.pt"]  # no temporary file left


def test_atomic_write_leaves_the_name_of_a_file_elsewhere(tmp_path):
    # A copy whose source cannot be read is not a failure to write the target.
    target, source = tmp_path / "out" / "data.npz", tmp_path / "elsewhere" / "missing.npz"
    with pytest.raises(OSError) as caught:
        atomic_write(target, lambda tmp: Path(tmp).write_bytes(source.read_bytes()))
    assert caught.value.errno == errno.ENOENT and caught.value.filename == str(source)
    assert list(target.parent.iterdir()) == []


def git(directory, *args):
    subprocess.run(["git", "-C", str(directory), "-c", "user.name=t", "-c", "user.email=t@example.org", *args],
                   check=True, capture_output=True)


def test_provenance_names_the_commit_and_whether_the_tree_was_dirty(tmp_path):
    (tmp_path / "code.py").write_text("x = 1\n")
    (tmp_path / "sub").mkdir()
    git(tmp_path, "init", "-q")
    git(tmp_path, "add", ".")
    git(tmp_path, "commit", "-q", "-m", "first")
    head = subprocess.run(["git", "-C", str(tmp_path), "rev-parse", "HEAD"], capture_output=True,
                          text=True, check=True).stdout.strip()
    clean = code_provenance(tmp_path / "sub")
    assert clean["git_commit"] == head and clean["git_dirty"] is False and clean["host"]
    (tmp_path / "code.py").write_text("x = 2\n")
    assert code_provenance(tmp_path) == dict(clean, git_dirty=True)


def test_provenance_outside_a_repository_is_null(tmp_path):
    provenance = code_provenance(tmp_path)
    assert provenance["git_commit"] is None and provenance["git_dirty"] is None and provenance["host"]


def test_every_attempt_keeps_its_lines_in_the_attempts_log(tmp_path, capfd):
    path = tmp_path / "logs" / "seed1.log"
    with pytest.raises(SystemExit), job_log(path, header="run: attempt 1") as log:
        log("epoch 1 of 3")
        raise StopRequested("SIGTERM", 1, 3, "checkpoint written")
    assert capfd.readouterr().err == f"ERROR: stopped by SIGTERM after epoch 1 of 3: checkpoint written (log: {path})\n"
    path.unlink()  # what Snakemake does to a job's log before its next attempt
    with job_log(path, header="run: attempt 2") as log:
        log("resumed at epoch 1")
    attempts = attempts_log(path)
    assert attempts == tmp_path / "logs" / "seed1.attempts.log"
    lines = attempts.read_text().splitlines()
    assert [line.split(" ", 1)[1] for line in lines] == [
        "==== run: attempt 1", "epoch 1 of 3",
        "ERROR: stopped by SIGTERM after epoch 1 of 3: checkpoint written (log: " + str(path) + ")",
        "==== run: attempt 2", "resumed at epoch 1"]
    assert "attempt 1" not in path.read_text() and "resumed at epoch 1" in path.read_text()


def test_a_job_without_a_header_keeps_no_attempts_log(tmp_path):
    with job_log(tmp_path / "table.log") as log:
        log("drew")
    assert [p.name for p in tmp_path.iterdir()] == ["table.log"]


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGUSR1])
def test_a_signal_marks_a_stop_instead_of_ending_the_process(signum):
    before = signal.getsignal(signum)
    with StopSignals() as signals:
        assert signals.requested() is None
        os.kill(os.getpid(), signum)
        time.sleep(0.01)  # the handler runs at the next bytecode boundary
        assert signals.requested() == signal.Signals(signum).name
    assert signal.getsignal(signum) is before  # put back


def test_a_run_out_of_memory_says_so_naming_its_sizes(tmp_path, capfd, digits_npz):
    # torch's allocator refusing 40 GB (hidden_size 100000), as a job's terminal and log show it
    def train(model, splits, **options):
        raise RuntimeError("[enforce fail at alloc_cpu.cpp:117] data. DefaultCPUAllocator: can't allocate memory: "
                           "you tried to allocate 40000000000 bytes. Error code 12 (Cannot allocate memory)")

    hparams = {"model": "ffn", "epochs": 2, "batch_size": 64, "learning_rate": 0.01, "weight_decay": 0.0,
               "momentum": 0.0, "dropout": 0.3, "hidden_size": 100000, "layers": 2}
    snakemake = SimpleNamespace(
        wildcards=SimpleNamespace(dataset="digits", experiment="big", variant="default"),
        params=SimpleNamespace(seed=1, hparams=hparams, dataset={"name": "digits", "synthetic": False}),
        input=SimpleNamespace(data=str(digits_npz)), log=[str(tmp_path / "run.log")], resources={},
        output=SimpleNamespace(metrics=str(tmp_path / "m.csv"), summary=str(tmp_path / "s.json")),
        scriptdir=str(tmp_path))
    with pytest.raises(SystemExit):
        run_training_job(snakemake, "q2", train)
    terminal = capfd.readouterr().err.strip().splitlines()
    assert terminal == [f"ERROR: out of memory: ffn could not allocate its arrays ([enforce fail at alloc_cpu.cpp:117] "
                        f"data. DefaultCPUAllocator: can't allocate memory: you tried to allocate 40000000000 bytes. "
                        f"Error code 12 (Cannot allocate memory)); its sizes, hidden_size 100000, layers 2, batch_size "
                        f"64, set how large they are: lower them, or give the job more memory (the rule's mem_mb) "
                        f"(log: {tmp_path / 'run.log'})"]
    assert not (tmp_path / "s.json").exists()


# A training job that stops on a signal, run as its own process: a second signal arrives just as it
# writes its stop line (from a terminal's Ctrl-C a job has SIGINT from the terminal and SIGTERM from
# Snakemake, the second late under load).
LATE_SIGNAL_JOB = """
import logging, os, signal, sys
from types import SimpleNamespace
from homework1.job.jobs import run_training_job
from homework1.core.stopping import StopRequested

class LateSignal(logging.Filter):
    def filter(self, record):
        if record.levelno >= logging.ERROR:
            os.kill(os.getpid(), signal.SIGTERM)
        return True

def train(model, splits, stop, **options):
    os.kill(os.getpid(), signal.SIGINT)  # the stop, asked for during an epoch
    while not stop():
        pass
    raise StopRequested(stop(), 3, 100, "checkpoint c.pt written")

logging.getLogger("homework1").addFilter(LateSignal())
data, log = sys.argv[1:]
hparams = {"model": "ffn", "epochs": 100}
snakemake = SimpleNamespace(
    wildcards=SimpleNamespace(dataset="digits", experiment="long", variant="default"),
    params=SimpleNamespace(seed=1, hparams=hparams, dataset={"name": "digits", "synthetic": False}),
    input=SimpleNamespace(data=data), log=[log], resources={}, output=None, scriptdir=".")
run_training_job(snakemake, "q2", train)
"""


def test_a_stopped_job_says_so_even_when_a_second_signal_comes_as_it_ends(tmp_path, digits_npz):
    done = subprocess.run([sys.executable, "-c", LATE_SIGNAL_JOB, str(digits_npz), str(tmp_path / "run.log")],
                          capture_output=True, text=True, timeout=120,
                          env=workflow_environment(PYTHONPATH=str(REPO / "src")))
    assert done.returncode == STOPPED_EXIT_STATUS, (done.returncode, done.stderr)  # not killed by the SIGTERM
    assert done.stderr.strip() == (f"ERROR: stopped by SIGINT after epoch 3 of 100: checkpoint c.pt written "
                                   f"(log: {tmp_path / 'run.log'})")


@pytest.mark.parametrize("umask, mode", [(0o022, 0o644), (0o002, 0o664), (0o077, 0o600)],
                         ids=["umask 022", "umask 002", "umask 077"])
def test_an_atomic_write_has_the_mode_a_plain_open_gives(tmp_path, umask, mode):
    # on a shared cluster the group reads the results as the umask allows
    previous = os.umask(umask)
    try:
        atomic_write(tmp_path / "out" / "summary.json", lambda tmp: Path(tmp).write_text("{}\n"))
    finally:
        os.umask(previous)
    assert (tmp_path / "out" / "summary.json").stat().st_mode & 0o777 == mode


# A training job run as its own process, whose trainer waits (holding the run's lock) until a file appears.
WAITING_JOB = """
import sys, time
from pathlib import Path
from types import SimpleNamespace
from homework1.job.jobs import run_training_job

def train(model, splits, stop, **options):
    while not Path(sys.argv[3]).exists():
        time.sleep(0.05)
    raise SystemExit(0)

data, log = sys.argv[1:3]
snakemake = SimpleNamespace(
    wildcards=SimpleNamespace(dataset="digits", experiment="long", variant="default"),
    params=SimpleNamespace(seed=1, hparams={"model": "ffn", "epochs": 100},
                           dataset={"name": "digits", "synthetic": False}),
    input=SimpleNamespace(data=data), log=[log], resources={}, output=None, scriptdir=".")
run_training_job(snakemake, "q2", train)
"""


def test_a_second_trainer_of_a_run_stops_at_once_naming_the_first(tmp_path, digits_npz):
    log, release = tmp_path / "logs" / "seed1.log", tmp_path / "release"
    command = [sys.executable, "-c", WAITING_JOB, str(digits_npz), str(log), str(release)]
    environment = workflow_environment(PYTHONPATH=str(REPO / "src"))
    first = subprocess.Popen(command, stderr=subprocess.PIPE, text=True, env=environment)
    try:
        deadline = time.monotonic() + 60
        while not (log.exists() and "attempt 1" in log.read_text()) and time.monotonic() < deadline:
            time.sleep(0.05)
        second = subprocess.run(command, capture_output=True, text=True, timeout=60, env=environment)
        assert second.returncode == 1
        lines = second.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith(
            f"ERROR: q2/long/default seed 1: another trainer of this run is running (host {socket.gethostname()}, "
            f"process {first.pid}, since ")
        assert "so this one stops" in lines[0] and first.poll() is None  # the first trains on
    finally:
        release.touch()
        first.wait(timeout=60)
    assert first.returncode == 0
    # the kernel released the lock with the first: a third trainer goes ahead
    release.unlink()
    third = subprocess.Popen(command, stderr=subprocess.PIPE, text=True, env=environment)
    time.sleep(1)
    release.touch()
    assert third.wait(timeout=60) == 0, third.stderr.read()


def test_a_job_stops_at_the_end_of_an_epoch_once_its_snakemake_has_ended():
    from homework1.core.stopping import WORKFLOW_PROCESS, WorkflowWatch, process_identity

    parent = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        watch = WorkflowWatch({WORKFLOW_PROCESS: process_identity(parent.pid)}, every=0)
        assert watch.ended() is None
    finally:
        parent.kill()
        parent.wait()
    assert watch.ended() == f"the end of its Snakemake (process {parent.pid})"
    assert WorkflowWatch({}).ended() is None  # a job run by hand has no workflow to outlive
    # a process that took the number of the one that ended is not taken for it
    assert WorkflowWatch({WORKFLOW_PROCESS: f"{os.getpid()} 1.0"}, every=0).ended() is not None
