"""The settings of the SGD that trains Question 2's models, and torch's own optimizer with them."""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import nn


class SGD(NamedTuple):
    """torch.optim.SGD's settings (no dampening, no Nesterov), whichever step applies them."""
    learning_rate: float
    momentum: float
    weight_decay: float


def make_optimizer(model: nn.Module, sgd: SGD) -> torch.optim.SGD:
    """torch's own optimizer for the steps that use it. (Making the first one loads
    torch._dynamo, about a second: the fused CPU step does without.)"""
    return torch.optim.SGD(model.parameters(), lr=sgd.learning_rate, momentum=sgd.momentum,
                           weight_decay=sgd.weight_decay)
