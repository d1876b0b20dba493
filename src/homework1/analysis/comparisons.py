"""The report's "A beats B" claims, each judged on our runs paired by seed.

Per claim and data set: the per-seed difference better - worse over the seeds both sides ran
(``homework1.analysis.paired``), its mean, a t and a bootstrap interval at ``paired.CONFIDENCE``,
the plain t-test's and the sign-flip test's p-values, and ``p``, the floored t-test's
(``paired.p_value``). A diverged run counts as accuracy ``DIVERGED_SCORE``.

On fixed seeds (``seed_comparisons``) a data set's claims are tested together: Holm's
adjustment of ``p`` (``p_holm``), and ``low``-``high`` is the interval that excludes 0 exactly
when p_holm <= 1 - ``paired.CONFIDENCE``; the verdict is HOLDS (above 0), REVERSED (below),
OPEN (it spans 0; ``seeds_needed`` estimates the seeds that would decide it), or one of
ONE_SEED, IDENTICAL, NO_PAIRS, NOT_RUN. Settled over looks (``settle_look``,
``homework1.analysis.sequential``), a row's numbers come from one look, ``numbers_from_look``.
The unpaired rule of thumb (means apart by more than the two standard deviations) stays beside.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from homework1.analysis import paired, sequential
from homework1.analysis.tables import seed_ranges
from homework1.plan.claims import CLAIM_COLUMNS, HOLDS, NOT_TESTABLE, OPEN, REVERSED, STOPPED, look_seeds

# Verdicts of claims that no interval decides (beside claims.HOLDS, REVERSED, OPEN, STOPPED, NOT_TESTABLE).
ONE_SEED, IDENTICAL = "one seed: no interval", "identical on every seed"
NO_PAIRS, NOT_RUN = "no pairs", "not run"
# More seeds than a study of this size would ever run: a claim undecided beyond it is too small to matter.
SEEDS_BUDGET = 100
DIVERGED_SCORE = 0.0  # the accuracy a diverged run counts as: it ended without a usable model

COLUMNS = [
    *CLAIM_COLUMNS, "dataset",
    # the paired analysis
    "n_pairs", "diverged_better", "diverged_worse", "mean_difference", "difference_std", "t_low", "t_high",
    "bootstrap_low", "bootstrap_high", "p_t", "p_sign_flip", "p", "p_holm", "low", "high", "verdict",
    "seeds_needed", "note",
    # each side on its own (finished runs), and the unpaired rule of thumb
    "better_mean", "better_std", "better_n", "worse_mean", "worse_std", "worse_n",
    "difference", "holds_in_means", "holds_beyond_spread", "spread_verdict",
]


# With the claims settled over looks (``settle_look``): where the study stands, the look that decided or
# stopped each claim, the look its numbers come from, the level its p there was held to, its predictive
# power after this look; then its p at every look so far (``p_at_look_1``, ...).
SETTLE_COLUMNS = ["look", "looks", "look_seeds", "decided_at_look", "stopped_at_look", "numbers_from_look",
                  "numbers_from_seeds", "level", "predictive_power"]

# What the Markdown table shows people (the CSV has every column).
SHOWN = ["report_id", "claim", "metric", "dataset", "n_pairs", "diverged_better", "diverged_worse",
         "mean_difference", "low", "high", "p", "p_holm", "verdict", "seeds_needed", "note", "spread_verdict"]
SHOWN_SETTLED = ["report_id", "claim", "metric", "dataset", "verdict", "decided_at_look", "stopped_at_look",
                 "numbers_from_look", "numbers_from_seeds", "n_pairs", "diverged_better", "diverged_worse",
                 "mean_difference", "low", "high", "p", "level", "note"]


def _side(summary: pd.DataFrame, question: str, name: str, dataset, metric: str) -> pd.Series:
    """The metric of every seed one side ran, by seed (NaN where the run has none: it diverged)."""
    experiment, variant = name.split("/", 1)
    runs = summary[(summary["question"] == question) & (summary["experiment"] == experiment)
                   & (summary["variant"] == variant) & (summary["dataset"] == dataset)]
    return runs.set_index("seed")[metric].astype(float).sort_index()


def _spread_verdict(better: pd.Series, worse: pd.Series, difference: float, beyond) -> str:
    if len(better) == 0 or len(worse) == 0:
        return NOT_RUN
    if not difference > 0:
        return "does not hold"
    if beyond is pd.NA:
        return "holds (single seed: spread unknown)"
    return "holds beyond seed spread" if beyond else "holds in means only"


def _unpaired(better: pd.Series, worse: pd.Series) -> dict:
    """Each side's mean, std and count over its finished runs, and the rule of thumb: the means
    apart by more than the sum of the two standard deviations (NA with a single seed)."""
    better, worse = better.dropna(), worse.dropna()
    difference = better.mean() - worse.mean()
    spread = better.std() + worse.std()
    ran = len(better) > 0 and len(worse) > 0
    beyond = pd.NA if not ran or math.isnan(spread) else bool(difference > spread)
    return {"better_mean": better.mean(), "better_std": better.std(), "better_n": len(better),
            "worse_mean": worse.mean(), "worse_std": worse.std(), "worse_n": len(worse),
            "difference": difference, "holds_in_means": bool(difference > 0) if ran else pd.NA,
            "holds_beyond_spread": beyond, "spread_verdict": _spread_verdict(better, worse, difference, beyond)}


def _paired(better: pd.Series, worse: pd.Series, step: float) -> dict:
    """The paired analysis of one claim before the adjustment for the others, on the seeds both
    sides ran (a diverged run, NaN, counts as ``DIVERGED_SCORE``), measured on a grid of ``step``
    (``paired.resolution``); ``differences`` are kept for the interval."""
    common = better.index.intersection(worse.index)
    d = (better[common].fillna(DIVERGED_SCORE) - worse[common].fillna(DIVERGED_SCORE)).to_numpy()
    row = {"note": "", "n_pairs": len(d), "diverged_better": int(better[common].isna().sum()),
           "diverged_worse": int(worse[common].isna().sum()),
           "mean_difference": d.mean() if len(d) else math.nan,
           "difference_std": d.std(ddof=1) if len(d) > 1 else math.nan}
    if better.empty or worse.empty:
        return row | {"verdict": NOT_RUN}
    if len(d) == 0:
        return row | {"verdict": NO_PAIRS, "note": "no seed that both sides ran"}
    if len(d) == 1:
        return row | {"verdict": ONE_SEED}
    t_low, t_high = paired.t_interval(d)
    boot_low, boot_high = paired.bootstrap_interval(d)
    row |= {"t_low": t_low, "t_high": t_high, "bootstrap_low": boot_low, "bootstrap_high": boot_high,
            "p_t": paired.t_p_value(d), "p_sign_flip": paired.sign_flip_p_value(d),
            "p": paired.p_value(d, step), "differences": d, "step": step}
    if not d.any():
        row |= {"verdict": IDENTICAL}
    elif paired.floored_spread(d, step) == 0:
        row["note"] = "every difference the same, on no grid: no spread to judge it by"
    return row


def _interval(row: dict, level: float) -> None:
    """``low``/``high``: the shift of the row's differences that its test does not reject at ``level``
    (NaN where the test has no spread to go by); in place."""
    low, high = paired.interval(row["differences"], level, row["step"])
    row["low"], row["high"] = (math.nan, math.nan) if math.isinf(low) else (low, high)


def _adjust(rows: list[dict]) -> None:
    """Holm's adjustment across one data set's claims, the adjusted interval, the verdict and the
    seeds needed (in place)."""
    p_holm = paired.holm_adjusted([row.get("p", math.nan) for row in rows])
    for i, row in enumerate(rows):
        if "p" not in row:
            continue
        row["p_holm"] = p_holm[i]
        # the level that makes "the interval excludes 0" the same as "p_holm <= 1 - CONFIDENCE"
        level = (1 - paired.CONFIDENCE) * row["p"] / p_holm[i]
        _interval(row, level)
        d, step = row.pop("differences"), row.pop("step")
        if "verdict" in row:
            continue  # identical on every seed
        if row["low"] > 0:
            row["verdict"] = HOLDS
        elif row["high"] < 0:
            row["verdict"] = REVERSED
        else:
            row["verdict"] = OPEN
            needed = paired.seeds_needed(d.mean(), float(paired.floored_spread(d, step)), 1 - level)
            row["seeds_needed"] = needed if needed is not None else pd.NA
            if paired.floored_spread(d, step) > 0 and (needed is None or needed > SEEDS_BUDGET):
                row["note"] = "; ".join(filter(None, [row["note"], (
                    f"more than {SEEDS_BUDGET} seeds would be needed: too small a difference to matter beside "
                    f"the spread between seeds")]))


def _claim_sides(summary: pd.DataFrame, comparison: dict, dataset) -> list[pd.Series]:
    return [_side(summary, comparison["question"], comparison[side], dataset, comparison["metric"])
            for side in ("better", "worse")]


def _step(summary: pd.DataFrame, metric: str) -> float:
    """The grid the data set's values of ``metric`` lie on (``paired.resolution``)."""
    return paired.resolution(summary[metric]) if metric in summary.columns else 0.0


