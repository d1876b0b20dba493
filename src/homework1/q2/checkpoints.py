"""A Question 2 run's state on disk, so that a killed or preempted run resumes where it was.

A checkpoint holds the model's parameters, the momentum buffers, the
shuffling generator, torch's global generators that dropout draws from, the
history so far and the settings it was written with; on a CPU a resumed run
ends with exactly the numbers of an uninterrupted one.
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import torch

from homework1.files import atomic_write

# Written into every checkpoint; one of another format is not resumed.
FORMAT = 2


@dataclass(frozen=True)
class Checkpointing:
    """Where a run keeps its checkpoint, every how many epochs it writes it, and whether
    it keeps it when the run completes (so that a longer rerun continues from there)."""
    path: Path
    every: int
    keep: bool

    def __post_init__(self):
        object.__setattr__(self, "path", Path(self.path))
        if self.every < 1:
            raise ValueError(f"checkpoints every {self.every} epochs: need at least 1")


def save_checkpoint(path: Path, state: dict) -> None:
    """Write atomically: a kill or a full disk mid-write leaves the previous checkpoint intact.

    Serialised in memory first, so that a failing write is a plain OSError naming
    the file, not an error from inside torch's zip writer.
    """
    buffer = io.BytesIO()
    torch.save({"format": FORMAT, **state}, buffer)
    atomic_write(path, lambda tmp: Path(tmp).write_bytes(buffer.getbuffer()))


def load_checkpoint(path: Path) -> dict:
    # Everything in it is tensors and plain containers, so the safe loader suffices.
    return torch.load(path, map_location="cpu", weights_only=True)


def _unreadable(err: Exception) -> str:
    """Why torch could not read a file, in a few words. (Not its own advice: for a file it cannot
    unpickle safely it suggests weights_only=False, which would run whatever the file holds.)"""
    first_line = next(iter(str(err).splitlines()), "")
    detail = "" if not first_line or "weights_only" in first_line else f": {first_line[:120]}"
    return f"it cannot be read, truncated or not a checkpoint ({type(err).__name__}{detail})"


def set_aside(path: Path) -> Path:
    """Move an unusable checkpoint out of the run's way, to a name that says so (never over another)."""
    target, n = path.with_name(f"{path.name}.unusable"), 1
    while target.exists():
        target, n = path.with_name(f"{path.name}.unusable{n}"), n + 1
    os.replace(path, target)
    return target


def resumable(path: Path, problem: Callable[[dict], str | None], log: Callable[[str], None]) -> dict | None:
    """The state in the checkpoint at ``path`` if there is one this run can resume, else None.

    One it cannot (unreadable: garbage, truncated, a disk error; or written by another format
    or run, which ``problem(state)`` names) is set aside with one line in the log, and the
    run starts afresh: every rerun would otherwise fail on it, or mix two runs.
    """
    if not path.exists():
        return None
    try:
        state = load_checkpoint(path)
        reason = (problem(state) if isinstance(state, dict) and state.get("format") == FORMAT
                  else f"it was written in another format than this workflow's ({FORMAT})")
    except Exception as err:  # whatever torch raises for a file it cannot read
        reason = _unreadable(err)
    if reason is None:
        return state
    aside = set_aside(path)
    log(f"checkpoint {path} is unusable: {reason}; moved to {aside.name}, starting afresh")
    return None
