"""Question 2.1: logistic regression, one linear layer (the softmax is in the loss)."""

from __future__ import annotations

from torch import nn

from homework1.plan.specs import ModelSpec

SPEC = ModelSpec(
    question="q2", name="logreg",
    hparams=["epochs", "batch_size", "learning_rate", "weight_decay", "momentum"],
    steps=["fused", "cuda_graph"],
)


def build(input_shape: tuple[int], n_classes: int) -> nn.Module:
    return nn.Linear(input_shape[0], n_classes)