def seed_comparisons(summary: pd.DataFrame, comparisons: list[dict]) -> pd.DataFrame:
    """The report's "A beats B" conclusions judged on our runs, one row per claim and data set
    found in ``summary`` (one row per run: :func:`homework1.analysis.tables.read_summaries`);
    ``comparisons`` come from :func:`homework1.plan.claims.read_claims`. The columns: see the module docstring
    and ``COLUMNS``; ``low``/``high`` Holm-adjusted within the data set."""
    datasets = sorted(summary["dataset"].dropna().unique()) if len(summary) else []
    rows = []
    for dataset in datasets or [None]:
        claims, in_dataset = [], summary[summary["dataset"] == dataset] if dataset else summary
        for comparison in comparisons:
            sides = _claim_sides(summary, comparison, dataset) if dataset else [pd.Series(dtype=float)] * 2
            claims.append({key: comparison.get(key, "") for key in CLAIM_COLUMNS} | {"dataset": dataset}
                          | _paired(*sides, _step(in_dataset, comparison["metric"])) | _unpaired(*sides))
        _adjust(claims)
        rows += claims
    return _typed(pd.DataFrame(rows).reindex(columns=COLUMNS))


def _typed(table: pd.DataFrame) -> pd.DataFrame:
    for column in ("seeds_needed", "decided_at_look", "stopped_at_look", "numbers_from_look"):
        if column in table.columns:
            table[column] = table[column].astype("Int64")
    for column in ("holds_in_means", "holds_beyond_spread"):
        table[column] = table[column].astype("boolean")
    return table


