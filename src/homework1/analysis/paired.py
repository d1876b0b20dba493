"""How sure a difference between two configurations is, from runs paired by seed.

Both sides ran with the same seeds (same initial weights, same batch order), so the per-seed
difference removes what they share: its spread says how well the mean difference is known.

Accuracies lie on a grid (whole examples out of N), so differences tie, are often 0, at times
all equal, and Student's t-test breaks (spread 0: p = 0). ``p_value``, which decisions use, is
the paired t-test with the spread floored at the grid step h (``resolution``): t = mean /
(max(s, h) / sqrt(n)), n - 1 degrees of freedom; conservative where the true spread is below h,
Student's where it is a few steps or more (a floor like SAM's s0, Tusher, Tibshirani and Chu
2001; its error is checked by simulation in tests/test_settle.py). ``interval`` is the interval
it inverts; ``sign_flip_p_value`` (exact under symmetry, never below 2/2^n) and the plain
``t_p_value`` are reported beside it. ``holm_adjusted``: Holm's (1979) adjusted p-values;
``seeds_needed``: the pairs that would decide an observed difference; ``best_frequencies``: how
often each variant of a sweep is best when the seeds are resampled.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
from scipy import stats

EXACT_UP_TO = 24  # pairs: every one of the 2**n sign patterns counted (2**12 sums a side, met in the middle)
RESAMPLES = 10_000  # bootstrap and, beyond EXACT_UP_TO pairs, random sign patterns
SEED = 0  # of every resampling: the same numbers each time the tables are made
# Values on a grid (1/360) that are equal in exact arithmetic differ in floating point: a sign pattern whose
# sum is within this share of the differences' total size of the observed sum reaches it, and a spread within
# this share of the largest difference is none.
TIE = 1e-9
CHUNK = 2 ** 22  # sums held in memory at once by the exact sign-flip test
FINEST_RESOLUTION = 100_000  # evaluation sets larger than this are taken for continuous measurements
# The confidence of the tables' intervals; 1 - it is the family-wise level of claims tested on fixed seeds.
CONFIDENCE = 0.95


def t_interval(differences: np.ndarray, confidence: float = CONFIDENCE) -> tuple[float, float]:
    """Student's t interval of the mean of ``differences`` (at least two). Zero spread gives the
    mean itself at both ends."""
    d = np.asarray(differences, dtype=float)
    half = stats.t.ppf(0.5 + confidence / 2, d.size - 1) * d.std(ddof=1) / math.sqrt(d.size)
    return float(d.mean() - half), float(d.mean() + half)


def t_p_value(differences):
    """Two-sided p-value of the paired t-test of a mean difference of 0, of each row of
    ``differences`` (pairs on the last axis, at least two): 1 when every difference is 0, and 0
    when they are all the same non-zero number, which is why decisions use ``p_value``."""
    d = np.asarray(differences, dtype=float)
    return _t_p_value(d, d.std(axis=-1, ddof=1))


def _t_p_value(d: np.ndarray, spread: np.ndarray):
    """The t-test's two-sided p-value of each row of ``d`` with the standard deviation ``spread``."""
    n = d.shape[-1]
    mean = d.mean(axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = 2 * stats.t.sf(np.abs(mean / (spread / math.sqrt(n))), n - 1)
    return np.where(spread == 0, np.where(mean == 0, 1.0, 0.0), p)[()]


def floored_spread(differences, step: float):
    """The standard deviation of each row of ``differences`` (pairs on the last axis), taken as at
    least ``step``; 0 where it is rounding only (every difference the same) and ``step`` is 0."""
    d = np.asarray(differences, dtype=float)
    spread = d.std(axis=-1, ddof=1)
    rounding = TIE * np.abs(d).max(axis=-1)
    return np.maximum(np.where(spread <= rounding, 0.0, spread), step)


def p_value(differences, step: float):
    """The p-value of "no difference" that decisions use, of each row of ``differences``: the paired
    t-test with the spread floored at ``step``, the grid the accuracies lie on (``resolution``; 0:
    none). With no grid and no spread (every difference the same), nothing says how far the mean
    could move: 1. Never 0: one too small for a float is the smallest positive float."""
    d = np.asarray(differences, dtype=float)
    spread = floored_spread(d, step)
    return np.where(spread == 0, 1.0, np.maximum(_t_p_value(d, spread), np.finfo(float).tiny))[()]


def _sign_patterns(n: int) -> np.ndarray:
    """Every one of the 2**n patterns of n signs, one a row."""
    return 1 - 2 * ((np.arange(2 ** n)[:, None] >> np.arange(n)) & 1)


def _patterns_reaching(sizes: np.ndarray, observed: np.ndarray) -> np.ndarray:
    """For each row of ``sizes`` (|differences|), how many sign patterns give a sum of at least
    ``observed`` (> 0): the sums of each half's patterns, sorted, met in the middle."""
    n = sizes.shape[1]
    first, second = _sign_patterns(n // 2), _sign_patterns(n - n // 2)
    counts = np.empty(len(sizes))
    rows = max(1, CHUNK // len(second))
    for start in range(0, len(sizes), rows):
        part, target = sizes[start:start + rows], observed[start:start + rows]
        scale = np.maximum(part.sum(axis=1), np.finfo(float).tiny)[:, None]  # every sum within [-1, 1]
        ours = part[:, :n // 2] @ first.T / scale
        theirs = np.sort(part[:, n // 2:] @ second.T / scale, axis=1)
        # one sorted array of every row's sums, each row 4 apart: one search for all rows
        offset = 4.0 * np.arange(len(part))[:, None]
        below = np.searchsorted((theirs + offset).ravel(), (target[:, None] / scale - ours + offset).ravel())
        counts[start:start + rows] = ((np.arange(1, len(part) + 1) * theirs.shape[1])[:, None]
                                      - below.reshape(ours.shape)).sum(axis=1)
    return counts


def sign_flip_p_value(differences, exact_up_to: int = EXACT_UP_TO, resamples: int = RESAMPLES, seed: int = SEED):
    """Two-sided permutation p-value of "no difference", of each row of ``differences`` (pairs on
    the last axis): under it each pair's difference is as likely negative as positive, so the
    fraction of sign patterns whose sum is at least as far from 0 as the observed one. Every
    pattern is counted up to ``exact_up_to`` pairs (the observed one and its mirror among them, so
    p >= 2 / 2**n); beyond, ``resamples`` random ones (plus the observed)."""
    d = np.asarray(differences, dtype=float)
    rows = d.reshape(-1, d.shape[-1])
    n = rows.shape[1]
    sizes = np.abs(rows)
    observed = np.abs(rows.sum(axis=1)) - TIE * sizes.sum(axis=1)
    if n <= exact_up_to:
        p = 2 * _patterns_reaching(sizes, np.maximum(observed, 0)) / 2.0 ** n
    else:
        patterns = np.random.default_rng(seed).choice([-1, 1], size=(resamples, n))
        p = (1 + (np.abs(patterns @ rows.T) >= observed).sum(axis=0)) / (resamples + 1)
    p = np.where(observed > 0, np.minimum(p, 1.0), 1.0)
    return p.reshape(d.shape[:-1])[()]


def resolution(values) -> float:
    """The step of the grid that every one of ``values`` lies on: 1/N for the smallest N (up to
    ``FINEST_RESOLUTION``) that makes each a whole number of N-ths (an accuracy on N examples, or
    on a divisor of N); 0 for values on no such grid (continuous measurements)."""
    steps = 1
    for value in np.asarray(values, dtype=float).ravel():
        if not math.isfinite(value):
            continue
        fraction = Fraction(value).limit_denominator(FINEST_RESOLUTION)
        if abs(float(fraction) - value) > 1e-9 * max(1.0, abs(value)):
            return 0.0
        steps = math.lcm(steps, fraction.denominator)
        if steps > FINEST_RESOLUTION:
            return 0.0
    return 1.0 / steps


def interval(differences: np.ndarray, level: float, step: float = 0.0) -> tuple[float, float]:
    """The confidence interval, at confidence 1 - ``level``, of the mean of ``differences`` (measured
    on a grid of ``step``, ``resolution``) that ``p_value`` inverts: every shift c for which
    ``p_value`` of differences - c is above ``level``, the mean -+ t(1 - level/2, n - 1) times the
    floored spread over sqrt(n). So it excludes 0 exactly when p_value(differences) <= level, and is
    never a single point: (-inf, inf) where the floored spread is 0 (p_value 1) or the level 0."""
    d = np.asarray(differences, dtype=float)
    spread = float(floored_spread(d, step))
    if level <= 0 or spread == 0:
        return -math.inf, math.inf
    half = stats.t.isf(level / 2, d.size - 1) * spread / math.sqrt(d.size)
    return float(d.mean() - half), float(d.mean() + half)


def bootstrap_interval(differences: np.ndarray, confidence: float = CONFIDENCE, resamples: int = RESAMPLES,
                       seed: int = SEED) -> tuple[float, float]:
    """The percentile bootstrap interval of the mean of ``differences`` (resampled pairs)."""
    d = np.asarray(differences, dtype=float)
    rng = np.random.default_rng(seed)
    means = d[rng.integers(0, d.size, size=(resamples, d.size))].mean(axis=1)
    low, high = np.quantile(means, [0.5 - confidence / 2, 0.5 + confidence / 2])
    return float(low), float(high)


def holm_adjusted(p_values) -> np.ndarray:
    """Holm's step-down adjusted p-values: the i-th smallest of m is multiplied by m - i + 1, made
    non-decreasing in that order, capped at 1. NaN stays NaN and counts for nothing."""
    p = np.asarray(p_values, dtype=float)
    adjusted = np.full(p.shape, np.nan)
    tested = np.flatnonzero(~np.isnan(p))
    order = tested[np.argsort(p[tested], kind="stable")]
    m = order.size
    running = 0.0
    for rank, index in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p[index]))
        adjusted[index] = running
    return adjusted


def seeds_needed(mean: float, spread: float, confidence: float = CONFIDENCE, most: int = 10_000) -> int | None:
    """The fewest pairs that could decide a mean difference ``mean`` with paired spread ``spread``
    (standard deviation, floored as ``p_value`` floors it) at confidence ``confidence``: its
    interval would exclude 0. None when no number up to ``most`` would (the mean or the spread is
    0, or the mean too small beside the spread)."""
    if mean == 0 or spread == 0:
        return None
    level = 1 - confidence
    n = 2
    while n <= most:
        if stats.t.isf(level / 2, n - 1) * spread / math.sqrt(n) < abs(mean):
            return n
        n = n + 1 if n < 1000 else int(n * 1.01) + 1
    return None


def best_frequencies(scores: np.ndarray, resamples: int = RESAMPLES, seed: int = SEED) -> np.ndarray:
    """How often each variant has the highest mean score when the seeds are resampled.

    ``scores`` is (variants, seeds), NaN where a run has no score (it diverged): such a run counts
    as the worst of its seed. Seeds are resampled together for every variant (they are paired);
    a tie in a resample is shared.
    """
    scores = np.where(np.isnan(scores), -np.inf, np.asarray(scores, dtype=float))
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, scores.shape[1], size=(resamples, scores.shape[1]))
    means = scores[:, picks].mean(axis=2)  # (variants, resamples)
    best = means == means.max(axis=0)
    return (best / best.sum(axis=0)).mean(axis=1)
