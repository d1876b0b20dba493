"""Seconds per epoch of each Q1 model at the homework's true scale.

The data is a generated stand-in with the Intel landscapes shapes (12630 / 1404 /
3000 images of 48x48x3, 6 classes) and RANDOM pixels: timing depends on shapes,
not on content; it never stands in for accuracy.

    python scripts/bench_q1.py                       # 3 epochs of each model
    python scripts/bench_q1.py --models mlp --epochs 5

An epoch's time covers the shuffle (the course's compounding permutation, kept
as an index rather than a re-ordered copy of the training set), the
per-example SGD pass and the train and validation evaluation. The first epoch
is printed apart from the mean of the later ones.
Per-example SGD gains nothing from BLAS threads; compare OMP_NUM_THREADS=1.
"""

import argparse
import os
import platform

import numpy as np

from homework1.data import flatten_features
from homework1.q1 import MODEL_NAMES, train, uses_bias

SHAPES = {"train": 12630, "val": 1404, "test": 3000}
IMAGE_SHAPE = (48, 48, 3)
N_CLASSES = 6
SETTINGS = {  # the homework's settings for each model
    "perceptron": {"learning_rate": 0.001},
    "logreg": {"learning_rate": 0.001, "l2_penalty": 0.01},
    "mlp": {"learning_rate": 0.001, "hidden_size": 100},
}


def stand_in_splits(add_bias: bool, n_train: int, seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    splits = {}
    for split, n in SHAPES.items():
        n = n_train if split == "train" else n
        images = rng.integers(0, 256, size=(n, *IMAGE_SHAPE), dtype=np.uint8)
        labels = np.arange(n) % N_CLASSES  # every class present
        splits[split] = (flatten_features(images, add_bias), rng.permutation(labels).astype(np.int64))
    return splits


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", nargs="+", choices=MODEL_NAMES, default=list(MODEL_NAMES))
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--n-train", type=int, default=SHAPES["train"])
    args = parser.parse_args()

    print(f"numpy {np.__version__}, python {platform.python_version()}, {os.cpu_count()} CPUs, "
          f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}")
    print(f"stand-in data (random pixels): {args.n_train} train examples of "
          f"{np.prod(IMAGE_SHAPE)} features, {N_CLASSES} classes")
    for name in args.models:
        splits = stand_in_splits(uses_bias(name), args.n_train)
        result = train(name, splits, epochs=args.epochs, seed=42, log=lambda line: None, **SETTINGS[name])
        times = [row["epoch_time_s"] for row in result.history]
        steady = np.mean(times[1:]) if len(times) > 1 else times[0]
        print(f"{name:>10}: {steady:6.2f} s/epoch ({1e6 * steady / args.n_train:6.1f} us/example; "
              f"first epoch {times[0]:.2f} s; {splits['train'][0].shape[1]} features; {result.status})")

if __name__ == "__main__":
    main()
