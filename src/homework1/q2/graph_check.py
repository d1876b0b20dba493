"""The CUDA-graph step checked against the eager step before a run trains with it.

A capture can succeed and compute something else (an aliased momentum buffer, a partial batch
reading stale positions, repeated dropout draws). So from the run's starting state, one epoch with
the graphs and the same epoch, same draws, with ``reference.AutogradStep`` must agree to float32
rounding (``RTOL``, ``ATOL``; the correct count within ``COUNT_SHARE``); then the state is put back.
If they disagree, or the check raises, the run trains with the eager step.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import torch

from homework1.q2.graph import GraphedTrainStep
from homework1.q2.reference import AutogradStep
from homework1.q2.sgd import SGD

RTOL, ATOL = 1e-4, 1e-5  # float32 rounding over an epoch of steps (torch.testing's float32 defaults, looser)
COUNT_SHARE = 1e-3       # of the examples: the correct counts may differ by this many


@dataclass(frozen=True)
class GraphCheck:
    passed: bool
    largest_difference: float  # the largest absolute difference found
    where: str                 # in what ("parameter 0.weight", "momentum buffer of 2.bias", "batch losses", ...)

    def record(self) -> str:
        """What a run's summary says (``graph_check``)."""
        verdict = "passed" if self.passed else "failed"
        return f"{verdict}: largest difference {self.largest_difference:.3g} ({self.where})"


def _copy(generator: torch.Generator) -> torch.Generator:
    copy = torch.Generator()
    copy.set_state(generator.get_state())
    return copy


def _difference(a: torch.Tensor | None, b: torch.Tensor | None) -> tuple[float, bool]:
    """(largest absolute difference, whether a and b agree to RTOL/ATOL); a buffer only one side has disagrees."""
    if a is None or b is None:
        return (0.0, True) if a is None and b is None else (math.inf, False)
    a, b = a.detach().double().cpu(), b.detach().double().cpu()
    if a.shape != b.shape:
        return math.inf, False
    both_nan = torch.isnan(a) & torch.isnan(b)
    gap = torch.where(both_nan, torch.zeros_like(a), (a - b).abs())
    largest = float(gap.max()) if gap.numel() else 0.0
    return largest, bool(torch.allclose(a, b, rtol=RTOL, atol=ATOL, equal_nan=True))


def check_graph_step(step: GraphedTrainStep, sgd: SGD, shuffle: torch.Generator, batch_size: int) -> GraphCheck:
    """One epoch with ``step``'s graphs against the same epoch with the eager step, from one state;
    the state is put back after (the model's parameters, the step's momentum buffers, torch's
    generators; ``shuffle`` itself is not drawn from)."""
    model, X, y = step.model, step.X, step.y
    names = [name for name, _ in model.named_parameters()]
    saved = step.state()
    try:
        graph_stats = step.train_epoch(_copy(shuffle))
        graph = ([p.detach().clone() for p in model.parameters()],
                 [None if b is None else b.clone() for b in step.momentum_buffers()])
        step.restore(saved)
        eager_step = AutogradStep(model, sgd, X, y, batch_size, saved["buffers"])
        eager_stats = eager_step.train_epoch(_copy(shuffle))
        eager = ([p.detach().clone() for p in model.parameters()], eager_step.momentum_buffers())
    finally:
        step.restore(saved)
    compared = [(f"parameter {name}", a, b) for name, a, b in zip(names, graph[0], eager[0])]
    compared += [(f"momentum buffer of {name}", a, b) for name, a, b in zip(names, graph[1], eager[1])]
    compared.append(("batch losses", graph_stats.batch_losses, eager_stats.batch_losses))
    results = [(name, *_difference(a, b)) for name, a, b in compared]
    results = [(name + (" (on one side only, or of another shape)" if math.isinf(largest) else ""), largest, agrees)
               for name, largest, agrees in results]
    n = X.shape[0]
    correct = [stats.train_acc_running * n for stats in (graph_stats, eager_stats)]
    count_gap = abs(correct[0] - correct[1]) if not any(map(math.isnan, correct)) else 0.0
    results.append(("correct count", count_gap, count_gap <= max(1.0, COUNT_SHARE * n)))
    failed = [(largest, name) for name, largest, agrees in results if not agrees]
    largest, where = max(failed) if failed else max((largest, name) for name, largest, _ in results)
    return GraphCheck(not failed, largest, where)


def checked_graph_step(step: GraphedTrainStep, sgd: SGD, shuffle: torch.Generator, batch_size: int,
                       momentum_buffers: list | None, log: Callable[[str], None]):
    """(the step to train with, what the check found): the graphs where they agree with the eager step,
    else the eager step, from the state the run starts in (``momentum_buffers``: the run's, from its
    checkpoint or None). One log line either way."""
    try:
        check = check_graph_step(step, sgd, shuffle, batch_size)
    except Exception as err:  # noqa: BLE001 - a check that cannot run is a check that failed
        check = GraphCheck(False, math.nan, f"the check raised {type(err).__name__}: {err}")
    if check.passed:
        log(f"CUDA graphs checked against the eager step over one epoch: they agree "
            f"(largest difference {check.largest_difference:.3g}, in {check.where}); training with the graphs")
        return step, check.record()
    log(f"WARNING: the CUDA graphs disagree with the eager step over one epoch (largest difference "
        f"{check.largest_difference:.3g}, in {check.where}); training with the eager step")
    return AutogradStep(step.model, sgd, step.X, step.y, batch_size, momentum_buffers), check.record()
