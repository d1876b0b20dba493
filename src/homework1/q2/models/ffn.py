"""Question 2.2: a feed-forward network, ``layers`` x (Linear, ReLU, Dropout), then a Linear."""

from __future__ import annotations

from torch import nn

from homework1.plan.specs import ModelSpec

SPEC = ModelSpec(
    question="q2", name="ffn",
    hparams=["epochs", "batch_size", "learning_rate", "weight_decay", "momentum", "dropout", "hidden_size", "layers"],
    architecture=["hidden_size", "layers", "dropout"],
    steps=["fused", "cuda_graph"],
)


def build(input_shape: tuple[int], n_classes: int, *, hidden_size: int, layers: int, dropout: float) -> nn.Module:
    if layers < 1:
        raise ValueError(f"ffn needs at least one hidden layer, got layers={layers}")
    blocks, width = [], input_shape[0]
    for _ in range(layers):
        blocks += [nn.Linear(width, hidden_size), nn.ReLU(), nn.Dropout(dropout)]
        width = hidden_size
    return nn.Sequential(*blocks, nn.Linear(width, n_classes))
