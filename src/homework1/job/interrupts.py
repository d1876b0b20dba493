"""One interrupt stops a local run cleanly: its jobs save their work and end, in a few lines.

Snakemake forwards no signal to the jobs it runs on this machine, and on SIGINT waits for them to
end by themselves; a terminal's Ctrl-C reaches every process of the foreground group. So:

- every job's shell starts with ``SHELL_PREFIX``: the job ignores SIGINT and SIGHUP unless it
  handles them (a training run marks a stop, as on SIGTERM: ``homework1.core.stopping``);
- in Snakemake's process, ``stop_jobs_on_interrupt``: the first SIGINT or SIGHUP sends SIGTERM to
  the jobs' own processes and says in one line how to resume; Snakemake then stops as on SIGINT
  and releases its lock. Snakemake's error block for a stopped job is left out.
- ``NameKilledJobs``: a job killed by a signal nobody asked for (kill -9, out of memory) gets one
  line naming its run, its log and the signal.

On a cluster the executor cancels the jobs itself; the handler is not installed there.
"""

from __future__ import annotations

import logging
import re
import signal
import sys
import threading

from homework1.core.stopping import STOPPED_EXIT_STATUS
from homework1.plan.study import run_identity
from homework1.core.terminal import say

# Snakemake's own prefix (bash's strict mode, which a prefix of one's own replaces), then SIGINT and
# SIGHUP ignored: an ignored signal stays ignored in the programs a shell starts.
SHELL_PREFIX = "set -euo pipefail; trap '' INT HUP; "
# What the terminal is told of each signal the workflow stops on.
STOP_CAUSES = {signal.SIGINT: "Interrupted", signal.SIGHUP: "Hung up (SIGHUP: the terminal closed)"}


def job_processes() -> list:
    """The processes doing this Snakemake's jobs: its descendants that have no children."""
    import psutil  # a dependency of Snakemake

    processes = []
    for process in psutil.Process().children(recursive=True):
        try:
            if not process.children():
                processes.append(process)
        except psutil.NoSuchProcess:
            pass
    return processes


class StopJobsOnInterrupt:
    """The SIGINT handler of a Snakemake that runs its jobs on this machine (see the module), and
    the filter that leaves out Snakemake's error block for a job it stopped."""

    def __init__(self, resume: str, out=sys.stderr):
        self.resume, self.out = resume, out
        self.interrupted = False

    def __call__(self, signum, frame):
        import psutil

        jobs = job_processes()
        for process in jobs:
            try:
                process.send_signal(signal.SIGTERM)
            except psutil.NoSuchProcess:
                pass
        if self.interrupted:
            say(f"Still stopping: {len(jobs)} job process(es) left, each ends at the end of its epoch.", self.out)
            return
        self.interrupted = True
        say(f"{STOP_CAUSES.get(signum, 'Interrupted')}: {len(jobs)} running job process(es) asked to stop; a "
            f"training run saves its checkpoint at the end of its epoch, then ends. {self.resume}", self.out)
        raise KeyboardInterrupt  # Snakemake's own stop: no new jobs, wait for the running ones

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        stopped = f"returned non-zero exit status {STOPPED_EXIT_STATUS}." in message or (
            self.interrupted and "died with <Signals.SIGTERM" in message)
        return not stopped


def stop_jobs_on_interrupt(resume: str) -> None:
    """In Snakemake's process, running jobs on this machine: the first SIGINT or SIGHUP stops them (see
    the module)."""
    handler = StopJobsOnInterrupt(resume)
    for signum in STOP_CAUSES:
        signal.signal(signum, handler)
    log = logging.getLogger("snakemake.logging")
    log.addFilter(handler)
    log.addFilter(NameKilledJobs())


class NameKilledJobs(logging.Filter):
    """A filter of Snakemake's log: a job that died of a signal is named in one line.

    Snakemake logs the death (naming a temporary script), then the job's error with its rule and
    log: the first is left out, and the line is said when the second comes."""

    def __init__(self, out=sys.stderr):
        super().__init__()
        self.out = out
        self.deaths: dict[int, str] = {}  # thread -> the signal its job died of

    def filter(self, record: logging.LogRecord) -> bool:
        died = re.search(r"died with <Signals\.(SIG\w+)", record.getMessage())
        if died:
            self.deaths[threading.get_ident()] = died[1]
            return False
        signal_name = self.deaths.pop(threading.get_ident(), None)
        if signal_name and str(getattr(record, "event", "")) == "job_error":
            say(killed_job_line(record.rule_name, list(record.log or []), signal_name), self.out)
        return True


def killed_job_line(rule: str, logs: list[str], signal_name: str) -> str:
    """One line for a job that died of ``signal_name``: its run (or rule), its log, what to do."""
    try:
        run = run_identity(logs[0])
        what = f"{run['question']}/{run['experiment']}/{run['variant']} seed {run['seed']}"
    except (IndexError, ValueError):
        what = f"a job of rule {rule}"
    where = f" (log: {logs[0]})" if logs else ""
    return (f"ERROR: {what} was killed by {signal_name}{where}: a SIGKILL comes from kill -9 or from the system "
            f"when memory runs out. Run the workflow again to redo it (a torch run resumes from its checkpoint)")
