"""Question 1.1: the multi-class perceptron."""

from __future__ import annotations

import numpy as np

from homework1.q1.models.base import LinearModel, examples
from homework1.plan.specs import ModelSpec

SPEC = ModelSpec(
    question="q1", name="perceptron",
    hparams=["epochs"],
    bias=True,
    steps=["numba kernels"],
    metrics=["weight_norm"],
)


class Perceptron(LinearModel):
    """Multi-class perceptron: on a mistake, pull the true class towards x and push the guess away."""

    def update(self, x: np.ndarray, y: int) -> None:
        y_hat = int(np.dot(self.W, x).argmax())
        if y_hat != y:
            self.W[y] += x
            self.W[y_hat] -= x

    def train_epoch(self, X: np.ndarray, y: np.ndarray, order: np.ndarray | None = None) -> None:
        for x_i, y_i in examples(X, y, order):
            self.update(x_i, y_i)

    def fast_epoch(self, features, y: np.ndarray, order: np.ndarray) -> None:
        from homework1.q1 import kernels

        return kernels.perceptron_epoch(self.W, features.values, y, order, features.scale, features.bias)


def build(input_shape: tuple[int], n_classes: int) -> Perceptron:
    return Perceptron(n_classes, input_shape[0])
