"""Question 1: perceptron, logistic regression and a one-hidden-layer MLP in plain numpy.

No autograd: every gradient is written out by hand (tests compare them with
torch's). Training is per-example SGD and follows the course's starter code
step for step, because the report's deterministic test accuracies can only be
reproduced to the last digit with that exact sequence:

1. seed Python's ``random``, numpy's legacy global generator and torch;
2. build the model (the MLP draws its weights from the global generator here);
3. every epoch, draw ``np.random.permutation(n)`` and re-order the *already
   shuffled* training arrays with it (orders compound across epochs), train
   one epoch, then evaluate train and validation accuracy (here the composed
   permutation is kept instead of a re-ordered copy: the same visiting order);
4. test accuracy once, at the end.

The classes below are the readable reference, written as a student would.
``implementation="fast"`` (the default) runs the same epochs through the
compiled kernels of ``q1_kernels`` instead: the same visiting order and
float64 arithmetic, several times faster; ``"reference"`` runs these classes.

Example::

    from homework1.data import load_splits
    from homework1.q1 import train, uses_bias
    splits = load_splits("data.npz", add_bias=uses_bias("logreg"))
    result = train("logreg", splits, epochs=100, learning_rate=0.001, l2_penalty=0.01)
"""

from __future__ import annotations

import math
import random
import time

import numpy as np

from homework1.runs import STATUS_DIVERGED, STATUS_OK, TrainResult

MODEL_NAMES = ("perceptron", "logreg", "mlp")
IMPLEMENTATIONS = ("fast", "reference")


def uses_bias(model_name: str) -> bool:
    """The linear models get a constant 1 feature appended; the MLP has real biases instead."""
    if model_name not in MODEL_NAMES:
        raise ValueError(f"unknown model {model_name!r}; expected one of {', '.join(MODEL_NAMES)}")
    return model_name != "mlp"


def configure_seed(seed: int) -> None:
    """The course's ``configure_seed``: everything that could draw random numbers."""
    import torch  # nothing in Q1 draws from torch; seeded only to mirror the course

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


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

    def __init__(self, n_classes: int, n_features: int, hidden_size: int = 100):
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


def build_model(model_name: str, n_classes: int, n_features: int, hidden_size: int = 100):
    uses_bias(model_name)  # validates the name
    if model_name == "perceptron":
        return Perceptron(n_classes, n_features)
    if model_name == "logreg":
        return LogisticRegression(n_classes, n_features)
    return MLP(n_classes, n_features, hidden_size)


def train_one_epoch(model_name: str, model, X, y: np.ndarray, order: np.ndarray,
                    learning_rate: float | None, l2_penalty: float, l1_penalty: float,
                    implementation: str = "fast") -> float | None:
    """One epoch over the rows ``order`` of X (an array for the reference, ``q1_kernels.Features``
    for the fast path); its mean loss (None for the perceptron, which has no loss)."""
    if implementation == "reference":
        if model_name == "perceptron":
            return model.train_epoch(X, y, order=order)
        if model_name == "logreg":
            return model.train_epoch(X, y, learning_rate, l2_penalty, l1_penalty, order=order)
        return model.train_epoch(X, y, learning_rate, order=order)
    from homework1 import q1_kernels  # compiled on first use (then cached): only on this path

    if model_name == "perceptron":
        return q1_kernels.perceptron_epoch(model.W, X.values, y, order, X.scale, X.bias)
    if model_name == "logreg":
        return q1_kernels.logreg_epoch(model.W, X.values, y, order, float(learning_rate),
                                       float(l2_penalty), float(l1_penalty), X.scale, X.bias)
    return q1_kernels.mlp_epoch(model.W1, model.b1, model.W2, model.b2, X.values, y, order,
                                float(learning_rate), X.scale)


def accuracy_on(model_name: str, model, X: np.ndarray, y: np.ndarray, features=None) -> float:
    """The model's accuracy on (X, y); with ``features`` (the same examples as
    ``q1_kernels.Features``) a linear model is scored by the compiled kernel."""
    if features is None or model_name == "mlp":  # the MLP's hidden layer is a matrix product: BLAS is best
        return model.evaluate(X, y)
    from homework1 import q1_kernels

    return q1_kernels.linear_accuracy(model.W, features.values, y, features.scale, features.bias)


def weights_are_finite(model) -> bool:
    return all(np.isfinite(p).all() for p in model.parameters().values())


