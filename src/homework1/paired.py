"""How sure a difference between two configurations is, from runs paired by seed.

Both sides of a comparison ran with the same seeds: the same initial weights
where the shapes match, the same batch order. The per-seed difference removes
what the two share, so its spread, not the spread of each side, says how well
the mean difference is known.

- ``t_interval``: Student's t interval of the mean paired difference;
- ``bootstrap_interval``: the percentile bootstrap interval, a check on it that
  assumes no normality;
- ``sign_flip_p_value``: the exact permutation test of "no difference": every
  sign pattern of the differences enumerated (up to ``EXACT_UP_TO`` pairs,
  drawn at random beyond);
- ``holm``: Holm's step-down adjustment of several p-values tested at once;
- ``seeds_needed``: how many seeds would make the interval exclude 0, if the
  observed mean difference were the truth and the spread stayed as observed;
- ``best_frequencies``: how often each variant of a sweep is the best when the
  seeds are resampled.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats

EXACT_UP_TO = 16  # pairs: 2**16 sign patterns enumerated, a moment's work
RESAMPLES = 10_000  # bootstrap and, beyond EXACT_UP_TO pairs, random sign patterns
SEED = 0  # of every resampling: the same numbers each time the tables are made


def t_interval(differences: np.ndarray, confidence: float = 0.95) -> tuple[float, float]:
    """Student's t interval of the mean of ``differences`` (at least two). Zero spread gives the
    mean itself at both ends."""
    d = np.asarray(differences, dtype=float)
    return t_interval_of(d.mean(), d.std(ddof=1), d.size, confidence)


def t_interval_of(mean: float, spread: float, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Student's t interval of a mean of ``n`` (at least two) values with standard deviation ``spread``."""
    half = stats.t.ppf(0.5 + confidence / 2, n - 1) * spread / math.sqrt(n)
    return float(mean - half), float(mean + half)


def t_p_value(differences: np.ndarray) -> float:
    """Two-sided p-value of the paired t-test of a mean difference of 0 (1 when every difference is
    0, 0 when they are all the same non-zero number)."""
    d = np.asarray(differences, dtype=float)
    mean, spread = d.mean(), d.std(ddof=1)
    if spread == 0:
        return 1.0 if mean == 0 else 0.0
    t = mean / (spread / math.sqrt(d.size))
    return float(2 * stats.t.sf(abs(t), d.size - 1))


def bootstrap_interval(differences: np.ndarray, confidence: float = 0.95, resamples: int = RESAMPLES,
                       seed: int = SEED) -> tuple[float, float]:
    """The percentile bootstrap interval of the mean of ``differences`` (resampled pairs)."""
    d = np.asarray(differences, dtype=float)
    rng = np.random.default_rng(seed)
    means = d[rng.integers(0, d.size, size=(resamples, d.size))].mean(axis=1)
    low, high = np.quantile(means, [0.5 - confidence / 2, 0.5 + confidence / 2])
    return float(low), float(high)


def sign_flip_p_value(differences: np.ndarray, exact_up_to: int = EXACT_UP_TO, resamples: int = RESAMPLES,
                      seed: int = SEED) -> float:
    """Two-sided permutation p-value of "no difference": under it each pair's difference is as
    likely negative as positive, so the fraction of sign patterns whose mean is at least as far
    from 0 as the observed one. Every pattern is enumerated up to ``exact_up_to`` pairs (the
    observed one among them, so p >= 1 / 2**n); beyond, ``resamples`` random ones (plus the
    observed)."""
    d = np.asarray(differences, dtype=float)
    n = d.size
    if n <= exact_up_to:
        patterns = 1 - 2 * ((np.arange(2 ** n)[:, None] >> np.arange(n)) & 1)
    else:
        patterns = np.random.default_rng(seed).choice([-1, 1], size=(resamples, n))
        patterns = np.vstack([np.ones(n, dtype=int), patterns])
    means = np.abs(patterns @ d) / n
    observed = abs(d.mean())
    return float(np.mean(means >= observed - 1e-12 * max(observed, 1e-300)))


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
    """The fewest pairs for which the t interval of a mean difference ``mean`` with paired spread
    ``spread`` (standard deviation) would exclude 0; None when no number up to ``most`` would
    (the mean is 0, or too small beside the spread)."""
    if mean == 0:
        return None
    if spread == 0:
        return 2
    n = 2
    while n <= most:
        if stats.t.ppf(0.5 + confidence / 2, n - 1) * spread / math.sqrt(n) < abs(mean):
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
