"""The report's "A beats B" conclusions, each judged on our runs paired by seed.

For each claim and data set, the per-seed difference better - worse over the
seeds both sides ran (``homework1.paired``): its mean, a 95% t interval with a
bootstrap interval beside it, an exact sign-flip permutation p-value, and the
number of pairs. The claims of one data set are tested together, so their
p-values are adjusted by Holm's method, and the verdict reads the adjusted
interval (the t interval at the level the adjustment leaves the claim):

- "holds": it lies above 0; "reversed": below 0; "undecided": it spans 0, and
  ``seeds_needed`` says how many seeds would decide it (its interval, at the
  same adjusted level, exclude 0) if the observed mean difference were the
  truth and the spread stayed as observed, with a warning when that is beyond
  any budget: the effect is too small to matter at this spread;
- "one seed: no interval", "identical on every seed" (every difference 0),
  "no pairs" (no seed both sides finished), "not run".

Runs that diverged have no accuracy: their pairs are left out, and counted.
The unpaired rule of thumb of earlier tables (the means apart by more than the
two standard deviations) stays beside, for comparison.
"""

from __future__ import annotations

import math

import pandas as pd

from homework1 import paired, sequential
from homework1.claims import CLAIM_COLUMNS as COMPARISON_COLUMNS
from homework1.claims import DECIDED, NOT_TESTABLE, claim_key

CONFIDENCE = 0.95
# More seeds than a study of this size would ever run: a claim undecided beyond it is too small to matter.
SEEDS_BUDGET = 100

COLUMNS = [
    "report_id", "question", "metric", "claim", "better", "worse", "dataset",
    # the paired analysis
    "n_pairs", "diverged_pairs_left_out", "mean_difference", "difference_std", "t_low", "t_high",
    "bootstrap_low", "bootstrap_high", "p_t", "p_sign_flip", "p_holm", "low", "high", "verdict",
    "seeds_needed", "note",
    # each side on its own, and the unpaired rule of thumb
    "better_mean", "better_std", "better_n", "worse_mean", "worse_std", "worse_n",
    "difference", "holds_in_means", "holds_beyond_spread", "spread_verdict",
]


# With the claims settled over looks (``settle_look``): where each look stands, the look that decided
# each claim, its smallest p-value so far and the look it came from, and the sequential adjusted p-value.
SETTLE_COLUMNS = ["look", "looks", "look_seeds", "decided_at_look", "p_min", "p_min_look", "p_sequential"]

# What the Markdown table shows people (the CSV has every column).
SHOWN = ["report_id", "claim", "metric", "dataset", "n_pairs", "diverged_pairs_left_out", "mean_difference", "low",
         "high", "p_sign_flip", "p_holm", "verdict", "seeds_needed", "note", "spread_verdict"]
SHOWN_SETTLED = ["report_id", "claim", "metric", "dataset", "verdict", "decided_at_look", "n_pairs",
                 "diverged_pairs_left_out", "mean_difference", "low", "high", "p_min", "p_min_look", "p_sequential",
                 "look", "looks", "look_seeds"]


def _side(summary: pd.DataFrame, question: str, name: str, dataset, metric: str) -> pd.Series:
    """The metric of every seed one side ran, by seed (NaN where the run has none: it diverged)."""
    experiment, variant = name.split("/", 1)
    runs = summary[(summary["question"] == question) & (summary["experiment"] == experiment)
                   & (summary["variant"] == variant) & (summary["dataset"] == dataset)]
    return runs.set_index("seed")[metric].astype(float).sort_index()


def _spread_verdict(better: pd.Series, worse: pd.Series, difference: float, beyond) -> str:
    if len(better) == 0 or len(worse) == 0:
        return "not run"
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


