"""How sure a difference between two configurations is, from runs paired by seed.

Both sides of a comparison ran with the same seeds: the same initial weights
where the shapes match, the same batch order. The per-seed difference removes
what the two share, so its spread, not the spread of each side, says how well
the mean difference is known.

Accuracies are whole numbers of examples out of the evaluation set (multiples
of 1/360 on digits), so two configurations that train nearly the same model
give differences like +1/360, 0, +1/360: tied, often zero, at times all equal.
Student's t-test is not valid there (all equal and non-zero: a spread of 0 and
p = 0). The p-value the decisions use, ``p_value``, is the larger of the t-test's
and the exact sign-flip permutation test's, valid when either is: the
sign-flip test (Fisher 1935; Good 2005, *Permutation, Parametric and Bootstrap
Tests of Hypotheses*) is exact for any symmetric distribution of the
differences, ties and zeros included, whatever their values; n pairs cannot
give it less than ``smallest_p_value(n)`` (1/16 at 5 pairs, 1/512 at 10).

- ``t_interval``: Student's t interval of the mean paired difference;
- ``bootstrap_interval``: the percentile bootstrap interval, a check on it that
  assumes no normality;
- ``t_p_value``, ``sign_flip_p_value``, ``p_value``: the two tests of "no
  difference" and the valid combination; all three take one claim's
  differences or many at once (the last axis: pairs);
- ``interval``: the confidence interval of the shift that the combined test
  does not reject (the test inverted), which excludes 0 exactly when the test
  rejects 0, and is never a single point;
- ``holm``: Holm's step-down adjustment of several p-values tested at once;
- ``seeds_needed``: how many seeds would decide a claim, if the observed mean
  difference were the truth and the spread stayed as observed;
- ``best_frequencies``: how often each variant of a sweep is the best when the
  seeds are resampled.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
from scipy import stats

EXACT_UP_TO = 24  # pairs: every one of the 2**n sign patterns counted (2**12 sums a side, met in the middle)
RESAMPLES = 10_000  # bootstrap and, beyond EXACT_UP_TO pairs, random sign patterns
SEED = 0  # of every resampling: the same numbers each time the tables are made
# A sign pattern whose sum is within this share of the differences' total size of the observed sum reaches
# it: sums of values on a grid (1/360) that are equal in exact arithmetic differ in floating point.
TIE = 1e-9
CHUNK = 2 ** 22  # sums held in memory at once by the exact sign-flip test
FINEST_RESOLUTION = 100_000  # evaluation sets larger than this are taken for continuous measurements


def t_interval(differences: np.ndarray, confidence: float = 0.95) -> tuple[float, float]:
    """Student's t interval of the mean of ``differences`` (at least two). Zero spread gives the
    mean itself at both ends."""
    d = np.asarray(differences, dtype=float)
    half = stats.t.ppf(0.5 + confidence / 2, d.size - 1) * d.std(ddof=1) / math.sqrt(d.size)
    return float(d.mean() - half), float(d.mean() + half)


def t_p_value(differences):
    """Two-sided p-value of the paired t-test of a mean difference of 0, of each row of
    ``differences`` (pairs on the last axis, at least two): 1 when every difference is 0, and 0
    when they are all the same non-zero number, which is why it is not the p-value decisions use."""
    d = np.asarray(differences, dtype=float)
    n = d.shape[-1]
    mean, spread = d.mean(axis=-1), d.std(axis=-1, ddof=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = 2 * stats.t.sf(np.abs(mean / (spread / math.sqrt(n))), n - 1)
    return np.where(spread == 0, np.where(mean == 0, 1.0, 0.0), p)[()]


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


def p_value(differences):
    """The p-value of "no difference" that decisions use, of each row of ``differences``: the larger
    of the t-test's and the sign-flip test's, valid whenever either is."""
    return np.maximum(t_p_value(differences), sign_flip_p_value(differences))


def smallest_p_value(pairs: int) -> float:
    """The smallest ``p_value`` that ``pairs`` differences can give: every difference the same sign."""
    return 2.0 / 2 ** pairs if pairs <= EXACT_UP_TO else 1.0 / (RESAMPLES + 1)


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
    """The confidence interval, at confidence 1 - ``level``, of the shift of ``differences``: every
    shift c for which ``p_value`` of differences - c is above ``level`` (the t-test's interval and
    the sign-flip test's, joined), so it excludes 0 exactly when p_value(differences) <= level.
    Differences are measured on a grid of ``step`` (``resolution``): one within half a step of c is
    a tie at c, so the interval is never a single point. (-inf, inf) where no p-value of this many
    pairs can reach ``level``."""
    d = np.asarray(differences, dtype=float)
    if level <= 0 or smallest_p_value(d.size) > level:
        return -math.inf, math.inf
    mean = d.mean()
    half = stats.t.isf(level / 2, d.size - 1) * d.std(ddof=1) / math.sqrt(d.size)

    def accepted(shift: float) -> bool:
        shifted = d - shift
        return sign_flip_p_value(np.where(np.abs(shifted) < step / 2, 0.0, shifted)) > level

    ends = []
    for direction in (-1, 1):  # from the mean, where nothing is rejected, out past every difference
        inside, outside = mean, mean + direction * (np.abs(d - mean).max() + step + 1e-12)
        for _ in range(50):
            middle = (inside + outside) / 2
            inside, outside = (middle, outside) if accepted(middle) else (inside, middle)
        ends.append(outside)
    return float(min(ends[0], mean - half)), float(max(ends[1], mean + half))


def bootstrap_interval(differences: np.ndarray, confidence: float = 0.95, resamples: int = RESAMPLES,
                       seed: int = SEED) -> tuple[float, float]:
    """The percentile bootstrap interval of the mean of ``differences`` (resampled pairs)."""
    d = np.asarray(differences, dtype=float)
    rng = np.random.default_rng(seed)
    means = d[rng.integers(0, d.size, size=(resamples, d.size))].mean(axis=1)
    low, high = np.quantile(means, [0.5 - confidence / 2, 0.5 + confidence / 2])
    return float(low), float(high)


def holm(p_values) -> np.ndarray:
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


def seeds_needed(mean: float, spread: float, confidence: float = 0.95, most: int = 10_000) -> int | None:
    """The fewest pairs that could decide a mean difference ``mean`` with paired spread ``spread``
    (standard deviation) at confidence ``confidence``: its t interval would exclude 0, and
    ``smallest_p_value`` of that many pairs is within the level. None when no number up to
    ``most`` would (the mean is 0, or too small beside the spread)."""
    if mean == 0:
        return None
    level = 1 - confidence
    n = 2
    while n <= most:
        if smallest_p_value(n) <= level and stats.t.isf(level / 2, n - 1) * spread / math.sqrt(n) < abs(mean):
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
