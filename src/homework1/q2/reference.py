"""Question 2's training step as a student writes it: autograd, then ``optimizer.step()``.

The readable reference the fast steps (``fused``, ``graph``) are tested against.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from homework1.q2.batches import EpochStats, batch_indices, epoch_stats
from homework1.q2.sgd import SGD, make_optimizer
from homework1.plan.specs import AUTOGRAD


def train_epoch(model: nn.Module, optimizer: torch.optim.Optimizer, X: torch.Tensor, y: torch.Tensor,
                batch_size: int, generator: torch.Generator,
                check_each_batch: bool | None = None) -> EpochStats:
    """One pass of mini-batch SGD over (X, y) in the order drawn from `generator`.

    On a CPU each batch's loss is checked for finiteness (free, so a diverged run stops at once); on
    an accelerator that would stall the queue, so the losses are checked at the end of the epoch
    (the same first bad batch; that epoch is dropped).
    """
    model.train()
    batches = batch_indices(X.shape[0], batch_size, generator, X.device)
    losses = torch.empty(len(batches), device=X.device)
    correct = torch.zeros((), dtype=torch.int64, device=X.device)
    if check_each_batch is None:
        check_each_batch = X.device.type == "cpu"
    for i, idx in enumerate(batches):
        labels = y.index_select(0, idx)
        logits = model(X.index_select(0, idx))
        loss = F.cross_entropy(logits, labels)
        if check_each_batch and not torch.isfinite(loss):
            return EpochStats(math.nan, math.nan, i + 1)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        losses[i] = loss.detach()
        correct += (logits.detach().argmax(dim=1) == labels).sum()
    return epoch_stats(losses, [len(idx) for idx in batches], correct)


class AutogradStep:
    """``train_epoch`` with torch's optimizer, behind the interface every step has: one
    epoch at a time, and the momentum buffers a checkpoint keeps."""

    name = AUTOGRAD

    @staticmethod
    def unsupported(model: nn.Module, X: torch.Tensor) -> str | None:
        return None  # the reference trains every model

    def __init__(self, model: nn.Module, sgd: SGD, X: torch.Tensor, y: torch.Tensor, batch_size: int,
                 momentum_buffers: list[torch.Tensor | None] | None = None):
        self.model, self.X, self.y, self.batch_size = model, X, y, batch_size
        self.optimizer = make_optimizer(model, sgd)
        for param, buffer in zip(model.parameters(), momentum_buffers or []):
            if buffer is not None:
                self.optimizer.state[param]["momentum_buffer"] = buffer.to(param.device).clone()

    def train_epoch(self, generator: torch.Generator) -> EpochStats:
        return train_epoch(self.model, self.optimizer, self.X, self.y, self.batch_size, generator)

    def momentum_buffers(self) -> list[torch.Tensor | None]:
        return [self.optimizer.state[param].get("momentum_buffer") for param in self.model.parameters()]
