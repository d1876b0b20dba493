"""The whole study's time from one epoch of each family: job starts, jobs side by side, scheduling."""

from __future__ import annotations

import heapq
import os
import statistics
import subprocess
import sys
import time

from homework1.plan.specs import model_spec
from homework1.plan.study import expand_runs


def speed_family(question: str, hparams: dict) -> tuple:
    """What sets a run's epoch time (its family): the model; its sizes, the integer settings of its
    architecture (a probability such as dropout changes no size) and, in Question 2, the batch
    size; in Question 1, which extra terms its update has (training hyper-parameters that are not
    zero, the learning rate aside: an L2 or L1 penalty)."""
    spec = model_spec(question, hparams["model"])
    sizes = [(name, hparams[name]) for name in spec.architecture if isinstance(hparams[name], int)]
    if question == "q2":
        sizes.insert(0, ("batch", hparams["batch_size"]))
    terms = ([name for name in spec.training_hparams if name != "learning_rate" and hparams[name]]
             if question == "q1" else [])
    return (question, spec.name, tuple(sizes), tuple(terms))


def family_name(family: tuple) -> str:
    """How tables name a family: ``Q1 logreg +l2_penalty``, ``Q2 ffn batch 64, hidden_size 200, layers 2``."""
    question, model, sizes, terms = family
    return " ".join([question.upper(), model, *(f"+{term}" for term in terms)]
                    + ([", ".join(f"{name} {value}" for name, value in sizes)] if sizes else []))


def study_runs(config: dict) -> list[tuple]:
    """[(family, hyper-parameters, epochs)] of every configured run, seeds included."""
    runs = []
    for question, experiments in expand_runs(config).items():
        for variants in experiments.values():
            for hparams in variants.values():
                runs += [(speed_family(question, hparams), hparams, hparams["epochs"])] * len(config["seeds"])
    return runs


def job_start_seconds(npz_path) -> float:
    """A training job's cost before its first epoch: interpreter, imports, loading the data."""
    code = ("from homework1 import q2; from homework1.job import jobs; from homework1.q1 import kernels; "
            f"jobs.load_splits({str(npz_path)!r}, add_bias=True)")
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)
    return time.perf_counter() - start


SIDE_BY_SIDE_PROBE = """
import sys, time, torch
from homework1 import q2
from homework1.sources import INTEL_CLASSES
torch.set_num_threads(1)
g = torch.Generator().manual_seed(0)
X = torch.randint(0, 256, ({n_train}, {n_features}), generator=g, dtype=torch.uint8).float() / 256
y = torch.randint(0, len(INTEL_CLASSES), ({n_train},), generator=g)
model = q2.build_model("ffn", {n_features}, len(INTEL_CLASSES), hidden_size=200, layers=2, dropout=0.3)
step = q2.make_step("fused", model, q2.SGD(0.002, 0.0, 0.0), X, y, 64)
step.train_epoch(torch.Generator())
start = time.perf_counter()
for _ in range(3):
    step.train_epoch(torch.Generator())
print(time.perf_counter() - start)
"""


def side_by_side_slowdown(slots: int, device, n_train: int, n_features: int) -> float | None:
    """How much slower a training job (Q2's FFN, batch 64, on the CPU) runs beside slots - 1
    others than alone; None where this machine has fewer CPUs than slots, or jobs share a GPU."""
    if slots < 2 or slots > os.cpu_count() or device.type != "cpu":
        return None if slots > 1 else 1.0
    probe = SIDE_BY_SIDE_PROBE.format(n_train=n_train, n_features=n_features)
    env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")

    def mean_seconds(processes):
        running = [subprocess.Popen([sys.executable, "-c", probe], stdout=subprocess.PIPE, text=True, env=env)
                   for _ in range(processes)]
        return statistics.mean(float(process.communicate()[0]) for process in running)

    return mean_seconds(slots) / mean_seconds(1)


def longest_first_makespan(durations, slots: int) -> float:
    """Wall time of jobs placed longest first, each on the slot that frees first."""
    free_at = [0.0] * max(slots, 1)
    for duration in sorted(durations, reverse=True):
        heapq.heappush(free_at, heapq.heappop(free_at) + duration)
    return max(free_at)
