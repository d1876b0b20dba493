"""Question 2's whole training step replayed from a CUDA graph: the fast path on NVIDIA GPUs.

A step (gather, forward with dropout, cross-entropy, backward, SGD) is some thirty small kernels;
captured once with ``torch.cuda.graph`` it is one launch. Everything it touches is a static tensor
(the epoch's order, the batch number advanced inside the graph, parameters, gradients, momentum
buffers, losses, the correct count); warm-up steps run on a side stream and are then undone, so the
run is the eager run; one graph per batch shape; losses are read once per epoch; dropout draws from
torch's graph-safe CUDA generator. With ``capture=False`` the same steps run eagerly, which is how
the tests check all but the capture without a GPU.
"""

from __future__ import annotations

from contextlib import nullcontext

import torch
import torch.nn.functional as F
from torch import nn

from homework1.q2.batches import EpochStats, batch_indices, epoch_stats
from homework1.q2.sgd import SGD, make_optimizer
from homework1.plan.specs import CUDA_GRAPH


class GraphedTrainStep:
    """Trains ``model`` with SGD on (X, y), one epoch at a time, each step a graph replay."""

    name = CUDA_GRAPH

    @staticmethod
    def unsupported(model: nn.Module, X: torch.Tensor) -> str | None:
        """Why this step cannot train ``model`` on ``X`` (None if it may: a capture that fails
        still falls back, ``train.make_step``)."""
        return None if X.is_cuda else f"a CUDA graph replays work on a CUDA device; the data is on {X.device}"

    def __init__(self, model: nn.Module, sgd: SGD, X: torch.Tensor, y: torch.Tensor, batch_size: int,
                 momentum_buffers: list[torch.Tensor | None] | None = None, capture: bool = True,
                 warmup_steps: int = 3):
        if capture and (problem := self.unsupported(model, X)):
            # torch would capture an empty graph (and only warn): every step would do nothing
            raise RuntimeError(problem)
        self.model, self.X, self.y = model, X, y
        self.optimizer = optimizer = make_optimizer(model, sgd)
        for param, buffer in zip(model.parameters(), momentum_buffers or []):
            if buffer is not None:
                optimizer.state[param]["momentum_buffer"] = buffer.to(param.device).clone()
        self.batch_size = batch_size = min(batch_size, X.shape[0])
        device = X.device
        n_batches = -(-X.shape[0] // batch_size)
        self.order = torch.arange(X.shape[0], device=device)
        self.offsets = torch.arange(batch_size, device=device)
        self.batch_number = torch.zeros((), dtype=torch.int64, device=device)
        self.losses = torch.zeros(n_batches, device=device)
        self.correct = torch.zeros((), dtype=torch.int64, device=device)
        sizes = sorted({batch_size, X.shape[0] % batch_size} - {0}, reverse=True)

        saved = self.state()
        model.train()
        self.replay = {}
        try:
            for size in sizes:
                self._warm_up(size, warmup_steps)
                self.replay[size] = self._capture(size) if capture else self._eager(size)
        finally:  # also when a capture fails: the caller may go on with the eager step
            self.restore(saved)

    # -- one step, on static tensors

    def _step(self, size: int) -> None:
        positions = self.batch_number * self.batch_size + self.offsets[:size]
        index = self.order.index_select(0, positions)
        labels = self.y.index_select(0, index)
        logits = self.model(self.X.index_select(0, index))
        loss = F.cross_entropy(logits, labels)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        self.losses.index_copy_(0, self.batch_number.view(1), loss.detach().view(1))
        self.correct += (logits.detach().argmax(dim=1) == labels).sum()
        self.batch_number += 1

    def _eager(self, size: int):
        return lambda: self._step(size)

    def _warm_up(self, size: int, steps: int) -> None:
        side = torch.cuda.Stream() if self.X.is_cuda else None
        if side is not None:
            side.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(side) if side is not None else nullcontext():
            for _ in range(steps):
                self.batch_number.zero_()
                self._step(size)
        if side is not None:
            torch.cuda.current_stream().wait_stream(side)

    def _capture(self, size: int):
        graph = torch.cuda.CUDAGraph()
        self.batch_number.zero_()
        self.optimizer.zero_grad(set_to_none=True)
        with torch.cuda.graph(graph):
            self._step(size)
        return graph.replay

    # -- what the warm-up changes, and putting it back

    def momentum_buffers(self) -> list[torch.Tensor | None]:
        return [self.optimizer.state[p].get("momentum_buffer") for p in self.model.parameters()]

    def state(self) -> dict:
        """Parameters, momentum buffers and random generators as they are (copies)."""
        return {"parameters": [p.detach().clone() for p in self.model.parameters()],
                "buffers": [None if b is None else b.clone() for b in self.momentum_buffers()],
                "cpu_rng": torch.get_rng_state(),
                "cuda_rng": torch.cuda.get_rng_state(self.X.device) if self.X.is_cuda else None}

    def restore(self, saved: dict) -> None:
        """Put back what ``state`` saved, in place: the graphs hold these very tensors."""
        with torch.no_grad():
            for param, value in zip(self.model.parameters(), saved["parameters"]):
                param.copy_(value)
            for buffer, value in zip(self.momentum_buffers(), saved["buffers"]):
                if buffer is None:
                    continue
                if value is None:
                    # A run's first step sets the buffer to the gradient; the captured step
                    # does buffer * momentum + gradient, which from zero is the same.
                    buffer.zero_()
                else:
                    buffer.copy_(value)
        torch.set_rng_state(saved["cpu_rng"])
        if saved["cuda_rng"] is not None:
            torch.cuda.set_rng_state(saved["cuda_rng"], self.X.device)

    # -- an epoch

    def train_epoch(self, generator: torch.Generator) -> EpochStats:
        """One pass in the order drawn from ``generator``, as reference.train_epoch draws it."""
        self.model.train()
        batches = batch_indices(self.X.shape[0], self.batch_size, generator, self.X.device)
        self.order.copy_(torch.cat(batches))
        self.batch_number.zero_()
        self.correct.zero_()
        for batch in batches:
            self.replay[len(batch)]()
        return epoch_stats(self.losses, [len(batch) for batch in batches], self.correct)
