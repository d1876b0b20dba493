"""Q1's numpy models: the course's training sequence, hand-written gradients against
torch's autograd, the L2/L1 penalties, divergence handling and perceptron convergence."""

import dataclasses
import json
import os
import subprocess
import sys
import importlib
import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from conftest import IMPLEMENTATIONS, SOURCE, image_arrays, quiet
from homework1.benchmark import course
from homework1.core.data import load_splits, write_npz
from homework1.q1 import fit, train, uses_bias, weights_are_finite
from homework1.q1.models.logreg import LogisticRegression
from homework1.q1.models.mlp import MLP
from homework1.plan.specs import model_spec
from homework1.core.runs import METRIC_COLUMNS, STATUS_DIVERGED, STATUS_OK
from homework1.core.stopping import StopRequested

N_CLASSES = 3
IMAGE_SHAPE = (2, 2, 3)  # 12 features
HIDDEN = 8
# The hyper-parameters of each model (the workflow's job passes exactly these).
CASES = {
    "perceptron": dict(),
    "logreg": dict(learning_rate=0.01, l2_penalty=0.1, l1_penalty=0.0),
    "mlp": dict(learning_rate=0.01, hidden_size=HIDDEN),
}
LOGREG = dict(learning_rate=0.01, l2_penalty=0.0, l1_penalty=0.0)


@pytest.fixture(scope="module")
def npz_path(tmp_path_factory):
    """A tiny, noisy but learnable data set written in the course's npz layout (no pixel is 0:
    every weight of an unregularised model moves)."""
    path = tmp_path_factory.mktemp("data") / "tiny.npz"
    write_npz(path, image_arrays(sizes=(60, 30, 30), shape=IMAGE_SHAPE, n_classes=N_CLASSES, spread=50))
    return path


def splits_for(npz_path, model_name):
    return load_splits(npz_path, add_bias=uses_bias(model_name))


@pytest.mark.parametrize("implementation", IMPLEMENTATIONS)
@pytest.mark.parametrize("model_name", list(CASES))
def test_train_follows_the_course_sequence(npz_path, model_name, implementation):
    splits = splits_for(npz_path, model_name)
    course_model, expected = course.q1_main_loop(model_name, splits, epochs=4, seed=42, **CASES[model_name])
    model, result = fit(model_name, splits, seed=42, implementation=implementation, epochs=4, log=quiet,
                        **CASES[model_name])

    assert result.status == STATUS_OK and result.extra["implementation"] == implementation
    assert [row["epoch"] for row in result.history] == [1, 2, 3, 4]
    for key in ("train_acc", "val_acc"):
        assert [row[key] for row in result.history] == [row[key] for row in expected], key
    assert result.test_acc == course_model.evaluate(*splits["test"])
    params = model.parameters()
    for name, value in params.items():
        if model_name == "perceptron":  # pixel/256 sums are exact in float64
            assert np.array_equal(value, vars(course_model)[name])
        else:
            np.testing.assert_allclose(value, vars(course_model)[name], rtol=0, atol=1e-12)
    if model_name != "perceptron":
        np.testing.assert_allclose([row["train_loss"] for row in result.history],
                                   [row["train_loss"] for row in expected], rtol=1e-12)
    if model_name != "mlp":
        norms = [row["weight_norm"] for row in result.history]
        assert norms[-1] == pytest.approx(np.linalg.norm(course_model.W), rel=1e-12)
    for row in result.history:
        assert set(row) <= set(METRIC_COLUMNS)
        assert row["epoch_time_s"] >= 0
        assert ("train_loss" in row) == (model_name != "perceptron")
        assert ("zero_weight_fraction" in row) == (model_name == "logreg")


def test_seed_and_compounding_shuffles_change_the_result(npz_path):
    # the sequence test above could not tell these apart if they gave the same weights
    splits = splits_for(npz_path, "perceptron")
    model_42, _ = fit("perceptron", splits, seed=42, implementation="fast", epochs=4, log=quiet)
    model_7, _ = fit("perceptron", splits, seed=7, implementation="fast", epochs=4, log=quiet)
    assert not np.array_equal(model_42.W, model_7.W)
    fresh_shuffles, _ = course.q1_main_loop("perceptron", splits, epochs=4, seed=42, compound_shuffles=False)
    assert not np.array_equal(model_42.W, fresh_shuffles.W)


def test_train_logs_one_line_per_epoch_and_counts_classes(npz_path):
    lines = []
    result = train("logreg", splits_for(npz_path, "logreg"), seed=42, implementation="fast", epochs=3,
                   log=lines.append, **LOGREG)
    assert sum(line.startswith("logreg epoch") for line in lines) == 3
    assert result.extra["n_classes"] == N_CLASSES
    assert result.extra["n_features"] == np.prod(IMAGE_SHAPE) + 1
    assert 0 <= result.test_acc <= 1


