"""Claims decided over planned looks, with the family-wise error rate held at α across every look.

The looks are cumulative seeds per configuration, planned before the first one (``Plan``). At
each look a claim's evidence is its ``paired.p_value`` on that look's seeds.

- **Spending α over the looks.** A claim tested at level γ is decided at the first look k whose
  p-value is at most that look's share of γ: the increment of a spending function α(t) at the
  information fraction t = seeds / last look's seeds (Lan and DeMets 1983). The shares add up to
  γ, so by the union bound the chance of any false call over the looks is at most γ with no model
  of how the statistics move from look to look: it holds for Student's t at few seeds and for
  discrete accuracies alike, where boundaries from the looks' joint normal law (Jennison and
  Turnbull 2000) are only approximate. The union bound makes the classical functions stingy
  early; the default, the power family γ t^ρ of Kim and DeMets (1987) with ρ = 3 (``RHO``; the
  member Jennison and Turnbull pair with O'Brien-Fleming's boundaries), spends γ/64 by a quarter of
  the seeds and γ/8 by half, where the Lan-DeMets O'Brien-Fleming type spends 0.2% of γ = 0.05 by a
  quarter, and less the smaller γ (0.0007% of 0.05/8): enough to decide a large difference on the
  first seeds, while the last look keeps 7/8 of γ for small ones (``SPENDING``: also the Lan-DeMets
  O'Brien-Fleming and Pocock types, and the equal split).
- **Across claims.** Holm's step-down (Holm 1979) in its group-sequential form (Maurer and Bretz
  2013): with r claims not yet decided, a claim is decided once its p-value at this or an
  earlier look is within that look's share of α/r; repeat with the smaller r until no claim
  crosses. This is the closed testing procedure (Marcus, Peritz and Gabriel 1976) whose local
  tests are Bonferroni's over claims and looks; a decided claim stays decided.
- **Futility, non-binding.** After each look but the last, a claim still open stops training
  when its predictive power (Spiegelhalter, Freedman and Blackburn 1986) is below ``futility``:
  the chance that it would cross the last look's boundary at the most lenient level it can be
  held to (α, when every other claim is decided), averaged over what its seeds so far say about
  its difference (a flat prior; in z units, PP = Φ((z - c√t) / √(1 - t))). The shares above
  ignore stopping, so stopping never raises the error rate; a stopped claim is still tested on
  the seeds its configurations train for other claims.

``decide`` and ``settle`` take the p-values of many studies at once (leading axes), so that the
simulations in the tests run the same code as each look of the workflow.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats

# The spending functions, α(t) of the information fraction t at level γ: each spends γ by t = 1.
RHO = 3  # the power family's exponent: γ/64 spent by a quarter of the last look's seeds, γ/8 by half
SPENDING = {
    "kim-demets": lambda t, level: level * t ** RHO,
    "obrien-fleming": lambda t, level: 2 * stats.norm.sf(stats.norm.isf(level / 2) / np.sqrt(t)),
    "pocock": lambda t, level: level * np.log(1 + (math.e - 1) * t),
    "equal": lambda t, level: level * np.arange(1, t.size + 1) / t.size,  # level / looks at each look
}


@dataclass(frozen=True)
class Plan:
    """The looks (cumulative seeds, increasing), α, the predictive power below which a claim stops
    (0: never), and the spending function (a name in ``SPENDING``)."""

    looks: tuple[int, ...]
    alpha: float
    futility: float = 0.0
    spending: str = "kim-demets"

    @classmethod
    def of(cls, settle: dict) -> Plan:
        """The plan of the config's ``settle`` block."""
        return cls(tuple(settle["looks"]), settle["alpha"], settle["futility"], settle["spending"])

    def shares(self, level: float) -> np.ndarray:
        """Each look's share of ``level``: the spending function's increments."""
        if self.spending not in SPENDING:
            raise ValueError(f"spending {self.spending!r}: not a spending function ({', '.join(SPENDING)})")
        spent = SPENDING[self.spending](np.asarray(self.looks, dtype=float) / self.looks[-1], level)
        return np.diff(np.concatenate([[0.0], spent[:-1], [level]]))

    def thresholds(self, claims: int) -> np.ndarray:
        """(claims, looks): row r - 1 holds each look's share of α / r."""
        return np.array([self.shares(self.alpha / r) for r in range(1, claims + 1)])

    def fraction(self, look: int) -> float:
        """The information fraction of look ``look`` (1-based): its seeds over the last look's."""
        return self.looks[look - 1] / self.looks[-1]

    def last_boundary(self) -> float:
        """The z the last look needs at the most lenient level a claim can be held to (α)."""
        return float(stats.norm.isf(self.shares(self.alpha)[-1] / 2))