def settle_look(summary: pd.DataFrame, comparisons: list[dict], testable: list[bool], *, look: int,
                plan: sequential.Plan, seeds: list[int], dataset: str) -> pd.DataFrame:
    """The claims as they stand after look ``look`` of ``plan`` (``homework1.analysis.sequential``), from the
    runs in ``summary`` (every run the study trained so far); ``seeds``: the configured seeds,
    which the looks' seeds start with (``claims.look_seeds``).

    Every look so far is decided in turn, the same way each time, so this look's table follows from
    the runs alone. A testable claim is measured at every look whose seeds both its configurations
    ran (they may have run for another claim). Its row shows the numbers of one look,
    ``numbers_from_look``: the look whose p-value decided it, else the last look that measured it;
    ``low``/``high`` is the shift its test does not reject there at ``level``, the level it was
    held to; ``p_at_look_k`` its p-value at each look."""
    summary = summary[summary["dataset"] == dataset]
    seeds_by_look = [look_seeds(seeds, count) for count in plan.looks[:look]]
    family = [comparison for comparison, can_test in zip(comparisons, testable) if can_test]
    analyses = []  # per claim of the family: its analysis at each look (None where not measured)
    p = np.full((look, len(family)), np.nan)
    for i, comparison in enumerate(family):
        better, worse = _claim_sides(summary, comparison, dataset)
        ran, step = set(better.index) & set(worse.index), _step(summary, comparison["metric"])
        by_look = []
        for k, chosen in enumerate(seeds_by_look):
            if not set(chosen) <= ran:
                by_look.append(None)
                continue
            sides = [side[side.index.isin(chosen)] for side in (better, worse)]
            by_look.append(_paired(*sides, step) | _unpaired(*sides))
            p[k, i] = by_look[-1].get("p", math.nan)
        analyses.append(by_look)
    settled = sequential.settle(p, plan)
    where = {"dataset": dataset, "look": look, "looks": len(plan.looks), "look_seeds": plan.looks[look - 1]}
    at_look = {f"p_at_look_{k + 1}": p[k] for k in range(look)}
    rows, members = [], iter(range(len(family)))
    for comparison, can_test in zip(comparisons, testable):
        base = {key: comparison.get(key, "") for key in CLAIM_COLUMNS} | where
        if not can_test:
            rows.append(base | {"verdict": NOT_TESTABLE,
                                "note": "a configuration it compares is not in the study's config"})
            continue
        i = next(members)
        numbers_from = int(settled.numbers_from[i])
        row = base | {name: values[i] for name, values in at_look.items()}
        row |= {"decided_at_look": settled.decided_at[i] or pd.NA, "stopped_at_look": settled.stopped_at[i] or pd.NA,
                "numbers_from_look": numbers_from or pd.NA, "predictive_power": settled.predictive_power[i]}
        if not numbers_from:
            rows.append(row | {"verdict": OPEN, "note": "not measured yet: no look whose seeds both sides ran"})
            continue
        row |= analyses[i][numbers_from - 1] | {"numbers_from_seeds": seed_ranges(seeds_by_look[numbers_from - 1])}
        if "p" not in row:
            rows.append(row)  # fewer than two pairs: nothing to test
            continue
        level = float(settled.level[i])
        row["level"] = level
        identical = row.pop("verdict", None)
        if settled.decided_at[i]:
            row["verdict"] = HOLDS if row["mean_difference"] > 0 else REVERSED
        else:
            row["verdict"] = STOPPED if settled.stopped_at[i] else OPEN
            notes = [row["note"], identical or ""]
            if settled.stopped_at[i]:
                stop = int(settled.stopped_at[i])
                power = sequential.predictive_power(p[stop - 1, i], plan.fraction(stop), plan.last_boundary())
                notes.append(f"stopped after look {stop}: predictive power {power:.2f} < {plan.futility}")
            row["note"] = "; ".join(filter(None, notes))
        _interval(row, level)
        del row["differences"], row["step"]
        rows.append(row)
    columns = COLUMNS + SETTLE_COLUMNS + list(at_look)
    return _typed(pd.DataFrame(rows).reindex(columns=columns))