@pytest.mark.parametrize("implementation", IMPLEMENTATIONS)
def test_labels_outside_the_classes_are_refused(npz_path, implementation):
    splits = splits_for(npz_path, "perceptron")
    X, y = splits["train"]
    splits["train"] = (X, np.where(y == 2, 7, y))  # class 2 relabelled 7: only 0, 1, 7 remain
    with pytest.raises(ValueError, match=r"labels must lie in 0\.\.2, got 0\.\.7"):
        fit("perceptron", splits, seed=42, epochs=1, log=quiet, implementation=implementation)


def test_uses_bias_and_bad_arguments():
    assert uses_bias("perceptron") and uses_bias("logreg") and not uses_bias("mlp")
    with pytest.raises(ValueError, match="unknown model"):
        uses_bias("svm")
    with pytest.raises(ValueError, match="mlp uses epochs, learning_rate, hidden_size; takes no l2_penalty"):
        train("mlp", {}, seed=42, implementation="fast", epochs=1, learning_rate=0.1, hidden_size=4,
              l2_penalty=0.01, log=quiet)
    with pytest.raises(ValueError, match="missing learning_rate, l2_penalty, l1_penalty"):
        train("logreg", {}, seed=42, implementation="fast", epochs=1, log=quiet)
    with pytest.raises(ValueError, match="unknown implementation 'compiled'"):
        train("perceptron", {}, seed=42, implementation="compiled", epochs=1, log=quiet)


# --- gradients against torch autograd ---

