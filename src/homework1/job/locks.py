"""Who holds the lock of a Snakemake working directory: a Snakemake still running, or one that was killed.

Snakemake's lock files name no process, so the workflow records the one holding them:
``owner.<host>.<pid>.json`` beside them, written once Snakemake has locked and removed when it
unlocks. A lock whose recorded owners have all ended is stale (``--unlock`` is safe); one whose
owner runs must be left alone.

Standard library only: the workflow reads this while it plans.
"""

from __future__ import annotations

import datetime
import json
import os
import socket
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

from homework1.core.files import atomic_write

OWNER_PREFIX = "owner."


@dataclass(frozen=True)
class Owner:
    """A Snakemake process that holds a lock: its host, PID, start (to tell a PID reused by another
    process; None where unknown), when it locked, and its command line."""
    host: str
    pid: int
    start: int | None
    locked_at: str
    command: str

    def describe(self) -> str:
        return f"PID {self.pid} on {self.host}, locked at {self.locked_at}"


def process_start(pid: int) -> int | None:
    """When a process started, in clock ticks since boot (Linux's /proc); None where unknown."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="utf-8")
    except OSError:
        return None
    return int(stat.rsplit(")", 1)[1].split()[19])  # field 22; the command in (...) may hold spaces


def this_process() -> Owner:
    return Owner(socket.gethostname(), os.getpid(), process_start(os.getpid()),
                 datetime.datetime.now().isoformat(sep=" ", timespec="seconds"), " ".join(sys.argv))


def running(owner: Owner) -> bool | None:
    """Whether the owner still runs: None where that cannot be told from here (another host)."""
    if owner.host != socket.gethostname():
        return None
    try:
        os.kill(owner.pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process of that PID
        pass
    started = process_start(owner.pid)
    return owner.start is None or started is None or started == owner.start


def record_owner(lock_dir, owner: Owner | None = None) -> Path:
    """Record ``owner`` (this process by default) as a holder of the lock in ``lock_dir``."""
    owner = owner or this_process()
    path = Path(lock_dir) / f"{OWNER_PREFIX}{owner.host}.{owner.pid}.json"
    atomic_write(path, lambda tmp: Path(tmp).write_text(json.dumps(asdict(owner)) + "\n", encoding="utf-8"))
    return path


def owners(lock_dir) -> list[Owner]:
    """The recorded holders of the lock in ``lock_dir`` (unreadable records left out)."""
    found = []
    for path in sorted(Path(lock_dir).glob(f"{OWNER_PREFIX}*.json")):
        try:
            found.append(Owner(**json.loads(path.read_text(encoding="utf-8"))))
        except (OSError, ValueError, TypeError):
            continue
    return found


def lock_files(lock_dir) -> list[Path]:
    """Snakemake's lock files in ``lock_dir`` (its file backend: ``N.input.lock``, ``N.output.lock``)."""
    return sorted(path for path in Path(lock_dir).glob("*.lock") if path.name.split(".")[0].isdigit())


def locked_outputs(lock_dir) -> set[str]:
    """Every file that a Snakemake holding a lock in ``lock_dir`` is to write (one path a line)."""
    return {line.strip() for path in lock_files(lock_dir) if path.name.endswith(".output.lock")
            for line in path.read_text(encoding="utf-8").splitlines() if line.strip()}


def live_owners(lock_dir) -> list[Owner]:
    """The recorded holders, other than this process, that run, or may run (on another host)."""
    me = this_process()
    return [owner for owner in owners(lock_dir)
            if (owner.host, owner.pid) != (me.host, me.pid) and running(owner) is not False]


def held_by_the_dead(lock_dir) -> bool:
    """Whether the lock in ``lock_dir`` is free, or held only by Snakemakes known to have ended (then what
    they left may be changed). Not where a holder runs, may run, or recorded nothing (a Snakemake of an
    earlier version of this workflow, which may still run)."""
    return not lock_files(lock_dir) or (bool(owners(lock_dir)) and not live_owners(lock_dir))


def refusal(lock_dir, writes: str = "files this run needs", incomplete: str = "") -> str:
    """The one line of a Snakemake refused the lock in ``lock_dir``, whose holder ``writes`` what it needs:
    who holds it, and how to go on (``incomplete``: what a killed holder left, to say after it)."""
    live = live_owners(lock_dir)
    unlock = "run the same command once with --unlock, then again as it is"
    if here := [owner for owner in live if running(owner)]:
        return (f"this directory is locked by another Snakemake, still running ({here[0].describe()}), which "
                f"writes {writes}: wait until it has finished (its lock is left as it is)")
    if live:
        return (f"this directory is locked by a Snakemake on another host ({live[0].describe()}), which writes "
                f"{writes} and cannot be checked from here: wait until it has finished; if it no longer runs, "
                f"{unlock}")
    if not (gone := owners(lock_dir)):
        return (f"this directory is locked by a Snakemake that recorded no process (of an earlier version of this "
                f"workflow), which writes {writes}: if none runs here any more, {unlock}")
    return (f"this directory is locked by a Snakemake that no longer runs ({gone[0].describe()}; killed, or its "
            f"machine stopped): {unlock}" + (f"; {incomplete}" if incomplete else ""))
