"""The workflow's watch over its SLURM jobs: no job is waited for for ever, and a stop ends the workflow.

The SLURM executor plugin (2.8) would wait for ever for a job that

- the cluster preempted and cancelled (``PreemptMode=CANCEL``: the plugin takes PREEMPTED for
  running). It is requeued (``scontrol requeue``, its start set to now) and resumes from its
  checkpoint; one the cluster refuses to requeue stops the workflow;
- SLURM can never start (more CPUs or memory than any node of its partition: pending for
  ``PartitionConfig``). Every cluster job or group is compared with its partition's nodes before
  any submission (``too_large_for_the_cluster``); one found pending so later stops the workflow.

``Watch``, a thread of Snakemake's process, looks for both every ``interval`` seconds
(``slurm_watch_every``). To stop, it reports an executor error to Snakemake's scheduler, which
submits nothing more and shuts down; ``cancel_left_jobs`` (from ``onerror``) then cancels the run's
jobs still queued, and ``end_waits_on_shutdown`` ends the plugin's status sleep within a second.
Why this way: docs/design.md, "The workflow stops itself through the executor".
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import subprocess
import sys
import threading
from dataclasses import dataclass

from homework1.core.terminal import SNAKEMAKE_LOGGER, say

# Every call to SLURM has a time limit: a controller that does not answer is asked again next time.
CALL_SECONDS = 30
# How soon the plugin's wait between two looks at its jobs ends once Snakemake shuts down.
SHUTDOWN_WAKE_SECONDS = 1.0
# squeue's fields for the jobs of a run, whole and separated by "|"
JOB_FIELDS = "JobID:|,Reason:|,tres-alloc:|,Partition:|,Comment:"
MEMORY_UNITS_MB = {"K": 1 / 1024, "M": 1, "G": 1024, "T": 1024**2}


def slurm(*command: str) -> subprocess.CompletedProcess:
    return subprocess.run(command, capture_output=True, text=True, timeout=CALL_SECONDS)


# ---------------------------------------------------------------- what the cluster has, what a job asks


@dataclass(frozen=True)
class Node:
    name: str
    cpus: int
    mem_mb: int

    def holds(self, cpus: int | None, mem_mb: int | None) -> bool:
        return (cpus is None or cpus <= self.cpus) and (mem_mb is None or mem_mb <= self.mem_mb)

    def __str__(self) -> str:
        return f"{self.name}: {request(self.cpus, self.mem_mb, ', ')}"


def request(cpus: int | None, mem_mb: int | None, joined: str = " and ") -> str:
    """CPUs and memory in words ("15 CPUs and 60000 MB"), leaving out what is None."""
    parts = (cpus and f"{cpus} CPU{'s' if cpus > 1 else ''}", mem_mb and f"{mem_mb} MB")
    return joined.join(part for part in parts if part) or "nothing in particular"


@dataclass(frozen=True)
class Partitions:
    """The cluster's partitions and their nodes (``sinfo``), and the default partition."""

    nodes: dict[str, tuple[Node, ...]]
    default: str | None

    @classmethod
    def parse(cls, listed: str) -> Partitions:
        """From ``sinfo --noheader --Node --format=%P|%N|%c|%m`` (the default partition ends in "*")."""
        nodes, default = {}, None
        for line in listed.splitlines():
            try:
                partition, name, cpus, mem_mb = line.strip().split("|")
                node = Node(name, int(cpus), int(mem_mb))
            except ValueError:  # not a node's line
                continue
            if partition.endswith("*"):
                partition = default = partition[:-1]
            nodes[partition] = nodes.get(partition, ()) + (node,)
        return cls(nodes, default)

    def largest(self, partition: str) -> Node:
        """The partition's node with the most CPUs (then memory)."""
        return max(self.nodes[partition], key=lambda node: (node.cpus, node.mem_mb))

    def too_large(self, partition: str | None, cpus: int | None, mem_mb: int | None) -> str | None:
        """Why a job asking for ``cpus`` and ``mem_mb`` in ``partition`` (None: the default one) can
        never start, or None where some node of it holds the job (or the partition is unknown)."""
        partition = partition or self.default
        if partition not in self.nodes or any(node.holds(cpus, mem_mb) for node in self.nodes[partition]):
            return None
        return (f"asks for {request(cpus, mem_mb)}, more than the largest node of partition {partition} has "
                f"({self.largest(partition)})")


def cluster_partitions() -> Partitions | None:
    """The cluster's partitions, or None where ``sinfo`` does not answer."""
    try:
        listed = slurm("sinfo", "--noheader", "--Node", "--format=%P|%N|%c|%m")
    except (OSError, subprocess.TimeoutExpired):
        return None
    return Partitions.parse(listed.stdout) if listed.returncode == 0 else None