def _paired(better: pd.Series, worse: pd.Series) -> dict:
    """The paired analysis of one claim before the adjustment for the others."""
    common = better.index.intersection(worse.index)
    both = common[better[common].notna().to_numpy() & worse[common].notna().to_numpy()]
    d = (better[both] - worse[both]).to_numpy()
    row = {"note": "", "n_pairs": len(d), "diverged_pairs_left_out": len(common) - len(both),
           "mean_difference": d.mean() if len(d) else math.nan,
           "difference_std": d.std(ddof=1) if len(d) > 1 else math.nan}
    if better.empty or worse.empty:
        return row | {"verdict": "not run"}
    if len(d) == 0:
        return row | {"verdict": "no pairs", "note": "no seed that both sides finished"}
    if len(d) == 1:
        return row | {"verdict": "one seed: no interval"}
    if not d.any():
        return row | {"verdict": "identical on every seed"}
    t_low, t_high = paired.t_interval(d, CONFIDENCE)
    boot_low, boot_high = paired.bootstrap_interval(d, CONFIDENCE)
    return row | {"t_low": t_low, "t_high": t_high, "bootstrap_low": boot_low, "bootstrap_high": boot_high,
                  "p_t": paired.t_p_value(d), "p_sign_flip": paired.sign_flip_p_value(d), "differences": d}


def _adjust(rows: list[dict]) -> None:
    """Holm's adjustment across one data set's claims, the adjusted interval, the verdict and the
    seeds needed (in place)."""
    p_holm = paired.holm([row.get("p_t", math.nan) for row in rows])
    tested = sorted((row["p_t"], i) for i, row in enumerate(rows) if "p_t" in row)
    step = {i: len(tested) - rank for rank, (_, i) in enumerate(tested)}  # Holm's factor of each claim
    for i, row in enumerate(rows):
        if "p_t" not in row:
            continue
        d = row.pop("differences")
        row["p_holm"] = p_holm[i]
        # the t interval at the level that makes "excludes 0" the same as "adjusted p < 0.05"
        factor = p_holm[i] / row["p_t"] if row["p_t"] > 0 else step[i]
        confidence = 1 - (1 - CONFIDENCE) / factor
        row["low"], row["high"] = paired.t_interval(d, confidence)
        if row["low"] > 0:
            row["verdict"] = "holds"
        elif row["high"] < 0:
            row["verdict"] = "reversed"
        else:
            row["verdict"] = "undecided"
            needed = paired.seeds_needed(d.mean(), d.std(ddof=1), confidence)
            row["seeds_needed"] = needed if needed is not None else pd.NA
            if needed is None or needed > SEEDS_BUDGET:
                row["note"] = (f"more than {SEEDS_BUDGET} seeds would be needed: too small a difference to "
                               f"matter beside the spread between seeds")


def seed_comparisons(summary: pd.DataFrame, comparisons: list[dict]) -> pd.DataFrame:
    """The report's "A beats B" conclusions judged on our runs, one row per claim and data set
    found in ``summary`` (one row per run: :func:`homework1.tables.read_summaries`);
    ``comparisons`` come from :func:`read_comparisons`. The columns: see the module docstring
    and ``COLUMNS``; intervals are 95%, ``low``/``high`` Holm-adjusted within the data set."""
    datasets = sorted(summary["dataset"].dropna().unique()) if len(summary) else []
    rows = []
    for dataset in datasets or [None]:
        claims = []
        for comparison in comparisons:
            sides = [_side(summary, comparison["question"], comparison[side], dataset, comparison["metric"])
                     if dataset else pd.Series(dtype=float) for side in ("better", "worse")]
            claims.append({key: comparison.get(key, "") for key in COMPARISON_COLUMNS} | {"dataset": dataset}
                          | _paired(*sides) | _unpaired(*sides))
        _adjust(claims)
        rows += claims
    table = pd.DataFrame(rows).reindex(columns=COLUMNS)
    table["seeds_needed"] = table["seeds_needed"].astype("Int64")
    for column in ("holds_in_means", "holds_beyond_spread"):
        table[column] = table[column].astype("boolean")
    return table


