"""Question 1's per-example training loops compiled with numba: the fast path.

Each kernel does one epoch of exactly what the model classes of ``models/`` do: the same examples
in the same order, in float64, with the same update formulas. What differs: dot products are summed
in another order (``SUM_IN_ANY_ORDER``: logistic regression and the MLP agree to rounding; the
perceptron bit for bit, its partial sums being exact); features are read as their uint8 pixels
(``Features``); nothing is allocated per example; the MLP streams W1 once per example and skips rows
of inactive hidden units. Kernels are compiled on first use and cached on disk (``cache=True``).
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from numba import njit

# Let LLVM reassociate sums (and ignore the sign of zero) so that the dot
# products vectorise. Not "fast" as a whole: no-NaN/no-Inf assumptions would
# let the compiler delete the divergence checks.
SUM_IN_ANY_ORDER = {"reassoc", "nsz"}
PIXEL_SCALE = 1 / 256


class Features(NamedTuple):
    """A split's features as the kernels read them: row i is [values[i] * scale, then 1 if bias]."""
    values: np.ndarray  # uint8 pixels (scale 1/256), or the float64 features themselves (scale 1)
    scale: float
    bias: bool          # a constant 1 feature follows (pixels only: float64 features carry their own)


def compact(X: np.ndarray, has_bias: bool) -> Features:
    """X as uint8 pixels where it holds pixel / 256 (and, with ``has_bias``, a last column of
    ones), as every data set of the workflow does; else X itself."""
    n_pixels = X.shape[1] - 1 if has_bias else X.shape[1]
    if X.dtype == np.float64 and (not has_bias or (X[:, -1] == 1.0).all()):
        pixels = np.empty((X.shape[0], n_pixels), dtype=np.uint8)
        if _read_pixels(X, pixels):
            return Features(pixels, PIXEL_SCALE, has_bias)
    return Features(np.ascontiguousarray(X), 1.0, False)


@njit(cache=True)
def _read_pixels(X, pixels):
    """pixels <- X * 256 over the first pixels.shape[1] columns; False at the first value
    that is not a whole number from 0 to 255 once multiplied."""
    for i in range(pixels.shape[0]):
        for j in range(pixels.shape[1]):
            value = X[i, j] * 256.0
            if not (0.0 <= value <= 255.0) or value != math.floor(value):
                return False
            pixels[i, j] = np.uint8(value)
    return True


@njit(cache=True, fastmath=SUM_IN_ANY_ORDER)
def _dot(w, x, scale, bias):
    """w . [x * scale, 1 if bias]. Scaling the sum once by a power of two rounds as
    scaling every term does."""
    total = 0.0
    for j in range(x.shape[0]):
        total += w[j] * x[j]
    total *= scale
    if bias:
        total += w[x.shape[0]]
    return total


@njit(cache=True, fastmath=SUM_IN_ANY_ORDER, inline="always")
def _sgd_step(w, feature, gradient, learning_rate, decay, threshold):
    """decay * w - (gradient * feature) * learning_rate, then soft-thresholded (L1) unless
    the threshold is 0; NaN is kept (it marks divergence). Decay 1 is the plain step, to the bit."""
    w = w * decay - (gradient * feature) * learning_rate
    if threshold != 0.0:
        shrunk = abs(w) - threshold
        if shrunk < 0.0:
            shrunk = 0.0
        w = np.sign(w) * shrunk
    return w


@njit(cache=True, fastmath=SUM_IN_ANY_ORDER)
def _update_row_then_dot(row, x, gradient, learning_rate, decay, threshold, x_next, scale, bias):
    """One weight row's SGD step for example x, then its dot product with the next
    example, in one pass over the row."""
    total = 0.0
    for j in range(x.shape[0]):
        w = _sgd_step(row[j], x[j] * scale, gradient, learning_rate, decay, threshold)
        row[j] = w
        total += w * x_next[j]
    total *= scale
    if bias:
        n = x.shape[0]
        row[n] = _sgd_step(row[n], 1.0, gradient, learning_rate, decay, threshold)
        total += row[n]
    return total


@njit(cache=True, fastmath=SUM_IN_ANY_ORDER)
def _softmax_cross_entropy(scores, label, dscores):
    """The loss of one example; writes softmax(scores) - onehot(label) into ``dscores``."""
    top = scores.max()
    for c in range(scores.shape[0]):
        dscores[c] = math.exp(scores[c] - top)
    # Summed in a loop of its own, reading only: summed in the loop above, which writes one
    # array while it reads the other, the terms were added in an order that depended on where
    # the two arrays lie in memory, and the last bit differed from one process to the next.
    total = 0.0
    for c in range(dscores.shape[0]):
        total += dscores[c]
    for c in range(scores.shape[0]):
        dscores[c] /= total
    dscores[label] -= 1.0
    return math.log(total) - (scores[label] - top)