def memory_mb(text: str) -> int:
    """A SLURM memory size ("60000M", "20G") in MB."""
    size = re.fullmatch(r"(\d+(?:\.\d+)?)([KMGT]?)", text)
    if not size:
        raise ValueError(f"not a SLURM memory size: {text!r}")
    return round(float(size.group(1)) * MEMORY_UNITS_MB[size.group(2) or "M"])


@dataclass(frozen=True)
class QueuedJob:
    """A job of the run as squeue lists it (``JOB_FIELDS``)."""

    id: str
    reason: str
    cpus: int | None
    mem_mb: int | None
    partition: str
    comment: str  # the plugin's: the rule (or group) and its wildcards

    @classmethod
    def parse(cls, line: str) -> QueuedJob:
        """One line of squeue's (ValueError for another line)."""
        job, reason, tres, partition, comment = line.strip().split("|", 4)
        asked = dict(item.split("=", 1) for item in tres.split(",") if "=" in item)
        cpus = int(asked["cpu"]) if "cpu" in asked else None
        mem_mb = memory_mb(asked["mem"]) if "mem" in asked else None
        return cls(job, reason, cpus, mem_mb, partition, comment)

    def never_starts(self, partitions: Partitions | None) -> str | None:
        """Why this pending job can never start (None where it may): it asks for more than any node of
        its partition has, or SLURM keeps it pending for PartitionConfig (its partition's limits)."""
        too_large = partitions and partitions.too_large(self.partition, self.cpus, self.mem_mb)
        if not too_large and self.reason != "PartitionConfig":
            return None
        why = too_large or (f"asks for {request(self.cpus, self.mem_mb)} in partition {self.partition}, more than "
                            f"its limits allow (scontrol show partition {self.partition})")
        return (f"ERROR: SLURM job {self.id} ({self.comment}) {why}: it can never start (SLURM keeps it pending: "
                f"{self.reason}), so the workflow stops. Ask for less (--set-resources; a job group asks for its "
                f"jobs side by side up to --cores) or another partition (slurm_partition), and run it again.")


def job_request(job) -> tuple[int | None, int | None]:
    """The CPUs and memory (MB) that the SLURM plugin asks for a Snakemake job or job group, as it does:
    its ``cpus_per_task`` or else its threads; its ``mem_mb_per_cpu`` times those, or else ``mem_mb``.
    None for what it leaves to SLURM (or what is not known before the job's inputs exist)."""
    resources = job.resources
    cpus = resources.get("cpus_per_task") or job.threads
    cpus = cpus if isinstance(cpus, int) and cpus > 0 else None
    per_cpu = resources.get("mem_mb_per_cpu")
    mem_mb = per_cpu * cpus if isinstance(per_cpu, int) and per_cpu > 0 and cpus else resources.get("mem_mb")
    return cpus, (mem_mb if isinstance(mem_mb, int) and mem_mb > 0 else None)


def describe(job) -> str:
    """A Snakemake job (rule and wildcards) or job group (its rules), as the message names it."""
    if job.is_group():
        rules = sorted({member.rule.name for member in job.jobs})
        return f"group {job.groupid} ({len(job.jobs)} jobs of {', '.join(rules)})"
    wildcards = ", ".join(f"{name}={value}" for name, value in job.wildcards_dict.items())
    return f"rule {job.rule.name}" + (f" ({wildcards})" if wildcards else "")


def too_large_for_the_cluster(jobs, partitions: Partitions) -> str | None:
    """Why some of ``jobs`` (Snakemake jobs or groups, as they will be submitted) can never start on
    the cluster (None if each fits a node of its partition)."""
    problems = []
    for job in jobs:
        cpus, mem_mb = job_request(job)
        if why := partitions.too_large(job.resources.get("slurm_partition"), cpus, mem_mb):
            problems.append((job, why))
    if not problems:
        return None
    job, why = problems[0]
    advice = (f"A job group asks for its jobs side by side up to --cores: give at most a node's CPUs "
              f"(--cores {partitions.largest(job.resources.get('slurm_partition') or partitions.default).cpus})"
              if job.is_group() else "Ask for less (--set-resources) or another partition (slurm_partition)")
    more = f" ({len(problems) - 1} more cluster jobs are too large too)" if len(problems) > 1 else ""
    return f"the SLURM job of {describe(job)} {why}: SLURM would keep it pending for ever{more}. {advice}"


# ---------------------------------------------------------------- the watch, and the workflow's own stop


class WorkflowStop(Exception):
    """The workflow stops itself; the line that says why is already on the terminal."""


