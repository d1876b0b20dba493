"""Question 1's models in plain numpy, as a student writes them: the readable reference.

No autograd: every gradient is written out by hand (the tests compare them with
torch's). Each model trains by per-example SGD (``train_epoch``) over the
examples in a given visiting order; ``homework1.q1.train`` runs the course's
sequence of epochs with them, or with the compiled kernels of
``homework1.q1.kernels``, which do the same arithmetic faster.
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


MODELS = {"perceptron": Perceptron, "logreg": LogisticRegression, "mlp": MLP}


def uses_bias(model_name: str) -> bool:
    """The linear models get a constant 1 feature appended; the MLP has real biases instead."""
    if model_name not in MODELS:
        raise ValueError(f"unknown model {model_name!r}; expected one of {', '.join(MODELS)}")
    return model_name != "mlp"


def build_model(model_name: str, n_classes: int, n_features: int, hidden_size: int | None = None):
    """A fresh model; ``hidden_size`` for the MLP only."""
    uses_bias(model_name)  # validates the name
    if model_name == "mlp":
        return MLP(n_classes, n_features, hidden_size)
    return MODELS[model_name](n_classes, n_features)
