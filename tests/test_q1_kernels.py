"""Q1's compiled kernels (the fast path) against the plain numpy classes (the reference)."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from conftest import SOURCE, image_splits, quiet
from homework1.core.data import flatten_features
from homework1.q1 import fit, kernels, uses_bias
from homework1.q1.models.logreg import LogisticRegression
from homework1.q1.models.mlp import MLP

N_CLASSES = 6
LOGREG = dict(learning_rate=0.01, l2_penalty=0.0, l1_penalty=0.0)


@pytest.fixture(scope="module")
def pixel_splits():
    """Images like the homework's (uint8 pixels, features = pixel / 256), with a class
    signal strong enough that the models learn something and make mistakes too."""
    return {bias: image_splits(bias, sizes=(300, 60, 60), shape=(8, 8, 3), n_classes=N_CLASSES, spread=150,
                               seed=11)
            for bias in (True, False)}


def both_implementations(model_name, splits, **hparams):
    return {implementation: fit(model_name, splits, seed=3, log=quiet, implementation=implementation, **hparams)
            for implementation in ("reference", "fast")}


def accuracies(result):
    return [(row["train_acc"], row["val_acc"]) for row in result.history], result.test_acc


def test_perceptron_weights_are_bit_identical(pixel_splits):
    runs = both_implementations("perceptron", pixel_splits[True], epochs=5)
    (reference, reference_result), (fast, fast_result) = runs["reference"], runs["fast"]
    assert np.array_equal(fast.W, reference.W)  # every partial sum is exact in float64
    assert accuracies(fast_result) == accuracies(reference_result)
    assert 0 < reference_result.history[-1]["train_acc"] < 1  # it made mistakes: W was updated


@pytest.mark.parametrize("penalties", [{}, {"l2_penalty": 0.01}, {"l1_penalty": 0.01}],
                         ids=["plain", "l2", "l1"])
def test_logreg_agrees_with_the_reference(pixel_splits, penalties):
    runs = both_implementations("logreg", pixel_splits[True], epochs=4, **LOGREG | penalties)
    (reference, reference_result), (fast, fast_result) = runs["reference"], runs["fast"]
    np.testing.assert_allclose(fast.W, reference.W, rtol=1e-9, atol=1e-12 * np.abs(reference.W).max())
    assert accuracies(fast_result) == accuracies(reference_result)
    for fast_row, reference_row in zip(fast_result.history, reference_result.history, strict=True):
        assert fast_row["train_loss"] == pytest.approx(reference_row["train_loss"], rel=1e-10)
        assert fast_row["zero_weight_fraction"] == reference_row["zero_weight_fraction"]
    if penalties.get("l1_penalty"):
        assert fast_result.history[-1]["zero_weight_fraction"] > 0  # the soft threshold acted


def test_mlp_agrees_with_the_reference(pixel_splits):
    runs = both_implementations("mlp", pixel_splits[False], epochs=3, learning_rate=0.001, hidden_size=32)
    (reference, reference_result), (fast, fast_result) = runs["reference"], runs["fast"]
    for name, value in reference.parameters().items():
        np.testing.assert_allclose(fast.parameters()[name], value, rtol=1e-9,
                                   atol=1e-12 * np.abs(value).max(), err_msg=name)
    assert accuracies(fast_result) == accuracies(reference_result)
    for fast_row, reference_row in zip(fast_result.history, reference_result.history, strict=True):
        assert fast_row["train_loss"] == pytest.approx(reference_row["train_loss"], rel=1e-10)


@pytest.mark.parametrize("as_pixels", [True, False], ids=["uint8 pixels", "float64 features"])
def test_mlp_kernel_skips_inactive_units_and_still_matches_the_reference(as_pixels):
    rng = np.random.default_rng(0)
    X = rng.integers(0, 256, size=(60, 20)) / 256
    y = rng.integers(0, 3, 60)
    np.random.seed(0)
    reference = MLP(3, 20, hidden_size=8)
    reference.b1[:3] = -1e3  # units 0-2 never fire: their gradient is exactly zero
    # units 3-7 fire for about half of the examples: rows skipped for some, updated for others
    reference.b1[3:] = -np.median(X @ reference.W1[3:].T, axis=0)
    fast = {name: value.copy() for name, value in reference.parameters().items()}
    start = {name: value.copy() for name, value in fast.items()}
    order = rng.permutation(60)

    features = kernels.compact(X, has_bias=False)
    assert features.values.dtype == np.uint8 and features.scale == 1 / 256  # these features are pixels
    if not as_pixels:
        features = kernels.Features(X, 1.0, False)
    loss = kernels.mlp_epoch(fast["W1"], fast["b1"], fast["W2"], fast["b2"], features.values, y, order, 0.05,
                                features.scale)
    reference_loss = reference.train_epoch(X, y, 0.05, order=order)

    assert loss == pytest.approx(reference_loss, rel=1e-12)
    for name, value in reference.parameters().items():
        np.testing.assert_allclose(fast[name], value, rtol=1e-12, err_msg=name)
    assert np.array_equal(fast["W1"][:3], start["W1"][:3]) and np.array_equal(fast["b1"][:3], start["b1"][:3])
    assert (fast["W1"][3:] != start["W1"][3:]).all(axis=1).all()  # the others learned


CACHE_PROBE = """
import json, numpy as np
from homework1.q1 import kernels
W = np.zeros((2, 3))
kernels.perceptron_epoch(W, np.ones((4, 3)), np.array([0, 1, 0, 1]), np.arange(4), 1.0, False)
stats = kernels.perceptron_epoch.stats
print(json.dumps({"hits": sum(stats.cache_hits.values()), "misses": sum(stats.cache_misses.values())}))
"""


def test_compiled_kernels_are_cached_for_the_next_process(tmp_path):
    environment = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path), PYTHONPATH=str(SOURCE))

    def probe():
        output = subprocess.run([sys.executable, "-c", CACHE_PROBE], env=environment, check=True,
                                capture_output=True, text=True).stdout
        return json.loads(output.splitlines()[-1])

    assert probe() == {"hits": 0, "misses": 1}  # compiled, and written to the cache
    assert any(tmp_path.rglob("*.nbi"))
    assert probe() == {"hits": 1, "misses": 0}  # the next job loads it instead of compiling


def test_compact_reads_pixels_back_only_where_they_are_exact():
    rng = np.random.default_rng(1)
    pixels = rng.integers(0, 256, size=(5, 12), dtype=np.uint8)
    with_bias = flatten_features(pixels.reshape(5, 2, 2, 3), add_bias=True)
    features = kernels.compact(with_bias, has_bias=True)
    assert np.array_equal(features.values, pixels) and features.scale == 1 / 256 and features.bias
    assert kernels.compact(with_bias[:, :-1], has_bias=False).bias is False
    for not_pixels in (with_bias + 1e-9,                         # not multiples of 1/256
                       np.hstack([with_bias[:, :-1], np.zeros((5, 1))]),  # no bias column
                       with_bias * 2):                           # beyond 255/256
        features = kernels.compact(not_pixels, has_bias=True)
        assert features.values.dtype == np.float64 and features.scale == 1.0 and not features.bias
        assert np.array_equal(features.values, not_pixels)


def test_linear_accuracy_matches_the_models_own():
    rng = np.random.default_rng(2)
    X = flatten_features(rng.integers(0, 256, size=(200, 4, 4, 3), dtype=np.uint8), add_bias=True)
    y = rng.integers(0, 6, 200)
    W = rng.normal(size=(6, X.shape[1]))
    model = LogisticRegression(6, X.shape[1])
    model.W = W
    for features in (kernels.compact(X, has_bias=True), kernels.Features(X, 1.0, False)):
        assert kernels.linear_accuracy(W, features.values, y, features.scale, features.bias) == \
            model.evaluate(X, y)


@pytest.mark.parametrize("model_name, settings", [
    ("logreg", dict(learning_rate=0.001, l2_penalty=0.0, l1_penalty=0.0)),
    ("logreg", dict(learning_rate=0.001, l2_penalty=0.01, l1_penalty=0.0)),
    ("logreg", dict(learning_rate=0.001, l2_penalty=0.0, l1_penalty=0.001)),
    ("mlp", dict(learning_rate=0.001, hidden_size=100)),
], ids=["logreg", "logreg_l2", "logreg_l1", "mlp"])
def test_the_default_data_set_gives_the_same_accuracies_and_weights(digits_npz, model_name, settings):
    """The homework's settings on the workflow's default data set, a few epochs."""
    from homework1.core.data import load_splits

    splits = load_splits(digits_npz, add_bias=uses_bias(model_name))
    runs = both_implementations(model_name, splits, epochs=4, **settings)
    (reference, reference_result), (fast, fast_result) = runs["reference"], runs["fast"]
    assert accuracies(fast_result) == accuracies(reference_result)
    for name, value in reference.parameters().items():
        np.testing.assert_allclose(fast.parameters()[name], value, rtol=1e-9,
                                   atol=1e-9 * np.abs(value).max(), err_msg=name)
