"""What the workflow needs of the machine it runs on, set or checked while Snakemake reads it: its jobs
import the package from this checkout's ``src/`` and read text as UTF-8; the interpreter's path is
quoted (Snakemake writes it unquoted into each job's command); and it runs from the checkout or a folder
outside it, never one inside (there config/config.yaml would not be read). Standard library only."""

from __future__ import annotations

import os
import shlex
import sys
from pathlib import Path


def job_environment(source_dir, inherited_pythonpath: str = "") -> dict[str, str]:
    """The variables every job inherits: the checkout's ``src/`` first on PYTHONPATH, and Python's
    UTF-8 mode (a job reads sources, CSV and JSON as UTF-8 under any locale)."""
    path = os.pathsep.join(p for p in (str(source_dir), inherited_pythonpath) if p)
    return {"PYTHONPATH": path, "PYTHONUTF8": "1"}


def shell_safe(executable: str) -> str:
    """The interpreter's path as a shell reads it back: quoted where it holds a space or another
    character the shell splits on, else unchanged (as is one quoted already: no file has that name)."""
    return shlex.quote(executable) if os.path.exists(executable) else executable


def set_up_workflow_process(source_dir) -> None:
    """Snakemake's own process, as it reads the workflow: its jobs' variables (``job_environment``), its
    identity (a job stops once it has ended: homework1.core.stopping) and its interpreter's path made
    ``shell_safe`` (Snakemake writes it into each job's command unquoted)."""
    from homework1.core import stopping

    os.environ.update(job_environment(source_dir, os.environ.get("PYTHONPATH", "")))
    os.environ[stopping.WORKFLOW_PROCESS] = stopping.process_identity(os.getpid())
    sys.executable = shell_safe(sys.executable)


def working_directory_problem(workdir, checkout) -> str | None:
    """Why Snakemake should not run in ``workdir`` with the workflow of ``checkout`` (None if it may)."""
    workdir, checkout = Path(workdir).resolve(), Path(checkout).resolve()
    if checkout not in workdir.parents:
        return None
    inside = workdir.relative_to(checkout)
    return (f"snakemake runs in {inside}/, a folder inside the workflow's checkout: config/config.yaml would not "
            f"be read and the outputs would go to {inside}/results/; run it from {checkout} (or give -d a folder "
            f"outside the checkout)")


# The --cores of the Snakemake that runs the jobs on this machine, as its jobs read it (set at its start).
WORKFLOW_CORES = "HOMEWORK1_WORKFLOW_CORES"


def machine_cores() -> int:
    """The cores this process may run on (its CPU affinity where the system has one)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def cores_note(cores: int, machine: int) -> str | None:
    """One line when Snakemake's --cores exceeds the machine's cores (None otherwise): its jobs then
    share cores, and their wall times include the waiting."""
    if cores <= machine:
        return None
    return (f"note: --cores {cores} on a machine with {machine} cores: up to {cores} one-core jobs run at once and "
            f"share them, so their wall times include waiting for a core (the runtime table says which ran shared)")


def announce_cores(cores: int, say) -> None:
    """At the start of a run on this machine: its --cores for the jobs to record, and ``say`` the
    note of :func:`cores_note` where there is one."""
    os.environ[WORKFLOW_CORES] = str(cores)
    if note := cores_note(cores, machine_cores()):
        say(note)


def core_sharing(threads: int, workflow_cores: int | None = None, machine: int | None = None) -> dict:
    """How a job ran: the cores Snakemake gave it (``threads``), the machine's, and, where its Snakemake
    ran jobs on this machine (``workflow_cores`` set, else read from :data:`WORKFLOW_CORES`), the most
    jobs of its size that ran at once and whether together they asked for more cores than the machine
    has (``shared_cores``; None where unknown, as on a cluster)."""
    machine = machine_cores() if machine is None else machine
    if workflow_cores is None and os.environ.get(WORKFLOW_CORES, "").isdigit():
        workflow_cores = int(os.environ[WORKFLOW_CORES])
    threads = max(int(threads or 1), 1)
    max_jobs_at_once = max(workflow_cores // threads, 1) if workflow_cores else None
    return {"threads": threads, "machine_cores": machine, "workflow_cores": workflow_cores,
            "max_jobs_at_once": max_jobs_at_once,
            "shared_cores": None if max_jobs_at_once is None else max_jobs_at_once * threads > machine}
