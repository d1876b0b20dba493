"""Question 1's training: the course's starter-code sequence, step for step.

The report's test accuracies are reproduced to the last digit only by that exact sequence: seed
Python's ``random`` and numpy's legacy generator; build the model; every epoch draw
``np.random.permutation(n)`` and re-order the *already shuffled* training order with it (orders
compound), train one epoch, evaluate train and validation accuracy; test accuracy once at the end.

``implementation="reference"`` trains with the model's numpy class; ``"fast"`` with the kernels of
``homework1.q1.kernels`` where the model's spec lists them, else with the numpy class.
"""

from __future__ import annotations

import copy
import math
import time

import numpy as np

from homework1.core.runs import STATUS_DIVERGED, STATUS_OK, TrainResult
from homework1.core.seeding import seed_everything
from homework1.plan.specs import NUMBA_KERNELS, REFERENCE_STEPS, load_model, model_spec
from homework1.core.stopping import StopRequested
from homework1.plan.study import check_hparams

# Each implementation with the training step it asks for (the name a run's summary records).
IMPLEMENTATION_STEPS = {"fast": NUMBA_KERNELS, "reference": REFERENCE_STEPS["q1"]}
FAST_STEP = IMPLEMENTATION_STEPS["fast"]

# The extra per-epoch metrics a model's spec may ask for, from its trained weights.
EPOCH_METRICS = {
    "weight_norm": lambda model: float(np.linalg.norm(model.W)),
    "zero_weight_fraction": lambda model: float((model.W == 0).mean()),
}


def uses_bias(model_name: str) -> bool:
    """Whether the model's features get a constant 1 appended (its spec says)."""
    return model_spec("q1", model_name).bias


def training_step_for(model_name: str, implementation: str, log=print) -> str:
    """The step that trains the model: the implementation's where the model's spec lists it, else
    the numpy classes (a model without a compiled kernel), which the log is told."""
    if implementation not in IMPLEMENTATION_STEPS:
        raise ValueError(f"unknown implementation {implementation!r}; "
                         f"expected one of {', '.join(IMPLEMENTATION_STEPS)}")
    step = IMPLEMENTATION_STEPS[implementation]
    if model_spec("q1", model_name).trains_with(step):
        return step
    reference = IMPLEMENTATION_STEPS["reference"]
    log(f"{model_name}: its spec lists no {step} step; training with the {reference} step")
    return reference


def build_model(model_name: str, input_shape: tuple, n_classes: int, **hparams):
    """A fresh model from its module's ``build`` (``hparams``: at least its architecture's)."""
    spec = model_spec("q1", model_name)
    return load_model("q1", model_name).build(tuple(input_shape), n_classes,
                                              **{key: hparams[key] for key in spec.architecture})


def weights_are_finite(model) -> bool:
    return all(np.isfinite(p).all() for p in model.parameters().values())


def class_count(splits: dict, n_classes: int | None) -> int:
    """The number of classes (the course's count, unless given), with every training label in range:
    the compiled kernels index weight rows by label without bounds checks."""
    train_y = splits["train"][1]
    if n_classes is None:
        n_classes = np.unique(train_y).size  # the course's count
    if train_y.min() < 0 or train_y.max() >= n_classes:
        raise ValueError(f"training labels must lie in 0..{n_classes - 1}, got {train_y.min()}..{train_y.max()}")
    return int(n_classes)


def kernel_features(splits: dict, spec) -> dict:
    """What the compiled kernels read of each split: its pixels (``kernels.Features``)."""
    from homework1.q1 import kernels  # numba: loaded (and compiled, or read from its cache) on the fast path only

    return {split: kernels.compact(X, spec.bias) for split, (X, _) in splits.items()}


def train_one_epoch(model, step: str, splits: dict, features: dict, order: np.ndarray, training: dict):
    """One epoch over the training examples in the visiting ``order`` with the step; its mean loss
    (None for a model without one)."""
    with np.errstate(over="ignore", invalid="ignore"):  # divergence is detected in epoch_row
        if step == FAST_STEP:
            return model.fast_epoch(features["train"], splits["train"][1], order, **training)
        return model.train_epoch(*splits["train"], order=order, **training)


def compile_kernels(model, step: str, splits: dict, features: dict, training: dict) -> float:
    """Seconds compiling (or reading from numba's cache) the kernels the run calls, on a copy of the
    model and one example of each split, so that the timed loop holds training alone (no compile lands
    in a run's time). Nothing on the numpy step."""
    if step != FAST_STEP:
        return 0.0
    start = time.perf_counter()
    spare = copy.deepcopy(model)
    with np.errstate(all="ignore"):
        spare.fast_epoch(features["train"], splits["train"][1], np.arange(1, dtype=np.int64), **training)
        for split in ("train", "val", "test"):
            one = features[split]._replace(values=features[split].values[:1])
            spare.accuracy(splits[split][0][:1], splits[split][1][:1], one)
    return time.perf_counter() - start


