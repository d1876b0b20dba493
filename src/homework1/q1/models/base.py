"""What Question 1's models share: the softmax cross-entropy, the visiting order, linear scores.

Each model is a module of this package named after it, in plain numpy with every gradient written
out by hand, holding its ``SPEC``, its class and ``build(input_shape, n_classes, **architecture)``.
The class has ``train_epoch(X, y, order=..., **training_hparams)`` (one epoch of per-example SGD;
its mean loss or None), ``fast_epoch(features, y, order, ...)`` where the spec lists "numba
kernels", ``accuracy(X, y, features=None)`` and ``parameters()``.
"""

from __future__ import annotations

import math

import numpy as np


def softmax_cross_entropy(scores: np.ndarray, y: int) -> tuple[float, np.ndarray]:
    """Cross-entropy of one example and its gradient w.r.t. the scores, softmax(scores) - onehot(y).

    Shifting by the max keeps exp() from overflowing (log-sum-exp trick).
    """
    top = scores.max()
    exps = np.exp(scores - top)
    total = exps.sum()
    loss = math.log(total) - float(scores[y] - top)
    dscores = exps / total
    dscores[y] -= 1.0
    return loss, dscores


def examples(X: np.ndarray, y: np.ndarray, order: np.ndarray | None):
    """(x, label) pairs in the given visiting order (rows as views: nothing is copied)."""
    labels = y.tolist()
    for i in (range(len(labels)) if order is None else order.tolist()):
        yield X[i], labels[i]


class LinearModel:
    """Scores are W @ x; W starts at zero (the bias is a constant feature of x)."""

    def __init__(self, n_classes: int, n_features: int):
        self.W = np.zeros((n_classes, n_features))

    def parameters(self) -> dict[str, np.ndarray]:
        return {"W": self.W}

    def predict(self, X: np.ndarray) -> np.ndarray:
        # argmax ties go to the lowest class, as in the course's code
        return np.dot(self.W, X.T).argmax(axis=0)

    def evaluate(self, X: np.ndarray, y: np.ndarray) -> float:
        return float((self.predict(X) == y).mean())

    def accuracy(self, X: np.ndarray, y: np.ndarray, features=None) -> float:
        """The accuracy on (X, y); with ``features`` (the same examples as ``kernels.Features``)
        scored by the compiled kernel."""
        if features is None:
            return self.evaluate(X, y)
        from homework1.q1 import kernels  # numba: loaded on the fast path only

        return kernels.linear_accuracy(self.W, features.values, y, features.scale, features.bias)
