"""Stopping a run cleanly at the end of its epoch, its work saved, when the scheduler asks or its
workflow is gone.

While ``StopSignals`` is active, SIGTERM (SLURM's warning before SIGKILL), SIGUSR1 (``--signal``),
SIGINT and SIGHUP only mark a stop; a trainer that looks at ``requested`` after each epoch saves
what it can and raises ``StopRequested``, and the job exits with ``STOPPED_EXIT_STATUS``. A job
whose Snakemake has ended (``WORKFLOW_PROCESS``, inherited from the workflow) stops the same way.
"""

from __future__ import annotations

import os
import signal
import threading
import time

# The exit status of a job stopped on request (EX_TEMPFAIL: a temporary failure, try again).
STOPPED_EXIT_STATUS = 75
# SIGINT: a Ctrl-C in the terminal reaches the job too; SIGHUP: the terminal closed (homework1.job.interrupts)
SIGNALS = (signal.SIGTERM, signal.SIGUSR1, signal.SIGINT, signal.SIGHUP)
# The environment variable naming the Snakemake process whose jobs these are: "<pid> <start time>".
WORKFLOW_PROCESS = "HOMEWORK1_WORKFLOW_PROCESS"


class StopRequested(Exception):
    """A signal asked the run to stop; raised at the end of an epoch, its work saved where it can be."""

    def __init__(self, signal_name: str, epoch: int, epochs: int, saved: str):
        self.signal_name, self.epoch = signal_name, epoch
        super().__init__(f"stopped by {signal_name} after epoch {epoch} of {epochs}: {saved}")


def process_identity(pid: int) -> str | None:
    """A process named so that another one given its number later is not taken for it: "<pid> <start
    time>" (None once it has ended)."""
    import psutil  # a dependency of Snakemake

    try:
        return f"{pid} {psutil.Process(pid).create_time()!r}"
    except psutil.NoSuchProcess:
        return None


class WorkflowWatch:
    """Whether the Snakemake that started this job (``WORKFLOW_PROCESS``) has ended; looked at no more
    often than every ``every`` seconds. Without the variable (a job run by hand) it never has."""

    def __init__(self, environ=os.environ, every: float = 1.0):
        self.process, self.every = environ.get(WORKFLOW_PROCESS), every
        self.last_look, self.gone = -every, None

    def ended(self) -> str | None:
        """Why the run should stop, once its Snakemake has ended; else None."""
        if self.process is None or self.gone:
            return self.gone
        if time.monotonic() - self.last_look >= self.every:
            self.last_look = time.monotonic()
            pid = int(self.process.split()[0])
            if process_identity(pid) != self.process:
                self.gone = f"the end of its Snakemake (process {pid})"
        return self.gone


class StopSignals:
    """While active (a context), SIGTERM, SIGUSR1, SIGINT and SIGHUP mark a stop instead of ending the
    process; ``requested()`` is the name of the first signal received or, once the job's Snakemake
    has ended, that (``WorkflowWatch``), else None. The previous handlers are put back on exit.
    Outside the main thread (where Python cannot catch signals) it catches none."""

    def __init__(self, workflow: WorkflowWatch | None = None):
        self.received: str | None = None
        self.workflow = workflow if workflow is not None else WorkflowWatch()
        self._previous: dict = {}

    def requested(self) -> str | None:
        return self.received or self.workflow.ended()

    def _mark(self, signum, frame) -> None:
        self.received = self.received or signal.Signals(signum).name

    def __enter__(self) -> StopSignals:
        if threading.current_thread() is threading.main_thread():
            self._previous = {signum: signal.signal(signum, self._mark) for signum in SIGNALS}
        return self

    def __exit__(self, *exc) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)
