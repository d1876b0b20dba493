"""What every training step of Question 2 shares: the data on the device, an epoch's
batches, its statistics, and the evaluation after it."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

EVAL_CHUNK = 8192  # rows per forward pass when evaluating: large, but bounded in memory


def to_tensors(splits: dict, device: torch.device) -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
    """numpy features / int labels -> float32 / int64 tensors on `device`, once (float32 input: no copy on a CPU)."""
    return {split: (torch.as_tensor(X, dtype=torch.float32).to(device).contiguous(),
                    torch.as_tensor(y, dtype=torch.int64).to(device))
            for split, (X, y) in splits.items()}


def batch_indices(n: int, batch_size: int, generator: torch.Generator,
                  device: torch.device | str = "cpu") -> tuple[torch.Tensor, ...]:
    """One epoch's batches: a permutation of range(n) drawn from `generator`, cut in order.

    The generator stays on the CPU so that its state (and a checkpoint of it)
    does not depend on the training device; the permutation is moved over once.
    """
    order = torch.randperm(n, generator=generator)
    return order.to(device).split(batch_size)


@dataclass(frozen=True)
class EpochStats:
    train_loss: float              # mean of batch losses weighted by batch size
    train_acc_running: float       # correct predictions on the training batches, as trained
    diverged_batch: int | None     # 1-based number of the first non-finite batch, else None
    # every batch's loss, where the step keeps them (the CUDA-graph check compares them); not part of equality
    batch_losses: torch.Tensor | None = field(default=None, compare=False, repr=False)


def epoch_stats(losses: torch.Tensor, batch_sizes: list[int], correct: torch.Tensor) -> EpochStats:
    """An epoch's numbers from its per-batch losses and correct count, read from the device at once."""
    finite = torch.isfinite(losses)
    if not bool(finite.all()):
        return EpochStats(math.nan, math.nan, int((~finite).nonzero()[0]) + 1, losses.detach().clone())
    sizes = torch.tensor(batch_sizes, device=losses.device, dtype=torch.float64)
    n = sum(batch_sizes)
    return EpochStats(float((losses.double() * sizes).sum() / n), int(correct) / n, None, losses.detach().clone())


@torch.no_grad()
def evaluate(model: nn.Module, X: torch.Tensor, y: torch.Tensor, chunk: int = EVAL_CHUNK) -> tuple[float, float]:
    """(mean cross-entropy, accuracy) in eval mode (no dropout), in large chunks."""
    model.eval()
    loss_sum = torch.zeros((), device=X.device, dtype=torch.float64)
    correct = torch.zeros((), device=X.device, dtype=torch.int64)
    for start in range(0, X.shape[0], chunk):
        logits = model(X[start:start + chunk])
        labels = y[start:start + chunk]
        loss_sum += F.cross_entropy(logits, labels, reduction="sum").double()
        correct += (logits.argmax(dim=1) == labels).sum()
    n = X.shape[0]
    return float(loss_sum) / n, int(correct) / n