@pytest.mark.parametrize("seed", [0, 1, 2])
def test_logreg_gradients_match_torch(seed):
    rng = np.random.default_rng(seed)
    model = LogisticRegression(5, 9)
    model.W = rng.normal(0, 3, size=(5, 9))  # large scores too: checks the stable softmax
    x, y = rng.normal(size=9), int(rng.integers(5))
    loss, grads = model.gradients(x, y)

    W = torch.tensor(model.W, requires_grad=True)
    torch_loss = F.cross_entropy((W @ torch.tensor(x)).unsqueeze(0), torch.tensor([y]))
    torch_loss.backward()
    assert loss == pytest.approx(torch_loss.item(), rel=1e-12)
    np.testing.assert_allclose(grads["W"], W.grad.numpy(), rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_mlp_gradients_match_torch(seed):
    rng = np.random.default_rng(seed)
    model = MLP(4, 10, hidden_size=16)
    for name, param in model.parameters().items():
        param[...] = rng.normal(size=param.shape)  # mixed signs: some ReLUs off
    x, y = rng.normal(size=10), int(rng.integers(4))
    assert 0 < (np.dot(model.W1, x) + model.b1 > 0).sum() < 16
    loss, grads = model.gradients(x, y)

    params = {name: torch.tensor(value, requires_grad=True) for name, value in model.parameters().items()}
    hidden = torch.relu(params["W1"] @ torch.tensor(x) + params["b1"])
    scores = params["W2"] @ hidden + params["b2"]
    torch_loss = F.cross_entropy(scores.unsqueeze(0), torch.tensor([y]))
    torch_loss.backward()
    assert loss == pytest.approx(torch_loss.item(), rel=1e-12)
    assert grads.keys() == params.keys()
    for name, param in params.items():
        np.testing.assert_allclose(grads[name], param.grad.numpy(), rtol=1e-10, atol=1e-14)


def test_update_steps_along_the_gradient():
    rng = np.random.default_rng(3)
    model = MLP(3, 6, hidden_size=5)
    before = {name: value.copy() for name, value in model.parameters().items()}
    x, y = rng.uniform(size=6), 1
    loss, grads = model.gradients(x, y)
    assert model.update(x, y, learning_rate=0.5) == loss
    for name, value in model.parameters().items():
        np.testing.assert_allclose(value, before[name] - 0.5 * grads[name], rtol=0, atol=1e-15)


# --- penalties ---

def test_l2_shrinks_weights_and_l1_makes_exact_zeros(npz_path):
    splits = splits_for(npz_path, "logreg")
    runs = {name: train("logreg", splits, seed=42, implementation="fast", epochs=5, log=quiet,
                        **dict(LOGREG, learning_rate=0.05) | penalty)
            for name, penalty in {"none": {}, "l2": {"l2_penalty": 0.5}, "l1": {"l1_penalty": 0.2}}.items()}
    norms = {name: np.array([row["weight_norm"] for row in run.history]) for name, run in runs.items()}
    assert np.all(norms["l2"] < norms["none"])
    zeros = {name: run.history[-1]["zero_weight_fraction"] for name, run in runs.items()}
    assert zeros["none"] == 0.0
    assert zeros["l2"] == 0.0
    assert 0.0 < zeros["l1"] < 1.0


# --- divergence ---

# A merely large rate does not overflow the MLP here: one big step drives every ReLU
# below zero and the network goes dead but finite (seen up to lr 1e150 on this data).
# These rates make lr * gradient * activations leave float64's range for real.
@pytest.mark.parametrize("implementation", IMPLEMENTATIONS)
@pytest.mark.parametrize("model_name, learning_rate", [("mlp", 1e200), ("logreg", 1e308)])
def test_huge_learning_rate_diverges_without_raising(npz_path, model_name, learning_rate, implementation):
    splits = splits_for(npz_path, model_name)
    lines = []
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # not even an overflow warning escapes
        model, result = fit(model_name, splits, seed=42, epochs=3, log=lines.append, implementation=implementation,
                            **dict(CASES[model_name], learning_rate=learning_rate))
    assert result.status == STATUS_DIVERGED
    assert result.test_acc is None
    assert result.history == []  # it overflowed within the first epoch
    assert "diverged in epoch 1" in result.message and result.message in lines
    assert not weights_are_finite(model)  # the overflow was real


# --- perceptron convergence ---

def test_perceptron_separates_separable_data():
    rng = np.random.default_rng(5)
    n, block = 90, 4
    labels = rng.permutation(np.arange(n) % N_CLASSES)
    X = rng.uniform(0.0, 0.3, size=(n, N_CLASSES * block))
    for c in range(N_CLASSES):  # class c is bright in its own block of features
        X[labels == c, c * block:(c + 1) * block] += 0.6
    X = np.hstack([X, np.ones((n, 1))])
    splits = {"train": (X, labels), "val": (X[:30], labels[:30]), "test": (X[30:], labels[30:])}
    result = train("perceptron", splits, seed=42, implementation="fast", epochs=20, log=quiet)
    assert result.history[-1]["train_acc"] == 1.0
    assert result.test_acc == 1.0


def test_a_stop_ends_the_run_after_the_epoch_without_a_checkpoint(npz_path):
    lines = []

    def stop():
        return "SIGTERM" if any(line.startswith("logreg epoch 2/") for line in lines) else None
    with pytest.raises(StopRequested, match="stopped by SIGTERM after epoch 2 of 5: Question 1 keeps no checkpoint"):
        train("logreg", splits_for(npz_path, "logreg"), seed=42, implementation="fast", epochs=5,
              log=lines.append, stop=stop, **LOGREG)
    assert sum(line.startswith("logreg epoch") for line in lines) == 2


def test_a_model_whose_spec_lists_no_kernel_trains_with_the_numpy_classes(npz_path, monkeypatch):
    # the logistic regression as a user's model without a compiled kernel: its spec lists no fast step
    q1_train = importlib.import_module("homework1.q1.train")  # the module (the package exports its train())
    spec = dataclasses.replace(model_spec("q1", "logreg"), steps=())
    monkeypatch.setattr(q1_train, "model_spec", lambda question, name: spec)
    lines = []
    splits = splits_for(npz_path, "logreg")
    model, result = fit("logreg", splits, seed=42, implementation="fast", epochs=2, log=lines.append, **LOGREG)
    assert result.extra["training_step"] == "numpy classes" and result.extra["implementation"] == "fast"
    assert lines[0] == "logreg: its spec lists no numba kernels step; training with the numpy classes step"
    reference, expected = fit("logreg", splits, seed=42, implementation="reference", epochs=2, log=quiet, **LOGREG)
    assert [row["val_acc"] for row in result.history] == [row["val_acc"] for row in expected.history]
    assert np.array_equal(model.W, reference.W)


SPY_ON_COMPILES = """
import json
import sys
from numba.core.dispatcher import Dispatcher
import importlib
q1_train = importlib.import_module("homework1.q1.train")
from homework1.core.data import load_splits

events = []
compile_overload = Dispatcher.compile
def compile_noted(self, sig):
    if tuple(sig) not in self.overloads:
        events.append("compile " + self.py_func.__name__)
    return compile_overload(self, sig)
Dispatcher.compile = compile_noted
one_epoch = q1_train.train_one_epoch
def epoch_noted(*args, **kwargs):
    events.append("epoch")
    return one_epoch(*args, **kwargs)
q1_train.train_one_epoch = epoch_noted

model, hparams = sys.argv[2], eval(sys.argv[3])
splits = load_splits(sys.argv[1], add_bias=q1_train.uses_bias(model))
result = q1_train.train(model, splits, seed=42, implementation="fast", epochs=2, log=lambda line: None, **hparams)
timed = events[events.index("epoch"):]
print(json.dumps({"before": len(events) - len(timed), "timed": [event for event in timed if event != "epoch"],
                  "cpu_time_s": getattr(result, "cpu_time_s", None),
                  "kernel_compile_s": result.extra.get("kernel_compile_s")}))
"""


@pytest.mark.parametrize("model_name", list(CASES))
def test_no_compile_lands_in_a_runs_time(npz_path, model_name, tmp_path):
    """In a fresh process (nothing compiled yet, an empty numba cache), every kernel the run calls is
    compiled before its timed loop starts: its wall and CPU time hold training alone."""
    done = subprocess.run([sys.executable, "-c", SPY_ON_COMPILES, str(npz_path), model_name, repr(CASES[model_name])],
                          capture_output=True, text=True,
                          env=dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path), PYTHONPATH=str(SOURCE)))
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout)
    assert seen["before"] > 0  # the spy sees compiles
    assert seen["timed"] == []
    assert seen["cpu_time_s"] > 0 and seen["kernel_compile_s"] > 0
