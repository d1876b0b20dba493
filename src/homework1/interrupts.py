"""One interrupt stops a local run cleanly: its jobs save their work and end, in a few lines.

Snakemake forwards no signal to the jobs it runs on this machine (each a shell running the
job's script, in a thread of Snakemake's own process). On SIGINT it stops scheduling and
waits for the running jobs to end by themselves, so a ``kill -INT`` to Snakemake alone let
every training run go on to its last epoch. A terminal's Ctrl-C reaches every process of the
foreground group instead, and every script printed its traceback. So:

- every job's shell starts with ``SHELL_PREFIX``: the job ignores SIGINT unless it handles it
  (a training run marks a stop, as on SIGTERM: ``homework1.stopping``);
- in Snakemake's process, ``stop_jobs_on_interrupt``: the first SIGINT sends SIGTERM to the
  jobs' own processes, the leaves of its process tree. A training run saves its checkpoint at
  the end of its epoch and ends; another job ends at once. One line says so, and how to
  resume; then Snakemake stops as it does, waiting for them. A second SIGINT only says that
  it is still waiting. Snakemake's error block for a job that was stopped is left out: the job
  said so in its own line.

On a cluster the executor cancels the jobs itself; the handler is not installed there.
"""

from __future__ import annotations

import logging
import signal
import sys

from homework1.stopping import STOPPED_EXIT_STATUS
from homework1.terminal import say

# Snakemake's own prefix (bash's strict mode, which a prefix of one's own replaces), then SIGINT
# ignored: an ignored signal stays ignored in the programs a shell starts.
SHELL_PREFIX = "set -euo pipefail; trap '' INT; "


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
        say(f"Interrupted: {len(jobs)} running job process(es) asked to stop; a training run saves its "
            f"checkpoint at the end of its epoch, then ends. {self.resume}", self.out)
        raise KeyboardInterrupt  # Snakemake's own stop: no new jobs, wait for the running ones

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        stopped = f"returned non-zero exit status {STOPPED_EXIT_STATUS}." in message or (
            self.interrupted and "died with <Signals.SIGTERM" in message)
        return not stopped


def stop_jobs_on_interrupt(resume: str) -> None:
    """In Snakemake's process, running jobs on this machine: the first SIGINT stops them (see the module)."""
    handler = StopJobsOnInterrupt(resume)
    signal.signal(signal.SIGINT, handler)
    logging.getLogger("snakemake.logging").addFilter(handler)
