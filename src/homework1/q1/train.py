"""Question 1's training: the course's starter-code sequence, step for step.

The report's deterministic test accuracies can only be reproduced to the last
digit with that exact sequence:

1. seed Python's ``random`` and numpy's legacy global generator;
2. build the model (the MLP draws its weights from the global generator here);
3. every epoch, draw ``np.random.permutation(n)`` and re-order the *already
   shuffled* training arrays with it (orders compound across epochs), train
   one epoch, then evaluate train and validation accuracy (here the composed
   permutation is kept instead of a re-ordered copy: the same visiting order);
4. test accuracy once, at the end.

``implementation="reference"`` trains with the plain classes of
``homework1.q1.models``; ``"fast"`` runs the same epochs through the compiled
kernels of ``homework1.q1.kernels``: the same visiting order and float64
arithmetic, several times faster.
"""

from __future__ import annotations

import math
import time

import numpy as np

from homework1.q1.models import build_model, uses_bias
from homework1.runs import STATUS_DIVERGED, STATUS_OK, TrainResult
from homework1.seeding import seed_everything
from homework1.stopping import StopRequested
from homework1.study import check_hparams

# Each implementation with the training step a run's summary records for it.
TRAINING_STEPS = {"fast": "numba kernels", "reference": "numpy classes"}


def train_one_epoch(model_name: str, model, X, y: np.ndarray, order: np.ndarray, hparams: dict,
                    implementation: str) -> float | None:
    """One epoch over the rows ``order`` of X (an array for the reference, ``kernels.Features``
    for the fast path); its mean loss (None for the perceptron, which has no loss)."""
    learning_rate = hparams.get("learning_rate")
    if implementation == "reference":
        if model_name == "perceptron":
            return model.train_epoch(X, y, order=order)
        if model_name == "logreg":
            return model.train_epoch(X, y, learning_rate, hparams["l2_penalty"], hparams["l1_penalty"], order=order)
        return model.train_epoch(X, y, learning_rate, order=order)
    from homework1.q1 import kernels  # numba: loaded (and compiled, or read from its cache) on this path only

    if model_name == "perceptron":
        return kernels.perceptron_epoch(model.W, X.values, y, order, X.scale, X.bias)
    if model_name == "logreg":
        return kernels.logreg_epoch(model.W, X.values, y, order, float(learning_rate),
                                    float(hparams["l2_penalty"]), float(hparams["l1_penalty"]), X.scale, X.bias)
    return kernels.mlp_epoch(model.W1, model.b1, model.W2, model.b2, X.values, y, order,
                             float(learning_rate), X.scale)


def accuracy_on(model_name: str, model, X: np.ndarray, y: np.ndarray, features=None) -> float:
    """The model's accuracy on (X, y); with ``features`` (the same examples as
    ``kernels.Features``) a linear model is scored by the compiled kernel."""
    if features is None or model_name == "mlp":  # the MLP's hidden layer is a matrix product: BLAS is best
        return model.evaluate(X, y)
    from homework1.q1 import kernels

    return kernels.linear_accuracy(model.W, features.values, y, features.scale, features.bias)


def weights_are_finite(model) -> bool:
    return all(np.isfinite(p).all() for p in model.parameters().values())


def fit(model_name: str, splits: dict, *, seed: int, implementation: str, n_classes: int | None = None,
        stop=None, log=print, **hparams):
    """Train as the course's starter code does; return (trained model, TrainResult).

    ``hparams`` are exactly the model's hyper-parameters (``study.MODEL_HPARAMS``:
    epochs, and learning_rate, l2_penalty, l1_penalty or hidden_size as the model
    uses them); their defaults live in the workflow's config schema. When
    ``stop()`` names a signal after an epoch, ``StopRequested`` is raised: Question 1
    keeps no checkpoint, its runs take a minute at most at the homework's scale.
    """
    uses_bias(model_name)
    check_hparams("q1", model_name, hparams)
    if implementation not in TRAINING_STEPS:
        raise ValueError(f"unknown implementation {implementation!r}; expected one of {', '.join(TRAINING_STEPS)}")
    epochs, learning_rate = hparams["epochs"], hparams.get("learning_rate")
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
        from homework1.q1 import kernels

        features = {split: kernels.compact(X, uses_bias(model_name)) for split, (X, _) in splits.items()}

    seed_everything(seed)
    model = build_model(model_name, n_classes, n_features, hparams.get("hidden_size"))
    extra = {"n_classes": int(n_classes), "n_features": int(n_features), "implementation": implementation,
             "training_step": TRAINING_STEPS[implementation]}

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
                                   train_y, visit, hparams, implementation)
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
        if stop is not None and (signal_name := stop()) and epoch < epochs:
            raise StopRequested(signal_name, epoch, epochs, "Question 1 keeps no checkpoint, a rerun starts afresh")
    wall_time_s = time.perf_counter() - start

    test_acc = accuracy_on(model_name, model, test_X, test_y, features["test"])
    log(f"{model_name} final test acc {test_acc:.4f}")
    return model, TrainResult(history=history, test_acc=test_acc, status=STATUS_OK,
                              wall_time_s=wall_time_s, extra=extra)


def train(model_name: str, splits: dict, **options) -> TrainResult:
    """Train one Q1 model on ``splits`` (from ``data.load_splits``); ``options`` as for ``fit``."""
    return fit(model_name, splits, **options)[1]
