"""A Question 2 run's state on disk, so that a killed or preempted run resumes where it was.

A checkpoint holds the parameters, momentum buffers, the shuffling and dropout generators, and what
it was written for (every setting, the data's and the code's checksums): only that run resumes it,
and on a CPU ends with exactly the numbers of an uninterrupted run. The history is appended to a
file beside it, one JSON line per epoch.
"""

from __future__ import annotations

import io
import json
import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable

import torch

from homework1.core.files import atomic_write

# Written into every checkpoint; one of another format is not resumed.
FORMAT = 3


@dataclass(frozen=True)
class Checkpointing:
    """Where a run keeps its checkpoint, every how many epochs it writes it, whether it keeps it
    when the run completes (so that a longer rerun continues from there), and ``origin``: what the
    run is bound to beyond its settings (its data's and its code's checksums)."""
    path: Path
    every: int
    keep: bool
    origin: dict = field(default_factory=dict)

    def __post_init__(self):
        object.__setattr__(self, "path", Path(self.path))
        if self.every < 1:
            raise ValueError(f"checkpoints every {self.every} epochs: need at least 1")

    def bound_to(self, origin: dict) -> Checkpointing:
        return replace(self, origin=dict(origin))

    @property
    def history(self) -> Path:
        return history_path(self.path)


def history_path(checkpoint: Path) -> Path:
    """Beside a checkpoint, its run's history so far: one JSON line per epoch."""
    return checkpoint.with_name(f"{checkpoint.name}.history")


def append_history(path: Path, rows: list[dict]) -> int:
    """Append ``rows`` to a history file; its size after. A failure to write (a full disk) leaves it
    as it was."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "ab") as handle:
        size = handle.tell()
        try:
            handle.write("".join(json.dumps(row) + "\n" for row in rows).encode())
            handle.flush()
        except BaseException:
            handle.truncate(size)
            raise
        return handle.tell()


def read_history(path: Path, size: int, epochs: int) -> list[dict]:
    """The first ``size`` bytes of a history file, which must be its epochs 1..``epochs``; what a run
    killed after them appended is cut off. Raises ValueError saying what is wrong."""
    if not path.exists():
        raise ValueError(f"its history file {path.name} is missing")
    with open(path, "rb+") as handle:
        data = handle.read(size)
        if len(data) < size:
            raise ValueError(f"its history file {path.name} holds {len(data)} of its {size} bytes")
        try:
            rows = [json.loads(line) for line in data.decode().splitlines()]
        except ValueError:  # not UTF-8, or not JSON
            raise ValueError(f"its history file {path.name} is damaged") from None
        if [row.get("epoch") for row in rows] != list(range(1, epochs + 1)):
            raise ValueError(f"its history file {path.name} does not hold its epochs 1 to {epochs}")
        handle.truncate(size)
    return rows


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
    """Move an unusable checkpoint, and its history, out of the run's way, to a name that says so
    (never over another)."""
    target, n = path.with_name(f"{path.name}.unusable"), 1
    while target.exists():
        target, n = path.with_name(f"{path.name}.unusable{n}"), n + 1
    os.replace(path, target)
    if history_path(path).exists():
        os.replace(history_path(path), history_path(target))
    return target


def remove(path: Path) -> None:
    """Remove a checkpoint and its history."""
    for file in (path, history_path(path)):
        file.unlink(missing_ok=True)


def differences(written: dict, expected: dict) -> str:
    """What a checkpoint's settings and origin have that the run's do not, in a few words."""
    def short(value):
        text = str(value)
        return text[:12] + "..." if len(text) > 15 else text
    keys = sorted(set(written) | set(expected), key=str)
    return ", ".join(f"{key} {short(written.get(key))} (this run: {short(expected.get(key))})"
                     for key in keys if written.get(key) != expected.get(key))


def resumable(checkpoint: Checkpointing, problem: Callable[[dict], str | None],
              log: Callable[[str], None]) -> dict | None:
    """The state in the checkpoint if this run can resume it, with its history, else None.

    One it cannot (unreadable, another format or run, which ``problem(state)`` names, or a history
    that is not whole) is set aside with one line in the log, and the run starts afresh.
    """
    path = checkpoint.path
    if not path.exists():
        return None
    try:
        state = load_checkpoint(path)
        reason = (problem(state) if isinstance(state, dict) and state.get("format") == FORMAT
                  else f"it was written in another format than this workflow's ({FORMAT})")
        if reason is None:
            state["history"] = read_history(checkpoint.history, state["history_bytes"], state["epoch"])
    except ValueError as err:  # the history
        reason = str(err)
    except Exception as err:  # whatever torch raises for a file it cannot read
        reason = _unreadable(err)
    if reason is None:
        return state
    aside = set_aside(path)
    log(f"checkpoint {path} is unusable: {reason}; moved to {aside.name}, starting afresh")
    return None
