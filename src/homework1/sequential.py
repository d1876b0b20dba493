"""Claims decided over planned looks, with the family-wise error rate held across every look.

The method: the closed testing procedure (Marcus, Peritz and Gabriel 1976) whose local
tests are Bonferroni's over the claims and over the K planned looks, as in the
group-sequential graphical approach of Maurer and Bretz (2013) with equal weights. Its
shortcut, used here: at look k each claim's evidence is the smallest of its p-values so
far, ``q``; Holm's step-down (Holm 1979) over every testable claim's ``q``, at level α/K,
decides. Hence:

- the chance that any claim with no true difference is called holds or reversed, at any
  look, is at most α: under the claims with no difference, a false verdict needs one of
  their p-values, at one of the K looks, at or below α/(K·t) (t of them), and each has
  that chance at most (a union bound: valid however the looks are sized and however the
  claims' runs overlap, with no model of how the statistics move from look to look);
- a decided claim stays decided: ``q`` never grows, and Holm's step-down never rejects
  fewer when p-values shrink;
- the price of that generality: each look has α/K, so a claim needs more evidence than
  at a single look (an O'Brien-Fleming boundary spends less early, but needs the
  correlation of the statistics across looks).

``holm`` (a claim's current p-value at α at every look) is the naive procedure that the
tests show breaking the bound.
"""

from __future__ import annotations

import numpy as np

from homework1 import paired


def holm(p_values, level: float) -> tuple[np.ndarray, np.ndarray]:
    """Holm's step-down at ``level``: (rejected, the level each claim was held to). The i-th
    smallest of m p-values is held to level / (m - i + 1); the first that misses stops the
    procedure, and it and every larger one are held to its level. NaN: not tested (never
    rejected, level NaN)."""
    p = np.asarray(p_values, dtype=float)
    rejected = np.zeros(p.shape, dtype=bool)
    held_to = np.full(p.shape, np.nan)
    tested = np.flatnonzero(~np.isnan(p))
    order = tested[np.argsort(p[tested], kind="stable")]
    for rank, index in enumerate(order):
        threshold = level / (order.size - rank)
        if p[index] > threshold:
            held_to[order[rank:]] = threshold
            break
        rejected[index], held_to[index] = True, threshold
    return rejected, held_to


def decide(q_values, alpha: float, looks: int) -> tuple[np.ndarray, np.ndarray]:
    """One look's decisions from every claim's smallest p-value so far: Holm's step-down at
    α / ``looks``. (rejected, the level each claim was held to)."""
    return holm(q_values, alpha / looks)


def adjusted(q_values, looks: int) -> np.ndarray:
    """Each claim's adjusted p-value at this look: the smallest α at which it is decided (Holm's
    adjusted p of the ``q``s, times the number of looks, capped at 1)."""
    return np.minimum(1.0, looks * paired.holm(q_values))


def first_decisions(p_by_look: np.ndarray, alpha: float, sequential: bool = True) -> np.ndarray:
    """The look (1-based) at which each claim is first decided, 0 if never, from its p-values at
    every look (looks x claims): sequentially (``decide`` on the running minimum) or naively
    (Holm at α on each look's own p-values). For simulations: it runs every look on every claim,
    which gives the same first decisions as stopping a decided claim (its ``q`` is frozen, and
    it stays decided)."""
    p_by_look = np.asarray(p_by_look, dtype=float)
    looks, claims = p_by_look.shape
    decided_at = np.zeros(claims, dtype=int)
    q = np.full(claims, np.inf)
    for look in range(looks):
        q = np.fmin(q, p_by_look[look])
        rejected = decide(q, alpha, looks)[0] if sequential else holm(p_by_look[look], alpha)[0]
        decided_at[(decided_at == 0) & rejected] = look + 1
    return decided_at
