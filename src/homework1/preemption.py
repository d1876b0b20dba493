"""A job that the SLURM cluster preempted and cancelled is queued again: the workflow never waits for ever.

The SLURM executor plugin (2.8) takes a job in state PREEMPTED for one that still runs, and leaves
it to SLURM. Where the cluster requeues preempted jobs (``PreemptMode=REQUEUE``) that is right: the
job turns PENDING and runs again. Where it cancels them (``PreemptMode=CANCEL``) PREEMPTED is the
job's last state, and the workflow waited for it for ever. So while a workflow submits to SLURM,
``RequeuePreempted`` (a thread of Snakemake's process) looks every ``interval`` seconds (the config's
``slurm_requeue_every``) for the workflow's own jobs (named by the plugin's run id, as the plugin
itself finds them) that ended PREEMPTED, and requeues each with ``scontrol requeue``: it runs
again, a training run resumes from its checkpoint, and the plugin sees it end. SLURM holds a
requeued job back for two minutes, to no purpose here (the preempting job has the node): its start
is set to now. One line says so. A job the cluster refuses to requeue stops the workflow, as a
Ctrl-C would (its jobs are cancelled), with one line naming the job and SLURM's answer.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading

from homework1.terminal import say

# Every call to SLURM has a time limit: a controller that does not answer is asked again next time.
CALL_SECONDS = 30


def slurm(*command: str) -> subprocess.CompletedProcess:
    return subprocess.run(command, capture_output=True, text=True, timeout=CALL_SECONDS)


class RequeuePreempted(threading.Thread):
    """Requeues this workflow's preempted SLURM jobs (see the module) until the process ends."""

    def __init__(self, job_name: str, interval: float, out=sys.stderr):
        super().__init__(name="requeue-preempted", daemon=True)
        self.job_name, self.interval, self.out = job_name, interval, out
        self.stopping = threading.Event()  # not Thread._stop, which the thread's own ending calls

    def look(self) -> None:
        """One look: requeue every preempted job of this workflow, or stop the workflow."""
        try:
            listed = slurm("squeue", "--noheader", "--states=PREEMPTED", "--format=%i", "--name", self.job_name)
        except (OSError, subprocess.TimeoutExpired):
            return  # asked again at the next look
        for job in listed.stdout.split():
            try:
                done = slurm("scontrol", "requeue", job)
                answer = (done.stderr or done.stdout).strip()
            except (OSError, subprocess.TimeoutExpired) as err:
                done, answer = None, str(err)
            if done is not None and done.returncode == 0:
                with contextlib.suppress(OSError, subprocess.TimeoutExpired):
                    slurm("scontrol", "update", f"JobId={job}", "StartTime=now")
                say(f"SLURM job {job} was preempted and cancelled by the cluster: requeued it "
                    f"(scontrol requeue {job}); it runs again and resumes from its checkpoint.", self.out)
            else:
                say(f"ERROR: SLURM job {job} was preempted and cancelled by the cluster, and could not be "
                    f"requeued (scontrol requeue {job}: {answer or 'no answer'}); the plugin would wait "
                    f"for it for ever, so the workflow stops. Run it again to resubmit the job.", self.out)
                os.kill(os.getpid(), signal.SIGINT)  # Snakemake's own stop: its jobs are cancelled
                self.stopping.set()
                return

    def run(self) -> None:
        while not self.stopping.wait(self.interval):
            self.look()


def requeue_preempted(job_name: str, interval: float) -> RequeuePreempted:
    """Start looking for the preempted jobs named ``job_name`` (see the module)."""
    watcher = RequeuePreempted(job_name, interval)
    watcher.start()
    return watcher
