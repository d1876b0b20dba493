"""Whole epochs at the homework's true scale: the course's loops against the project's, and the study.

Timed on random pixels with the Intel landscapes shapes (timing depends on shapes, not content);
what is measured and how: docs/benchmarks.md. ``cli`` is the command line; a benchmark prints, it
asserts nothing. This module only pins the threads: the BLAS libraries read their thread count when
numpy and torch load, so ``pin_threads`` runs before either is imported.
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
