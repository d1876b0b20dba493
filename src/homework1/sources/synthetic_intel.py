"""The timing stand-in: random pixels and labels with exactly the Intel shapes.

Timing depends on shapes, not content: this data set measures speed at the
homework's true scale and never stands in for accuracy.
"""

from __future__ import annotations

import numpy as np

from homework1.core.data import DataError, write_npz
from homework1.sources import INTEL_CLASSES, INTEL_IMAGE_SIZE, INTEL_SPLITS

DESCRIPTION = "synthetic stand-in: random pixels, for timing only"


def arrays(*, seed: int, n_train: int = INTEL_SPLITS["train"], n_val: int = INTEL_SPLITS["val"],
           n_test: int = INTEL_SPLITS["test"], size: int = INTEL_IMAGE_SIZE,
           n_classes: int = len(INTEL_CLASSES)) -> dict[str, np.ndarray]:
    """The arrays ``build`` writes (kept apart so that their shapes are cheap to check)."""
    if n_train < n_classes:
        raise DataError(f"synthetic data: n_train={n_train} cannot hold all {n_classes} classes")
    rng = np.random.default_rng(seed)
    out = {}
    for split, n in (("train", n_train), ("val", n_val), ("test", n_test)):
        out[f"{split}_images"] = rng.integers(0, 256, size=(n, size, size, 3), dtype=np.uint8)
        labels = rng.integers(0, n_classes, size=n, dtype=np.int64)
        if split == "train":
            # every class must appear in train; plant one of each, then shuffle them in
            labels[:n_classes] = np.arange(n_classes)
            labels = rng.permutation(labels)
        out[f"{split}_labels"] = labels.reshape(-1, 1)
    out["description"] = np.array(DESCRIPTION)
    return out


def build(out_path, *, seed: int, n_train: int = INTEL_SPLITS["train"], log=print) -> None:
    """Write the stand-in; ``n_train`` smaller than the homework's only for smoke runs.
    Uncompressed: random pixels do not compress, and it is read faster."""
    write_npz(out_path, arrays(seed=seed, n_train=n_train), compress=False)
    log(f"synthetic_intel: {n_train} training images of random pixels")
