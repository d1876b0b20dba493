"""A Question 2 run's state on disk, so that a killed or preempted run resumes where it was.

A checkpoint holds the model's parameters, the momentum buffers, the
shuffling generator, torch's global generators that dropout draws from, the
history so far and the settings it was written with; on a CPU a resumed run
ends with exactly the numbers of an uninterrupted one.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

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
