"""Question 1's per-example training loops compiled with numba: the fast path.

Each kernel does one epoch of exactly what the plain classes in ``q1.py`` do
(the readable reference, which the tests compare these against): the same
examples in the same visiting order, in float64, with the same element-wise
update formulas. What differs:

- the dot products are summed in another order (vectorised, see ``SUM_IN_ANY_ORDER``),
  so logistic regression and the MLP agree with the reference to rounding, not
  bit for bit. The perceptron's weights are bit-identical: its features are
  multiples of 1/256 and every partial sum is exact in float64, in any order;
- nothing is allocated per example (the reference builds an outer-product
  gradient of the weights' size for every example);
- the MLP streams W1 once per example instead of three to five times: each
  row is updated with this example and at once multiplied with the next
  example, and rows whose hidden unit was inactive (an exactly-zero gradient)
  are not written at all, which changes no bit.

Kernels are compiled on first use and cached on disk (numba's ``cache=True``:
in ``__pycache__`` beside this file, or numba's user cache directory where that
is not writable), so the many small jobs of a workflow do not each pay the
compilation.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

# Let LLVM reassociate sums (and ignore the sign of zero) so that the dot
# products vectorise. Not "fast" as a whole: no-NaN/no-Inf assumptions would
# let the compiler delete the divergence checks, and contraction into fused
# multiply-adds would round the element-wise updates differently from numpy.
SUM_IN_ANY_ORDER = {"reassoc", "nsz"}


@njit(cache=True, fastmath=SUM_IN_ANY_ORDER)
def _dot(w, x):
    total = 0.0
    for j in range(x.shape[0]):
        total += w[j] * x[j]
    return total


@njit(cache=True, fastmath=SUM_IN_ANY_ORDER)
def _softmax_cross_entropy(scores, label, dscores):
    """The loss of one example; writes softmax(scores) - onehot(label) into ``dscores``."""
    top = scores.max()
    total = 0.0
    for c in range(scores.shape[0]):
        dscores[c] = math.exp(scores[c] - top)
        total += dscores[c]
    for c in range(scores.shape[0]):
        dscores[c] /= total
    dscores[label] -= 1.0
    return math.log(total) - (scores[label] - top)


@njit(cache=True, fastmath=SUM_IN_ANY_ORDER)
def perceptron_epoch(W, X, y, order):
    """One pass of the multi-class perceptron over X[order], updating W in place."""
    n_classes = W.shape[0]
    scores = np.empty(n_classes)
    for i in order:
        x = X[i]
        for c in range(n_classes):
            scores[c] = _dot(W[c], x)
        guess = np.argmax(scores)  # ties go to the lowest class, as np.argmax does
        label = y[i]
        if guess != label:
            pulled, pushed = W[label], W[guess]
            for j in range(x.shape[0]):  # a loop, not W[label] += x: no temporary array
                pulled[j] += x[j]
                pushed[j] -= x[j]


@njit(cache=True, fastmath=SUM_IN_ANY_ORDER)
def _update_row_then_dot(row, x, gradient, learning_rate, decay, threshold, x_next):
    """One row's SGD step, then its dot product with the next example, in one pass:
    row <- decay * row - (gradient * x) * learning_rate, soft-thresholded by
    ``threshold`` (L1) unless it is 0; returns row . x_next. With decay 1 and no
    threshold the step is the plain one, to the bit."""
    total = 0.0
    for j in range(row.shape[0]):
        w = row[j] * decay - (gradient * x[j]) * learning_rate
        if threshold != 0.0:
            # sign(w) * max(|w| - t, 0), NaN kept (it marks divergence)
            shrunk = abs(w) - threshold
            if shrunk < 0.0:
                shrunk = 0.0
            w = np.sign(w) * shrunk
        row[j] = w
        total += w * x_next[j]
    return total


@njit(cache=True, fastmath=SUM_IN_ANY_ORDER)
def logreg_epoch(W, X, y, order, learning_rate, l2_penalty, l1_penalty):
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
            scores[c] = _dot(W[c], x)
    total = 0.0
    for k in range(n):
        i = order[k]
        x = X[i]
        loss = _softmax_cross_entropy(scores, y[i], dscores)
        x_next = X[order[k + 1]] if k + 1 < n else x
        for c in range(n_classes):  # each row updated, then scored against the next example while in cache
            scores[c] = _update_row_then_dot(W[c], x, dscores[c], learning_rate, decay, threshold, x_next)
        if not math.isfinite(loss):
            return loss
        total += loss
    return total / n if n > 0 else 0.0


@njit(cache=True, fastmath=SUM_IN_ANY_ORDER)
def mlp_epoch(W1, b1, W2, b2, X, y, order, learning_rate):
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
            z1[r] = _dot(W1[r], x) + b1[r]
    total = 0.0
    for k in range(n):
        i = order[k]
        x = X[i]
        for r in range(hidden_size):
            h[r] = z1[r] if not z1[r] <= 0.0 else 0.0  # ReLU that keeps NaN, as np.maximum
        for c in range(n_classes):
            z2[c] = _dot(W2[c], h) + b2[c]
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
                z1[r] = _update_row_then_dot(W1[r], x, d, learning_rate, 1.0, 0.0, x_next)
                b1[r] -= d * learning_rate
            else:  # an inactive unit's row would only get zeros subtracted: left as it is
                z1[r] = _dot(W1[r], x_next)
            z1[r] += b1[r]
        if not math.isfinite(loss):
            return loss
        total += loss
    return total / n if n > 0 else 0.0