def decide(p_by_look: np.ndarray, thresholds: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Holm's step-down over the claims on every look so far.

    ``p_by_look``: (..., looks so far, claims) p-values, NaN where a claim was not measured;
    ``thresholds``: (claims, looks) from ``Plan.thresholds``. Returns, each (..., claims):
    whether the claim is decided; the r of the level α/r it was held to (the level it crossed,
    or, undecided, the one the step-down stopped at); the look (1-based) whose p-value crossed it,
    0 if none."""
    p = np.asarray(p_by_look, dtype=float)
    looks, claims = p.shape[-2], p.shape[-1]
    limits = thresholds[:, :looks, None]  # (levels, looks, 1) against p (..., 1, looks, claims)
    with np.errstate(invalid="ignore"):
        crossing = p[..., None, :, :] <= limits  # (..., levels, looks, claims)
    crossed = crossing.any(axis=-2)  # (..., levels, claims)
    decided = np.zeros(p.shape[:-2] + (claims,), dtype=bool)
    held_to = np.zeros(decided.shape, dtype=int)
    while True:
        open_ = claims - decided.sum(axis=-1)  # claims not yet decided: the r of this step's level α/r
        at_level = np.take_along_axis(crossed, np.maximum(open_ - 1, 0)[..., None, None], axis=-2)[..., 0, :]
        new = ~decided & at_level
        held_to = np.where(new | ~decided, open_[..., None], held_to)
        if not new.any():
            break
        decided |= new
    at_held = np.take_along_axis(crossing, (held_to - 1)[..., None, None, :], axis=-3)[..., 0, :, :]
    last_crossing = looks - np.argmax(at_held[..., ::-1, :], axis=-2)
    return decided, held_to, np.where(decided, last_crossing, 0)


def predictive_power(p: np.ndarray, fraction: float, boundary: float) -> np.ndarray:
    """The chance that a claim with p-value ``p`` at information fraction ``fraction`` reaches
    ``boundary`` (a z) at the last look, in the direction it leans, averaged over its difference
    under a flat prior given the seeds so far: Φ((z - boundary √t) / √(1 - t))."""
    z = stats.norm.isf(np.asarray(p, dtype=float) / 2)
    return stats.norm.cdf((z - boundary * math.sqrt(fraction)) / math.sqrt(1 - fraction))


@dataclass
class Settled:
    """Where every claim stands after the looks so far (each array (..., claims)): the look that
    decided it and the one it stopped at for futility (1-based, 0: none); the look whose numbers
    its row shows (the one whose p-value decided it, else the last that measured it; 0: none);
    the level its p-value there is held to (0: not measured); its predictive
    power after the latest look (NaN where not measured there, decided, or at the last look);
    whether it trains the next look's seeds."""

    decided_at: np.ndarray
    stopped_at: np.ndarray
    numbers_from: np.ndarray
    level: np.ndarray
    predictive_power: np.ndarray
    open: np.ndarray


def settle(p_by_look: np.ndarray, plan: Plan) -> Settled:
    """Every look so far decided in turn (``p_by_look``: (..., looks so far, claims), NaN where a
    claim was not measured): the decisions, then, after each look but the last, futility for the
    claims still open. A decided claim keeps the look and level that decided it."""
    p = np.asarray(p_by_look, dtype=float)
    looks, claims = p.shape[-2], p.shape[-1]
    thresholds = plan.thresholds(claims)
    shape = p.shape[:-2] + (claims,)
    decided_at, stopped_at = np.zeros(shape, dtype=int), np.zeros(shape, dtype=int)
    deciding_look, deciding_level = np.zeros(shape, dtype=int), np.zeros(shape)
    power = np.full(shape, np.nan)
    for look in range(1, looks + 1):
        decided, held_to, crossed_at = decide(p[..., :look, :], thresholds)
        new = decided & (decided_at == 0)
        decided_at = np.where(new, look, decided_at)
        deciding_look = np.where(new, crossed_at, deciding_look)
        deciding_level = np.where(new, thresholds[held_to - 1, np.maximum(crossed_at - 1, 0)], deciding_level)
        measured = ~np.isnan(p[..., look - 1, :])
        power = np.full(shape, np.nan)
        if look < len(plan.looks):
            power = np.where(measured & ~decided, predictive_power(p[..., look - 1, :], plan.fraction(look),
                                                                   plan.last_boundary()), np.nan)
            stopped_at = np.where((decided_at == 0) & (stopped_at == 0) & (power < plan.futility), look, stopped_at)
    last_measured = np.where(np.isnan(p).all(axis=-2), 0, looks - np.argmax(~np.isnan(p[..., ::-1, :]), axis=-2))
    open_level = np.where(last_measured > 0, thresholds[held_to - 1, np.maximum(last_measured - 1, 0)], 0.0)
    return Settled(decided_at=decided_at, stopped_at=stopped_at,
                   numbers_from=np.where(decided_at > 0, deciding_look, last_measured),
                   level=np.where(decided_at > 0, deciding_level, open_level),
                   predictive_power=power, open=(decided_at == 0) & (stopped_at == 0))