@njit(cache=True, fastmath=SUM_IN_ANY_ORDER)
def perceptron_epoch(W, X, y, order, scale, bias):
    """One pass of the multi-class perceptron over the rows ``order`` of X, updating W in place."""
    n_classes = W.shape[0]
    n = X.shape[1]
    scores = np.empty(n_classes)
    for i in order:
        x = X[i]
        for c in range(n_classes):
            scores[c] = _dot(W[c], x, scale, bias)
        guess = np.argmax(scores)  # ties go to the lowest class, as np.argmax does
        label = y[i]
        if guess != label:
            pulled, pushed = W[label], W[guess]
            for j in range(n):
                feature = x[j] * scale
                pulled[j] += feature
                pushed[j] -= feature
            if bias:
                pulled[n] += 1.0
                pushed[n] -= 1.0


@njit(cache=True, fastmath=SUM_IN_ANY_ORDER)
def logreg_epoch(W, X, y, order, learning_rate, l2_penalty, l1_penalty, scale, bias):
    """One pass of per-example SGD for softmax regression; the mean loss, or the
    first non-finite loss (after its update, as the reference stops)."""
    n_classes = W.shape[0]
    n = len(order)
    scores = np.empty(n_classes)
    dscores = np.empty(n_classes)
    decay = 1.0 - learning_rate * l2_penalty  # weight decay first, then the gradient step
    threshold = learning_rate * l1_penalty
    if n > 0:
        x = X[order[0]]
        for c in range(n_classes):
            scores[c] = _dot(W[c], x, scale, bias)
    total = 0.0
    for k in range(n):
        i = order[k]
        x = X[i]
        loss = _softmax_cross_entropy(scores, y[i], dscores)
        x_next = X[order[k + 1]] if k + 1 < n else x
        for c in range(n_classes):  # each row updated, then scored against the next example while in cache
            scores[c] = _update_row_then_dot(W[c], x, dscores[c], learning_rate, decay, threshold, x_next,
                                             scale, bias)
        if not math.isfinite(loss):
            return loss
        total += loss
    return total / n if n > 0 else 0.0


@njit(cache=True, fastmath=SUM_IN_ANY_ORDER)
def mlp_epoch(W1, b1, W2, b2, X, y, order, learning_rate, scale):
    """One pass of per-example SGD for the one-hidden-layer ReLU MLP; the mean
    loss, or the first non-finite loss (after its update, as the reference stops)."""
    hidden_size = W1.shape[0]
    n_classes = W2.shape[0]
    n = len(order)
    z1 = np.empty(hidden_size)
    h = np.empty(hidden_size)
    dz1 = np.empty(hidden_size)
    z2 = np.empty(n_classes)
    dz2 = np.empty(n_classes)
    if n > 0:
        x = X[order[0]]
        for r in range(hidden_size):
            z1[r] = _dot(W1[r], x, scale, False) + b1[r]
    total = 0.0
    for k in range(n):
        i = order[k]
        x = X[i]
        for r in range(hidden_size):
            h[r] = z1[r] if not z1[r] <= 0.0 else 0.0  # ReLU that keeps NaN, as np.maximum
        for c in range(n_classes):
            z2[c] = _dot(W2[c], h, 1.0, False) + b2[c]
        loss = _softmax_cross_entropy(z2, y[i], dz2)
        for r in range(hidden_size):  # back through W2 (before its update), then the ReLU
            back = 0.0
            for c in range(n_classes):
                back += dz2[c] * W2[c, r]
            dz1[r] = back if z1[r] > 0.0 else 0.0
        for c in range(n_classes):
            d = dz2[c]
            for r in range(hidden_size):
                W2[c, r] -= (d * h[r]) * learning_rate
            b2[c] -= d * learning_rate
        x_next = X[order[k + 1]] if k + 1 < n else x
        for r in range(hidden_size):  # each row updated, then multiplied with the next example while in cache
            d = dz1[r]
            if d != 0.0:
                z1[r] = _update_row_then_dot(W1[r], x, d, learning_rate, 1.0, 0.0, x_next, scale, False)
                b1[r] -= d * learning_rate
            else:  # an inactive unit's row would only get zeros subtracted: left as it is
                z1[r] = _dot(W1[r], x_next, scale, False)
            z1[r] += b1[r]
        if not math.isfinite(loss):
            return loss
        total += loss
    return total / n if n > 0 else 0.0


@njit(cache=True, fastmath=SUM_IN_ANY_ORDER)
def linear_accuracy(W, X, y, scale, bias):
    """The fraction of rows of X whose highest score W . x is their label (ties: the lowest class)."""
    scores = np.empty(W.shape[0])
    correct = 0
    for i in range(X.shape[0]):
        for c in range(W.shape[0]):
            scores[c] = _dot(W[c], X[i], scale, bias)
        if np.argmax(scores) == y[i]:
            correct += 1
    return correct / X.shape[0]
