"""Question 2's models and the settings of the SGD that trains them."""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import nn


def logistic_regression(n_features: int, n_classes: int) -> nn.Module:
    """One linear layer."""
    return nn.Linear(n_features, n_classes)


def feed_forward(n_features: int, n_classes: int, *, hidden_size: int, layers: int, dropout: float) -> nn.Module:
    """``layers`` x (Linear, ReLU, Dropout), then a Linear."""
    if layers < 1:
        raise ValueError(f"ffn needs at least one hidden layer, got layers={layers}")
    blocks, width = [], n_features
    for _ in range(layers):
        blocks += [nn.Linear(width, hidden_size), nn.ReLU(), nn.Dropout(dropout)]
        width = hidden_size
    return nn.Sequential(*blocks, nn.Linear(width, n_classes))


MODELS = {"logreg": logistic_regression, "ffn": feed_forward}


def build_model(model_name: str, n_features: int, n_classes: int, **architecture) -> nn.Module:
    """A fresh model: 'logreg' takes no ``architecture``, 'ffn' its hidden_size, layers and dropout."""
    if model_name not in MODELS:
        raise ValueError(f"unknown model {model_name!r}; expected one of {', '.join(MODELS)}")
    return MODELS[model_name](n_features, n_classes, **architecture)


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
