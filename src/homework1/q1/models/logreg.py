"""Question 1.2: multinomial logistic regression, plain, with L2 or with L1."""

from __future__ import annotations

import math

import numpy as np

from homework1.q1.models.base import LinearModel, examples, softmax_cross_entropy
from homework1.plan.specs import ModelSpec

SPEC = ModelSpec(
    question="q1", name="logreg",
    hparams=["epochs", "learning_rate", "l2_penalty", "l1_penalty"],
    bias=True,
    steps=["numba kernels"],
    metrics=["weight_norm", "zero_weight_fraction"],
    figures=["weight_norm", "sparsity"],
)


class LogisticRegression(LinearModel):
    """Multinomial logistic regression: softmax + cross-entropy, optional L2 and L1 penalties."""

    def gradients(self, x: np.ndarray, y: int) -> tuple[float, dict[str, np.ndarray]]:
        """The example's loss and d loss / d W (penalties excluded: they act in the update)."""
        loss, dscores = softmax_cross_entropy(np.dot(self.W, x), y)
        return loss, {"W": np.outer(dscores, x)}

    def update(self, x: np.ndarray, y: int, learning_rate: float,
               l2_penalty: float = 0.0, l1_penalty: float = 0.0) -> float:
        loss, grads = self.gradients(x, y)
        step = grads["W"]
        step *= learning_rate
        if l2_penalty:
            # L2 as weight decay: W <- (1 - lr*l2) W - lr*grad
            self.W *= 1 - learning_rate * l2_penalty
        self.W -= step
        if l1_penalty:
            # proximal step for L1 (soft threshold): small weights land exactly on zero
            W = self.W
            self.W = np.sign(W) * np.maximum(np.abs(W) - learning_rate * l1_penalty, 0.0)
        return loss

    def train_epoch(self, X: np.ndarray, y: np.ndarray, learning_rate: float,
                    l2_penalty: float = 0.0, l1_penalty: float = 0.0, order: np.ndarray | None = None) -> float:
        """One pass of per-example SGD; the mean loss (each taken before its update)."""
        total = 0.0
        for x_i, y_i in examples(X, y, order):
            loss = self.update(x_i, y_i, learning_rate, l2_penalty, l1_penalty)
            if not math.isfinite(loss):
                return loss  # diverged: the rest of the epoch would be NaN too
            total += loss
        return total / len(y)

    def fast_epoch(self, features, y: np.ndarray, order: np.ndarray, learning_rate: float,
                   l2_penalty: float = 0.0, l1_penalty: float = 0.0) -> float:
        from homework1.q1 import kernels

        return kernels.logreg_epoch(self.W, features.values, y, order, float(learning_rate), float(l2_penalty),
                                    float(l1_penalty), features.scale, features.bias)


def build(input_shape: tuple[int], n_classes: int) -> LogisticRegression:
    return LogisticRegression(n_classes, input_shape[0])
