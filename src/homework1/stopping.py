"""Stopping a run cleanly when the scheduler asks: at the end of the epoch, its work saved.

SLURM sends SIGTERM before it kills a job (scancel, preemption, a time limit:
KillWait, 30 s by default, before SIGKILL) and, with ``--signal=USR1@N``,
SIGUSR1 N seconds before the time limit. While ``StopSignals`` is active either
signal only marks that a stop was asked for; a trainer that looks at
``requested`` after each epoch saves what it can (a Question 2 run writes its
checkpoint) and raises ``StopRequested``, and the job ends non-zero with one
line saying so, with exit status ``STOPPED_EXIT_STATUS``. Its retry resumes from the checkpoint.
"""

from __future__ import annotations

import signal
import threading

# The exit status of a job stopped on request (EX_TEMPFAIL: a temporary failure, try again).
STOPPED_EXIT_STATUS = 75
# SIGINT: a Ctrl-C in the terminal reaches the job too (homework1.interrupts)
SIGNALS = (signal.SIGTERM, signal.SIGUSR1, signal.SIGINT)


class StopRequested(Exception):
    """A signal asked the run to stop; raised at the end of an epoch, its work saved where it can be."""

    def __init__(self, signal_name: str, epoch: int, epochs: int, saved: str):
        self.signal_name, self.epoch = signal_name, epoch
        super().__init__(f"stopped by {signal_name} after epoch {epoch} of {epochs}: {saved}")


class StopSignals:
    """While active (a context), SIGTERM, SIGUSR1 and SIGINT mark a stop instead of ending the process;
    ``requested()`` is the name of the first signal received, or None. The previous handlers are
    put back on exit. Outside the main thread (where Python cannot catch signals) it does nothing."""

    def __init__(self):
        self.received: str | None = None
        self._previous: dict = {}

    def requested(self) -> str | None:
        return self.received

    def _mark(self, signum, frame) -> None:
        self.received = self.received or signal.Signals(signum).name

    def __enter__(self) -> StopSignals:
        if threading.current_thread() is threading.main_thread():
            self._previous = {signum: signal.signal(signum, self._mark) for signum in SIGNALS}
        return self

    def __exit__(self, *exc) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)