def epoch_row(model, spec, splits: dict, features: dict, loss) -> dict | None:
    """What an epoch records, scored after it (None if the model diverged): train and
    validation accuracy, its loss where it has one, the extra metrics of its spec."""
    # a diverging run overflows: that is detected here and reported, not warned about
    with np.errstate(over="ignore", invalid="ignore"):
        metrics = {name: EPOCH_METRICS[name](model) for name in spec.metrics}
    if not weights_are_finite(model) or any(value is not None and not math.isfinite(value)
                                            for value in (loss, *metrics.values())):
        return None
    row = {split_metric: model.accuracy(*splits[split], features[split])
           for split, split_metric in (("train", "train_acc"), ("val", "val_acc"))}
    if loss is not None:
        row["train_loss"] = loss
    return row | metrics


def fit(model_name: str, splits: dict, *, seed: int, implementation: str, n_classes: int | None = None,
        stop=None, log=print, **hparams):
    """Train as the course's starter code does; return (trained model, TrainResult).

    ``hparams`` are exactly the model's hyper-parameters (its spec's; defaults in the config
    schema). When ``stop()`` names a signal after an epoch, ``StopRequested`` is raised: Question 1
    keeps no checkpoint, its runs take a minute at most.
    """
    spec = model_spec("q1", model_name)
    check_hparams("q1", model_name, hparams)
    step = training_step_for(model_name, implementation, log)
    n_classes = class_count(splits, n_classes)
    train_X = splits["train"][0]
    features = kernel_features(splits, spec) if step == FAST_STEP else dict.fromkeys(splits)

    seed_everything(seed)
    model = build_model(model_name, train_X.shape[1:], n_classes, **hparams)
    training = {key: hparams[key] for key in spec.training_hparams}
    extra = {"n_classes": n_classes, "n_features": int(train_X.shape[1]), "implementation": implementation,
             "training_step": step,
             "kernel_compile_s": round(compile_kernels(model, step, splits, features, training), 3)}

    epochs, history = hparams["epochs"], []
    visit = np.arange(train_X.shape[0])  # the order the epoch visits the training examples in
    start, cpu_start = time.perf_counter(), time.process_time()
    for epoch in range(1, epochs + 1):
        epoch_start = time.perf_counter()
        # The course re-orders its already shuffled arrays (X = X[p] every epoch);
        # composing the permutations visits the examples in that very order
        # without copying the whole training set (700 MB at full scale) each epoch.
        visit = visit[np.random.permutation(train_X.shape[0])]
        loss = train_one_epoch(model, step, splits, features, visit, training)
        row = epoch_row(model, spec, splits, features, loss)
        if row is None:
            message = (f"{model_name} diverged in epoch {epoch} at learning rate {hparams.get('learning_rate')}: "
                       f"the loss or the weights (or their norm) became non-finite")
            log(message)
            return model, TrainResult(history=history, test_acc=None, status=STATUS_DIVERGED,
                                      wall_time_s=time.perf_counter() - start,
                                      cpu_time_s=time.process_time() - cpu_start, message=message, extra=extra)
        row = {"epoch": epoch, **row, "epoch_time_s": time.perf_counter() - epoch_start}
        history.append(row)
        log(f"{model_name} epoch {epoch}/{epochs} | "
            + " | ".join(f"{key} {value:.4f}" for key, value in row.items() if key != "epoch"))
        if stop is not None and (signal_name := stop()) and epoch < epochs:
            raise StopRequested(signal_name, epoch, epochs, "Question 1 keeps no checkpoint, a rerun starts afresh")
    wall_time_s, cpu_time_s = time.perf_counter() - start, time.process_time() - cpu_start

    test_acc = model.accuracy(*splits["test"], features["test"])
    log(f"{model_name} final test acc {test_acc:.4f}")
    return model, TrainResult(history=history, test_acc=test_acc, status=STATUS_OK,
                              wall_time_s=wall_time_s, cpu_time_s=cpu_time_s, extra=extra)


def train(model_name: str, splits: dict, **options) -> TrainResult:
    """Train one Q1 model on ``splits`` (from ``data.load_splits``); ``options`` as for ``fit``."""
    return fit(model_name, splits, **options)[1]
