"""Whole epochs at the homework's true scale: the course's loops against the project's, and the study.

Data: random pixels with the Intel landscapes shapes (``homework1.sources``: INTEL_SPLITS,
INTEL_IMAGE_SHAPE, INTEL_CLASSES); timing depends on shapes, not content. ``epochs`` times one
epoch of each family of the configured study, as a run does it, for the course's starter-code
loops (``course``) and the project's reference and fast implementations, each side in one
process with the same threads, in alternating rounds (the median reported); it checks that the
sides compute the same, and sets Q2 against its floor (the epoch's matrix products timed alone).
``estimate`` adds up the whole study from them; ``cli`` is the command line. A benchmark prints,
it asserts nothing.

This module only pins the threads (``pin_threads``): BLAS libraries read their thread count when
numpy and torch load, so it runs before either is imported.
"""

from __future__ import annotations

import argparse
import os

THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def threads_option() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--threads", type=int, default=1, help="threads of every side (the workflow's jobs: 1)")
    return parser


def pin_threads(argv: list[str]) -> int:
    """Set the BLAS thread count from ``--threads`` in ``argv``; call before numpy or torch loads."""
    threads = threads_option().parse_known_args(argv)[0].threads
    for variable in THREAD_VARIABLES:
        os.environ[variable] = str(threads)
    return threads
