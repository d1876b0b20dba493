"""The embedded default data set: scikit-learn's 8x8 handwritten digits in the course's layout."""

from __future__ import annotations

import numpy as np

from homework1.core.data import DataError, write_npz
from homework1.sources import digits_split_problem


def build(out_path, *, seed: int, test_fraction: float, val_fraction: float, log=print) -> None:
    """scikit-learn's digits as uint8 images, split stratified with a fixed seed: first
    ``test_fraction`` of all images, then ``val_fraction`` of the rest."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    problem = digits_split_problem(test_fraction, val_fraction)
    if problem:
        raise DataError(problem)
    digits = load_digits()
    # pixels are 0..16; stretch to the 0..255 of a uint8 image like the Intel file
    images = np.round(digits.images * 255 / 16).astype(np.uint8)[..., None]
    labels = digits.target.astype(np.int64)
    index = np.arange(len(labels))
    rest, test = train_test_split(index, test_size=test_fraction, stratify=labels,
                                  random_state=seed)
    train, val = train_test_split(rest, test_size=val_fraction, stratify=labels[rest],
                                  random_state=seed)
    arrays = {}
    for split, rows in (("train", train), ("val", val), ("test", test)):
        arrays[f"{split}_images"] = images[rows]
        arrays[f"{split}_labels"] = labels[rows].reshape(-1, 1)
    write_npz(out_path, arrays)
    log(f"digits: {len(train)} train, {len(val)} val, {len(test)} test images")