class Watch(threading.Thread):
    """Looks after this workflow's SLURM jobs (see the module) until the process ends."""

    def __init__(self, run: str, scheduler, interval: float, out=sys.stderr):
        super().__init__(name="slurm-watch", daemon=True)
        self.run_id, self.scheduler, self.interval, self.out = run, scheduler, interval, out
        self.stopping = threading.Event()  # not Thread._stop, which the thread's own ending calls

    def end(self) -> None:
        """The workflow ended with an error: look no more, and cancel the run's jobs left queued or running."""
        self.stopping.set()
        cancel_left_jobs(self.run_id, self.out)

    def stop_workflow(self, line: str) -> None:
        """Say why, and stop the workflow: Snakemake submits nothing more and shuts down at once."""
        say(line, self.out)
        self.stopping.set()
        self.scheduler.executor_error_callback(WorkflowStop(line))

    def jobs(self, state: str) -> list[QueuedJob] | None:
        """The run's jobs in ``state`` (None where squeue does not answer: asked again next time)."""
        try:
            listed = slurm("squeue", "--noheader", f"--states={state}", "--name", self.run_id, f"--Format={JOB_FIELDS}")
        except (OSError, subprocess.TimeoutExpired):
            return None
        jobs = []
        for line in listed.stdout.splitlines():
            with contextlib.suppress(ValueError):  # not a job's line
                jobs.append(QueuedJob.parse(line))
        return jobs

    def requeue_preempted(self) -> None:
        """Requeue every preempted job of the run, or stop the workflow."""
        for job in self.jobs("PREEMPTED") or []:
            try:
                done = slurm("scontrol", "requeue", job.id)
                answer = (done.stderr or done.stdout).strip()
            except (OSError, subprocess.TimeoutExpired) as err:
                done, answer = None, str(err)
            if done is not None and done.returncode == 0:
                with contextlib.suppress(OSError, subprocess.TimeoutExpired):
                    slurm("scontrol", "update", f"JobId={job.id}", "StartTime=now")
                say(f"SLURM job {job.id} was preempted and cancelled by the cluster: requeued it "
                    f"(scontrol requeue {job.id}); it runs again and resumes from its checkpoint.", self.out)
            else:
                self.stop_workflow(
                    f"ERROR: SLURM job {job.id} was preempted and cancelled by the cluster, and could not be "
                    f"requeued (scontrol requeue {job.id}: {answer or 'no answer'}); the plugin would wait for it "
                    f"for ever, so the workflow stops. Run it again to resubmit the job.")
                return

    def stop_if_one_never_starts(self) -> None:
        pending = self.jobs("PENDING")
        if not pending:
            return
        partitions = cluster_partitions()
        for job in pending:
            if line := job.never_starts(partitions):
                self.stop_workflow(line)
                return

    def run(self) -> None:
        while not self.stopping.wait(self.interval):
            try:
                self.requeue_preempted()
                if not self.stopping.is_set():
                    self.stop_if_one_never_starts()
            except Exception as err:  # the watch goes on: a job it missed now, it finds at the next look
                say(f"WARNING: the workflow's look at its SLURM jobs failed ({err!r}); it looks again in "
                    f"{self.interval:g} s.", self.out)


class HideStopError(logging.Filter):
    """Leaves out Snakemake's own report of the workflow's stop: its line is already written."""

    def filter(self, record: logging.LogRecord) -> bool:
        return getattr(record, "exception", None) != WorkflowStop.__name__


def end_waits_on_shutdown(executor) -> None:
    """Make the plugin's wait between two looks at its jobs (``RemoteExecutor.sleep``, up to 180 s with
    the SLURM plugin) end within ``SHUTDOWN_WAKE_SECONDS`` once Snakemake shuts the plugin down (which
    clears its ``wait`` and then waits for that thread)."""
    plain_sleep = executor.sleep

    async def sleep():
        waiting = asyncio.ensure_future(plain_sleep())
        try:
            while executor.wait and not waiting.done():
                await asyncio.wait({waiting}, timeout=SHUTDOWN_WAKE_SECONDS)
        finally:
            waiting.cancel()

    executor.sleep = sleep


def watch(executor, scheduler, interval: float) -> Watch:
    """Start looking after the SLURM jobs of ``executor`` (the SLURM plugin's, named by its run id)."""
    end_waits_on_shutdown(executor)
    logging.getLogger(SNAKEMAKE_LOGGER).addFilter(HideStopError())
    watcher = Watch(executor.run_uuid, scheduler, interval)
    watcher.start()
    return watcher


def cancel_left_jobs(run: str, out=sys.stderr) -> None:
    """Cancel every job of the run still queued or running: the workflow ended, and nothing would
    look after them (Snakemake cancels those it knows of on a Ctrl-C; not on another error, and not
    one it was submitting then)."""
    try:
        listed = slurm("squeue", "--noheader", "--name", run, "--format=%i")
        jobs = listed.stdout.split()
        if jobs:
            slurm("scancel", *jobs)
    except (OSError, subprocess.TimeoutExpired) as err:
        say(f"WARNING: could not cancel the SLURM jobs of this run ({err}); see squeue --name {run}", out)
        return
    if jobs:
        say(f"Cancelled the {len(jobs)} SLURM job(s) of this run still queued or running: {' '.join(jobs)}.", out)