def settle_look(summary: pd.DataFrame, comparisons: list[dict], testable: list[bool], previous: pd.DataFrame | None,
                *, look: int, looks: int, seeds: list[int], alpha: float, dataset: str) -> pd.DataFrame:
    """The claims decided at look ``look`` of ``looks`` (``homework1.sequential``), on the runs of
    ``seeds`` (this look's, cumulative) in ``summary``; ``previous`` is the last look's table.

    A claim decided before keeps its row (it stays decided). For every other testable claim, the
    paired analysis of this look's seeds; its smallest p-value so far (``p_min``, from look
    ``p_min_look``); Holm's step-down over every testable claim's ``p_min`` at alpha / looks. A claim
    decided now is "holds" or "reversed" by the sign of its mean difference at the look of its
    ``p_min``, whose t interval at the level Holm held it to is ``low``/``high`` (it excludes 0);
    one still undecided gets this look's interval at its level. ``n_pairs`` are the pairs the
    interval rests on."""
    summary = summary[summary["seed"].isin(seeds) & (summary["dataset"] == dataset)]
    before = {} if previous is None else {claim_key(row): row for row in previous.to_dict("records")}
    where = {"dataset": dataset, "look": look, "looks": looks, "look_seeds": len(seeds)}
    rows = []
    for comparison, can_test in zip(comparisons, testable):
        base = {key: comparison.get(key, "") for key in COMPARISON_COLUMNS} | where
        earlier = before.get(claim_key(comparison))
        if not can_test:
            rows.append(base | {"verdict": NOT_TESTABLE,
                                "note": "a configuration it compares is not in the study's config"})
        elif earlier is not None and earlier["verdict"] in DECIDED:
            rows.append(earlier | where)
        else:
            sides = [_side(summary, comparison["question"], comparison[side], dataset, comparison["metric"])
                     for side in ("better", "worse")]
            row = base | _paired(*sides) | _unpaired(*sides)
            row["p_min"], row["p_min_look"] = row.get("p_t", math.nan), look if "p_t" in row else pd.NA
            row["best"] = (row["mean_difference"], row["difference_std"], row["n_pairs"])
            if earlier is not None and earlier.get("p_min", math.nan) <= row.get("p_t", math.inf):
                row["p_min"], row["p_min_look"] = earlier["p_min"], earlier["p_min_look"]
                row["best"] = (earlier["best_mean"], earlier["best_std"], earlier["best_pairs"])
            rows.append(row)
    open_rows = [i for i, row in enumerate(rows) if "best" in row]
    p_min = [row.get("p_min", math.nan) for row in rows]  # NaN: not testable, or nothing to test yet
    rejected, held_to = sequential.decide(p_min, alpha, looks)
    p_sequential = sequential.adjusted(p_min, looks)
    for i in open_rows:
        row = rows[i]
        row.pop("differences", None)
        row["best_mean"], row["best_std"], row["best_pairs"] = row.pop("best")
        if math.isnan(row["p_min"]):
            continue  # one seed, no pairs, identical on every seed: nothing to decide on yet
        row["p_sequential"] = p_sequential[i]
        confidence = 1 - held_to[i]
        if rejected[i]:
            row["decided_at_look"] = look
            row["verdict"] = "holds" if row["best_mean"] > 0 else "reversed"
            mean, spread, pairs = row["best_mean"], row["best_std"], row["best_pairs"]
        else:
            row["verdict"] = "undecided"
            mean, spread, pairs = row["mean_difference"], row["difference_std"], row["n_pairs"]
        row["n_pairs"] = pairs
        row["low"], row["high"] = paired.t_interval_of(mean, spread, int(pairs), confidence)
    table = pd.DataFrame(rows).reindex(columns=COLUMNS + SETTLE_COLUMNS + ["best_mean", "best_std", "best_pairs"])
    for column in ("decided_at_look", "p_min_look", "seeds_needed", "best_pairs"):
        table[column] = table[column].astype("Int64")
    return table
