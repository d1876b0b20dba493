"""One seed for every random number generator a run may draw from."""

from __future__ import annotations

import random
import sys

import numpy as np


def seed_everything(seed: int) -> None:
    """The course's ``configure_seed``: Python's ``random``, numpy's legacy global generator and,
    where it is loaded already, torch (every device): importing torch takes a second, and code that
    has not imported it cannot draw from it."""
    random.seed(seed)
    np.random.seed(seed)
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.manual_seed(seed)
