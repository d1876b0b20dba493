"""Question 1.3: a one-hidden-layer ReLU MLP (its own biases: no bias feature)."""

from __future__ import annotations

import math

import numpy as np

from homework1.q1.models.base import examples, softmax_cross_entropy
from homework1.plan.specs import ModelSpec

SPEC = ModelSpec(
    question="q1", name="mlp",
    hparams=["epochs", "learning_rate", "hidden_size"],
    architecture=["hidden_size"],
    steps=["numba kernels"],
    figures=["mlp_loss"],
)


class MLP:
    """One hidden layer of ReLU units, softmax output, cross-entropy loss."""

    def __init__(self, n_classes: int, n_features: int, hidden_size: int):
        # the course's init, drawn from numpy's global generator in this order
        self.W1 = np.random.normal(0.1, 0.1, (hidden_size, n_features))
        self.b1 = np.zeros(hidden_size)
        self.W2 = np.random.normal(0.1, 0.1, (n_classes, hidden_size))
        self.b2 = np.zeros(n_classes)

    def parameters(self) -> dict[str, np.ndarray]:
        return {"W1": self.W1, "b1": self.b1, "W2": self.W2, "b2": self.b2}

    def predict(self, X: np.ndarray) -> np.ndarray:
        hidden = np.maximum(X @ self.W1.T + self.b1, 0.0)
        return (hidden @ self.W2.T + self.b2).argmax(axis=1)

    def evaluate(self, X: np.ndarray, y: np.ndarray) -> float:
        return float((self.predict(X) == y).mean())

    def gradients(self, x: np.ndarray, y: int) -> tuple[float, dict[str, np.ndarray]]:
        """Forward and backward pass for one example: its loss and d loss / d parameter."""
        z1 = np.dot(self.W1, x) + self.b1
        h = np.maximum(z1, 0.0)
        loss, dz2 = softmax_cross_entropy(np.dot(self.W2, h) + self.b2, y)
        dz1 = np.dot(dz2, self.W2) * (z1 > 0)  # back through W2, then through the ReLU
        return loss, {"W1": np.outer(dz1, x), "b1": dz1, "W2": np.outer(dz2, h), "b2": dz2}

    def update(self, x: np.ndarray, y: int, learning_rate: float) -> float:
        loss, grads = self.gradients(x, y)
        for name, param in self.parameters().items():
            step = grads[name]
            step *= learning_rate  # in place: the gradient arrays are fresh, and W1's is large
            param -= step
        return loss

    def train_epoch(self, X: np.ndarray, y: np.ndarray, learning_rate: float,
                    order: np.ndarray | None = None) -> float:
        """One pass of per-example SGD; the mean loss (each taken before its update)."""
        total = 0.0
        for x_i, y_i in examples(X, y, order):
            loss = self.update(x_i, y_i, learning_rate)
            if not math.isfinite(loss):
                return loss  # diverged: the rest of the epoch would be NaN too
            total += loss
        return total / len(y)

    def accuracy(self, X: np.ndarray, y: np.ndarray, features=None) -> float:
        return self.evaluate(X, y)  # the hidden layer is a matrix product: BLAS is best, on either path

    def fast_epoch(self, features, y: np.ndarray, order: np.ndarray, learning_rate: float) -> float:
        from homework1.q1 import kernels

        return kernels.mlp_epoch(self.W1, self.b1, self.W2, self.b2, features.values, y, order,
                                 float(learning_rate), features.scale)


def build(input_shape: tuple[int], n_classes: int, hidden_size: int) -> MLP:
    return MLP(n_classes, input_shape[0], hidden_size)
