"""Whole epochs at the homework's true scale: the course's loops against the project's, and the whole study.

Data: random pixels with exactly the Intel landscapes shapes (12630 / 1404 / 3000
images of 48x48x3 = 6912 features, 6 classes). Timing depends on shapes, not
content: it says nothing about accuracy.

Each family of runs in the configured study (Q1: perceptron, logistic
regression plain / L2 / L1, MLP; Q2: each model and batch size) is timed as a
WHOLE EPOCH, as a run does it, every side in one process with the same threads
(one by default, as the workflow's jobs run), in rounds of one epoch of each
side (so that the machine's drifts hit them alike; the median is reported):

- course: the course's starter-code loops (``homework1.benchmark.course``). Q1: re-order
  the training arrays (X = X[perm]), a Python loop over the examples, train and
  validation accuracy. Q2: a Dataset + DataLoader(shuffle=True) training loop
  with loss.item() per batch, then validation loss and accuracy.
- project: q1.fit and q2.train themselves, the epoch times they record, with
  ``implementation: reference`` (the plain numpy classes, torch autograd) and
  ``implementation: fast`` (the workflow's default).

Same result: Q1 compares the weights after one epoch from the same seed
(perceptron: bit-identical); Q2 runs the course's loop once more, fed the
project's batch order and dropout draws, and compares the first epoch's
validation loss and accuracy.

Floor (Q2): the epoch's matrix products (training and validation), each timed
alone at its exact shape with torch's matmul; the project's matrix work runs at
floor / project time of that rate. Q1's per-example SGD is matrix-vector work,
bound by memory rather than by the matmul rate: its rate is printed beside the
machine's float64 matmul rate for scale.

The study estimate (``estimate``): every configured run's epochs times its
family's epoch, plus each job's start (interpreter, imports, loading the data
set), slowed by what jobs side by side cost each other (measured by running
that many training processes at once), scheduled longest first onto the cores;
plus building the data set.

This module only pins the threads (``pin_threads``): the BLAS libraries read
their thread count when numpy and torch load, so it runs before either is
imported. ``cli`` is the command line; a benchmark prints, it asserts nothing.
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