def fit(model_name: str, splits: dict, *, epochs: int, learning_rate: float | None = None,
        l2_penalty: float = 0.0, l1_penalty: float = 0.0, hidden_size: int = 100,
        seed: int = 42, n_classes: int | None = None, implementation: str = "fast", log=print):
    """Train as the course's starter code does; return (trained model, TrainResult)."""
    uses_bias(model_name)
    if implementation not in IMPLEMENTATIONS:
        raise ValueError(f"unknown implementation {implementation!r}; expected one of {', '.join(IMPLEMENTATIONS)}")
    if (l2_penalty or l1_penalty) and model_name != "logreg":
        raise ValueError(f"{model_name} takes no l2/l1 penalty (got l2={l2_penalty}, l1={l1_penalty})")
    if learning_rate is None and model_name != "perceptron":  # the course's perceptron has none
        raise ValueError(f"{model_name} needs a learning rate")
    train_X, train_y = splits["train"]
    val_X, val_y = splits["val"]
    test_X, test_y = splits["test"]
    if n_classes is None:
        n_classes = np.unique(train_y).size  # the course's count
    n_train, n_features = train_X.shape
    if train_y.min() < 0 or train_y.max() >= n_classes:
        # the compiled kernels index weight rows by label without bounds checks
        raise ValueError(f"training labels must lie in 0..{n_classes - 1}, got {train_y.min()}..{train_y.max()}")
    visit = np.arange(n_train)  # the order the epoch visits the training examples in
    features = dict.fromkeys(splits)  # what the fast path reads: the splits' pixels
    if implementation == "fast":
        from homework1 import q1_kernels

        features = {split: q1_kernels.compact(X, uses_bias(model_name)) for split, (X, _) in splits.items()}

    configure_seed(seed)
    model = build_model(model_name, n_classes, n_features, hidden_size)
    extra = {"n_classes": int(n_classes), "n_features": int(n_features), "implementation": implementation,
             "training_step": "numba kernels" if implementation == "fast" else "numpy classes"}

    history = []
    start = time.perf_counter()
    for epoch in range(1, epochs + 1):
        epoch_start = time.perf_counter()
        # The course re-orders its already shuffled arrays (X = X[p] every epoch);
        # composing the permutations visits the examples in that very order
        # without copying the whole training set (700 MB at full scale) each epoch.
        visit = visit[np.random.permutation(n_train)]
        # a diverging run overflows: that is detected just below and reported, not warned about
        with np.errstate(over="ignore", invalid="ignore"):
            loss = train_one_epoch(model_name, model, train_X if features["train"] is None else features["train"],
                                   train_y, visit, learning_rate, l2_penalty, l1_penalty, implementation)
            weight_norm = None if model_name == "mlp" else float(np.linalg.norm(model.W))
        if not weights_are_finite(model) or any(value is not None and not math.isfinite(value)
                                                for value in (loss, weight_norm)):
            message = (f"{model_name} diverged in epoch {epoch} at learning rate {learning_rate}: "
                       f"the loss or the weights (or their norm) became non-finite")
            log(message)
            return model, TrainResult(history=history, test_acc=None, status=STATUS_DIVERGED,
                                      wall_time_s=time.perf_counter() - start, message=message,
                                      extra=extra)
        row = {"epoch": epoch,
               "train_acc": accuracy_on(model_name, model, train_X, train_y, features["train"]),
               "val_acc": accuracy_on(model_name, model, val_X, val_y, features["val"])}
        if loss is not None:
            row["train_loss"] = loss
        if weight_norm is not None:
            row["weight_norm"] = weight_norm
        if model_name == "logreg":
            row["zero_weight_fraction"] = float((model.W == 0).mean())
        row["epoch_time_s"] = time.perf_counter() - epoch_start
        history.append(row)
        log(f"{model_name} epoch {epoch}/{epochs} | "
            + " | ".join(f"{key} {value:.4f}" for key, value in row.items() if key != "epoch"))
    wall_time_s = time.perf_counter() - start

    test_acc = accuracy_on(model_name, model, test_X, test_y, features["test"])
    log(f"{model_name} final test acc {test_acc:.4f}")
    return model, TrainResult(history=history, test_acc=test_acc, status=STATUS_OK,
                              wall_time_s=wall_time_s, extra=extra)


def train(model_name: str, splits: dict, *, epochs: int, learning_rate: float | None = None,
          l2_penalty: float = 0.0, l1_penalty: float = 0.0, hidden_size: int = 100,
          seed: int = 42, n_classes: int | None = None, implementation: str = "fast",
          log=print) -> TrainResult:
    """Train one Q1 model on ``splits`` (from ``data.load_splits``); see the module docstring."""
    _, result = fit(model_name, splits, epochs=epochs, learning_rate=learning_rate,
                    l2_penalty=l2_penalty, l1_penalty=l1_penalty, hidden_size=hidden_size,
                    seed=seed, n_classes=n_classes, implementation=implementation, log=log)
    return result
