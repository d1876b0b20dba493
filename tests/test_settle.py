"""Settling the report's claims over planned looks: the error rate the procedure promises, checked
by simulation on accuracies as they are (continuous, on a 1/360 grid, binomial, heavy-tailed, a
near-identical pair) beside the naive variants that break it; its power and its runs; each look's
decisions; the DAG growing from them through the real Snakemake."""

from __future__ import annotations

import math
from functools import cache

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from conftest import REPO, TINY, nothing_to_do, planned_jobs, summary_row, tiny
from homework1.plan import claims
from homework1.plan.claims import HOLDS, NOT_TESTABLE, OPEN
from homework1.analysis import comparisons, paired, sequential
from homework1.analysis.comparisons import IDENTICAL
from homework1.config import configuration
from homework1.plan.study import expand_runs

ALPHA = 0.05
LOOK_PLANS = [claims.SUGGESTED_LOOKS, (3, 5)]  # the looks the report suggests, and a short plan
STUDIES = 4000
BOUND = ALPHA + 3 * math.sqrt(ALPHA * (1 - ALPHA) / STUDIES)  # alpha plus three Monte Carlo errors
EXAMPLES = 360  # the digits test set: every accuracy a multiple of 1/360

# The report's claims as the shipped claims file has them, and the configurations they share (the dropout
# claims compare three configurations pairwise, the learning-rate ones share lr 1e-3).
SHIPPED = claims.read_claims(REPO / "config/report_comparisons.csv")
CONFIGURATIONS = claims.configurations(SHIPPED)
SIDES = np.array([[CONFIGURATIONS.index(side) for side in claims.sides(claim)] for claim in SHIPPED])
CLAIM_IDS = [claim["report_id"] for claim in SHIPPED]


def shipped_plan(looks, **changes) -> sequential.Plan:
    """The plan the workflow runs with ``settle: {looks: looks}`` and the schema's defaults."""
    return sequential.Plan.of(configuration.load(overrides={"settle": {"looks": list(looks)} | changes})["settle"])


# ---------------------------------------------------------------- studies simulated through the real decisions

def accuracies(model: str, studies: int, seed: int, setting: float = 0.0) -> np.ndarray:
    """(studies, 20 seeds, configurations) accuracies with no difference between configurations,
    scattered as on digits (0.01 per run, and 0.01 shared by the runs of a seed):

    - "normal": continuous; "grid": rounded to whole examples of 360; "t3": each run's own part
      heavy-tailed (Student's t, 3 degrees of freedom); "binomial": each run's correct answers
      binomial on 360 examples around its seed's accuracy;
    - "near-identical": on the grid, and the momentum claim's two configurations train nearly the
      same model: their difference is -1, 0 or +1 examples, 0 with chance ``setting``;
    - "fine grid": rounded to whole examples of 1000, each run's own part scattered by ``setting``
      examples only, so that differences are a few steps of the grid, often tied."""
    rng = np.random.default_rng(seed)
    shape = (studies, 20, len(CONFIGURATIONS))
    shared = 0.9 + rng.normal(0, 0.01, shape[:2] + (1,))
    if model == "binomial":
        return rng.binomial(EXAMPLES, np.broadcast_to(np.clip(shared, 0, 1), shape)) / EXAMPLES
    if model == "fine grid":
        return np.round((shared + setting / 1000 * rng.normal(size=shape)) * 1000) / 1000
    own = 0.01 * (rng.standard_t(3, shape) if model == "t3" else rng.normal(size=shape))
    result = shared + own
    if model in ("grid", "near-identical"):
        result = np.round(result * EXAMPLES) / EXAMPLES
    if model == "near-identical":
        better, worse = SIDES[CLAIM_IDS.index("2.2c")]
        steps = rng.choice([-1, 0, 1], p=[(1 - setting) / 2, setting, (1 - setting) / 2], size=shape[:2])
        result[..., worse] = result[..., better] - steps / EXAMPLES
    return result


def differences(accuracy: np.ndarray) -> np.ndarray:
    """(studies, seeds, claims): better - worse of each claim, seed by seed."""
    return accuracy[..., SIDES[:, 0]] - accuracy[..., SIDES[:, 1]]


def decision_p_value(accuracy: np.ndarray):
    """The p-value the workflow decides by, with the grid it finds the accuracies on (one study's, as
    the workflow sees one study)."""
    step = paired.resolution(accuracy[0])
    return lambda d: paired.p_value(d, step)


def p_by_look(d: np.ndarray, looks, p_value) -> np.ndarray:
    """(studies, looks, claims): each claim's ``p_value`` on each look's seeds."""
    return np.stack([p_value(np.moveaxis(d[:, :seeds], 1, 2)) for seeds in looks], axis=1)


def run_studies(p: np.ndarray, plan: sequential.Plan) -> tuple[sequential.Settled, np.ndarray]:
    """Every study settled look by look as the workflow does it: the configurations of the claims still
    open train the next look's seeds, and a claim is measured at a look when both its configurations
    trained it (``p``: every claim's p-value at every look). The claims where the studies end, and
    each study's runs of the claims' configurations."""
    studies, looks, claim_count = p.shape
    seen = np.full(p.shape, np.nan)
    open_ = np.ones((studies, claim_count), dtype=bool)
    new_seeds = np.diff((0, *plan.looks))
    runs = np.zeros(studies, dtype=int)
    for look in range(looks):
        trained = np.zeros((studies, len(CONFIGURATIONS)), dtype=bool)
        for claim, (better, worse) in enumerate(SIDES):
            trained[:, better] |= open_[:, claim]
            trained[:, worse] |= open_[:, claim]
        runs += trained.sum(axis=1) * new_seeds[look]
        measured = trained[:, SIDES[:, 0]] & trained[:, SIDES[:, 1]]
        seen[:, look] = np.where(measured, p[:, look], np.nan)
        settled = sequential.settle(seen[:, :look + 1], plan)
        open_ = settled.open
    return settled, runs


def false_verdict_rate(p: np.ndarray, plan: sequential.Plan) -> float:
    """The share of studies in which any claim (every one with no true difference) is decided."""
    return float((run_studies(p, plan)[0].decided_at > 0).any(axis=1).mean())


@cache
def null_p_values(model: str, setting: float = 0.0, naive: bool = False) -> np.ndarray:
    """p-values at 3, 5, 10 and 20 seeds of STUDIES simulated studies (both look plans read them): the
    workflow's, or the plain t-test's (``naive``)."""
    accuracy = accuracies(model, STUDIES, seed=2, setting=setting)
    return p_by_look(differences(accuracy), (3, 5, 10, 20), paired.t_p_value if naive else decision_p_value(accuracy))


def at(p: np.ndarray, looks) -> np.ndarray:
    return p[:, [(3, 5, 10, 20).index(seeds) for seeds in looks]]


# (model, setting): the near-identical pair at P(0) = 0.3, 0.5, 0.7, 0.9; the fine grid with each run's own
# part scattered by 0.5, 1 and 2 examples of 1000 (differences of 0.7, 1.4, 2.8 steps: where the floor binds
# often, at times, rarely)
SCENARIOS = [("normal", 0.0), ("grid", 0.0), ("binomial", 0.0), ("t3", 0.0),
             ("near-identical", 0.3), ("near-identical", 0.5), ("near-identical", 0.7), ("near-identical", 0.9),
             ("fine grid", 0.5), ("fine grid", 1.0), ("fine grid", 2.0)]


@pytest.mark.parametrize("model, setting", SCENARIOS)
def test_the_error_rate_holds_on_every_kind_of_accuracy_at_every_look_plan(model, setting):
    p = null_p_values(model, setting)
    for looks in LOOK_PLANS:
        for futility in (shipped_plan(looks).futility, 0.0):  # stopping for futility only removes chances
            assert false_verdict_rate(at(p, looks), shipped_plan(looks, futility=futility)) <= BOUND, (looks, futility)


# The plain t-test's p-value is 0 when a look's differences are all the same non-zero number: the
# near-identical pair gives that at 3 seeds in 2 (1 - P(0))^3 / 8 of studies, a false call each time, and
# the fine grid's tied differences give it too.
@pytest.mark.parametrize("model, setting", [("near-identical", 0.3), ("near-identical", 0.5), ("fine grid", 0.5)])
def test_the_plain_t_tests_p_value_breaks_the_bound_on_tied_differences(model, setting):
    p = at(null_p_values(model, setting, naive=True), (3, 5))
    former = sequential.Plan((3, 5), ALPHA, futility=0.0, spending="equal")
    assert false_verdict_rate(p, former) > BOUND
    assert false_verdict_rate(p, shipped_plan((3, 5))) > BOUND
    assert false_verdict_rate(at(null_p_values(model, setting), (3, 5)), shipped_plan((3, 5))) <= BOUND


def test_deciding_at_every_look_at_the_full_level_breaks_the_bound():
    # continuous normal data, where the t-test is valid at each look: each look alone keeps alpha, the
    # looks together do not (Holm at alpha at every look, against the shares of the plan)
    p = at(null_p_values("normal"), LOOK_PLANS[0])
    claim_count = p.shape[-1]
    every_look = np.tile((ALPHA / np.arange(1, claim_count + 1))[:, None], (1, len(LOOK_PLANS[0])))
    assert sequential.decide(p, every_look)[0].any(axis=1).mean() > BOUND
    assert sequential.decide(p[:, :1], every_look)[0].any(axis=1).mean() <= BOUND  # one look alone is fine


# The alternative of issue 30: L2 regularisation (1.2b) truly +0.01, batch 64 against 512 (2.2a) truly
# -0.006, the rest no difference; each configuration's own spread such that paired differences scatter
# by 0.015.
EFFECTS = {("q1", "logreg_l2", "default"): 0.01, ("q2", "ffn_batch", "batch_size~512"): 0.006}


def holds(settled: sequential.Settled, d: np.ndarray, looks, claim: int) -> np.ndarray:
    """Whether each study decided ``claim`` with a positive mean difference at the look that decided it."""
    seeds = np.asarray(looks)[np.maximum(settled.numbers_from[:, claim] - 1, 0)]
    means = np.array([d[study, :n, claim].mean() for study, n in enumerate(seeds)])
    return (settled.decided_at[:, claim] > 0) & (means > 0)


def test_more_power_for_fewer_runs_than_the_equal_split():
    looks, studies = LOOK_PLANS[0], 8000
    rng = np.random.default_rng(2)
    shape = (studies, 20, len(CONFIGURATIONS))
    means = np.array([EFFECTS.get(configuration_, 0.0) for configuration_ in CONFIGURATIONS])
    d = differences(0.9 + means + rng.normal(0, 0.015 / math.sqrt(2), shape) + rng.normal(0, 0.01, shape[:2] + (1,)))
    former = sequential.Plan(looks, ALPHA, futility=0.0, spending="equal")
    settled_former, _ = run_studies(p_by_look(d, looks, paired.t_p_value), former)
    settled, _ = run_studies(p_by_look(d, looks, lambda d: paired.p_value(d, 0.0)), shipped_plan(looks))
    power_former = holds(settled_former, d, looks, CLAIM_IDS.index("1.2b")).mean()
    power = holds(settled, d, looks, CLAIM_IDS.index("1.2b")).mean()
    assert power_former < 0.36 and power >= 0.43 and power > power_former + 0.05
    # under no difference at all (p-values do not depend on the spread): fewer runs, at most 60% of every
    # claim's configuration at the last look's seeds
    runs_former = run_studies(at(null_p_values("normal", naive=True), looks), former)[1].mean()
    runs = run_studies(at(null_p_values("normal"), looks), shipped_plan(looks))[1].mean()
    assert runs <= 0.6 * len(CONFIGURATIONS) * looks[-1] < runs_former


# The claims' per-seed differences as measured on digits at 20 seeds, in the claims file's order: mean and
# standard deviation in examples, and the examples the metric counts (test set 360, validation set 144).
# Four are large beside their spread; 1.2b is 2 examples, always the same way; the dropout ones are small.
DIGITS = [(-2.05, 0.83, 360),                                     # 1.2b: L2 against none
          (105.65, 5.68, 144), (-17.4, 3.52, 144),               # 2.1: lr 1e-3 against 1e-5, against 0.1
          (201.85, 30.19, 360),                                   # 2.2a: batch 64 against 512
          (4.7, 4.76, 360), (-1.8, 1.85, 360), (-6.5, 5.48, 360),  # 2.2b: dropout 0.25-0.5, 0.25-0.01, 0.5-0.01
          (225.85, 21.35, 360)]                                   # 2.2c: momentum 0.9 against none


def test_large_differences_are_decided_at_the_first_look_and_save_runs():
    looks, studies = LOOK_PLANS[0], 2000
    mean, spread, examples = (np.array(column) for column in zip(*DIGITS))
    # on each metric's grid
    d = np.round(np.random.default_rng(3).normal(mean, spread, (studies, 20, len(DIGITS)))) / examples
    p = np.stack([np.stack([paired.p_value(d[:, :seeds, claim], 1 / examples[claim]) for claim in range(len(DIGITS))],
                           axis=-1) for seeds in looks], axis=1)
    settled, runs = run_studies(p, shipped_plan(looks))
    large = np.abs(mean) / spread > 4  # the learning rates (both), batch 64 against 512, momentum
    largest = np.abs(mean) / spread > 10  # lr 1e-3 against 1e-5, momentum
    assert large.sum() == 4 and (settled.decided_at[:, large] <= 2).all(axis=1).mean() > 0.99
    assert largest.sum() == 2 and (settled.decided_at[:, largest] == 1).mean() > 0.95
    assert (settled.decided_at[:, ~large] > 0).mean() > 0.9  # the others mostly by the last look
    assert runs.mean() < 0.55 * len(CONFIGURATIONS) * looks[-1]


# ---------------------------------------------------------------- the plan, hand-computable

def test_alpha_is_spent_over_the_looks():
    plan = shipped_plan((5, 10, 20))
    # Kim-DeMets, alpha t^3 spent by t = 0.25, 0.5, 1: alpha / 64, alpha / 8, alpha
    assert plan.shares(ALPHA) == pytest.approx([ALPHA / 64, ALPHA * 7 / 64, ALPHA * 7 / 8])
    assert plan.shares(ALPHA / 8) == pytest.approx(plan.shares(ALPHA) / 8)
    # O'Brien-Fleming's type, 2 - 2 Phi(1.96 / sqrt(t)): 0.00009, 0.00557, 0.05 by t = 0.25, 0.5, 1
    of_type = {name: sequential.Plan((5, 10, 20), ALPHA, spending=name).shares(ALPHA)
               for name in ("obrien-fleming", "pocock", "equal")}
    assert of_type["obrien-fleming"] == pytest.approx([0.0000889, 0.0055746 - 0.0000889, 0.0444254], abs=1e-6)
    # Pocock's type, alpha ln(1 + (e - 1) t): 0.01787, 0.03101, 0.05
    assert of_type["pocock"] == pytest.approx([0.017869, 0.031006 - 0.017869, ALPHA - 0.031006], abs=1e-6)
    assert of_type["equal"] == pytest.approx([ALPHA / 3] * 3)
    assert plan.thresholds(8).shape == (8, 3) and plan.thresholds(8)[1] == pytest.approx(plan.shares(ALPHA / 2))


def test_holm_steps_down_over_claims_and_looks():
    thresholds = sequential.Plan((5, 10), 0.06, spending="equal").thresholds(3)  # (0.03, 0.03) at r = 1 ...
    p = np.array([[0.004, 0.04, 0.5],      # look 1: claim 0 is within 0.06 / 3 / 2 = 0.01
                  [0.3, 0.014, np.nan]])   # look 2: claim 1 within 0.06 / 2 / 2 = 0.015; claim 2 not measured
    decided, held_to, crossed_at = sequential.decide(p[:1], thresholds)
    assert decided.tolist() == [True, False, False] and held_to.tolist() == [3, 2, 2] and crossed_at.tolist()[0] == 1
    decided, held_to, crossed_at = sequential.decide(p, thresholds)
    assert decided.tolist() == [True, True, False] and crossed_at.tolist() == [1, 2, 0]  # claim 0 stays decided
    assert held_to.tolist() == [3, 2, 1]  # claim 2 is held to 0.06 / 1 at last, and misses it


def test_predictive_power_under_a_flat_prior():
    # z = 1.96 at half the seeds, boundary 1.96: Phi((1.96 - 1.96 sqrt(.5)) / sqrt(.5)) = Phi(0.8119)
    assert sequential.predictive_power(0.05, 0.5, 1.959964) == pytest.approx(0.79157, abs=1e-4)
    # no difference seen at a quarter of the seeds: Phi((0 - 2 sqrt(.25)) / sqrt(.75)) = Phi(-1.1547)
    assert sequential.predictive_power(1.0, 0.25, 2.0) == pytest.approx(0.12410, abs=1e-4)


# ---------------------------------------------------------------- the seeds and the claims

def test_the_seeds_beyond_the_configured_ones_are_one_fixed_sequence():
    assert claims.look_seeds([42], 5) == [42, 1, 2, 3, 4]
    assert claims.look_seeds([3, 1], 5) == [3, 1, 2, 4, 5]
    assert claims.look_seeds([42, 1, 2, 3, 4], 5) == [42, 1, 2, 3, 4]


def test_settle_is_checked_before_any_job():
    with pytest.raises(configuration.ConfigError, match=r"settle.looks = \[10, 5\]: .* must increase"):
        configuration.load(overrides={"settle": {"looks": [10, 5]}})
    with pytest.raises(configuration.ConfigError, match="the first look .3 seeds. must include the 4 configured"):
        configuration.load(overrides={"settle": {"looks": [3, 6]}, "seeds": [1, 2, 3, 4]})
    with pytest.raises(configuration.ConfigError, match="settle.futility"):
        configuration.load(overrides={"settle": {"futility": 1.5}})
    assert configuration.load()["settle"] == {"looks": [], "alpha": 0.05, "futility": 0.27,
                                              "spending": "kim-demets"}  # off by default


def claim(report_id, better, worse):
    return {"report_id": report_id, "question": "q2", "metric": "test_acc", "better": f"{better}/default",
            "worse": f"{worse}/default", "claim": f"{better} beats {worse}"}


ABSENT = claim("z", "e", "b")


def runs(experiment: str, accuracies) -> list[dict]:
    return [summary_row("q2", experiment, "default", seed, dataset="digits", test_acc=accuracy)
            for seed, accuracy in enumerate(accuracies, start=1)]


def grid(examples) -> list[float]:
    """Accuracies 0.8 + examples / 360, seed by seed."""
    return [0.8 + k / EXAMPLES for k in examples]


def look(summary, compared, number, plan, testable=None):
    return comparisons.settle_look(pd.DataFrame(summary), compared, testable or [c is not ABSENT for c in compared],
                                   look=number, plan=plan, seeds=[1], dataset="digits").set_index("report_id")


def floored_p(steps: list[int]) -> float:
    """The p-value of differences of ``steps`` examples of 360 whose spread is below one example: the
    t-test's with the spread floored at one example, t = mean / (1 / sqrt(n))."""
    return 2 * stats.t.sf(abs(np.mean(steps)) * math.sqrt(len(steps)), len(steps) - 1)


def test_a_decided_claim_keeps_the_numbers_of_the_look_that_decided_it():
    plan = sequential.Plan((8, 10), ALPHA)
    compared = [claim("x", "a", "b"), claim("y", "c", "d"), ABSENT]
    summary = (runs("a", grid([3, 4, 3, 5, 3, 4, 3, 4, 5, 3])) + runs("b", grid([0] * 10))   # x: 10 of 10 above
               + runs("c", grid([2, -3, 1, 4, -2, 0, 3, -1, 2, 1])) + runs("d", grid([0] * 10)))  # y: noise
    first, second = look(summary, compared, 1, plan), look(summary, compared, 2, plan)
    x = first.loc["x"]  # 8 pairs 3.6 examples above, spread 0.74 floored at 1: within look 1's share of alpha / 2
    assert x.verdict == HOLDS and x.decided_at_look == 1 == x.numbers_from_look and x.n_pairs == 8
    assert x.p == pytest.approx(floored_p([3, 4, 3, 5, 3, 4, 3, 4])) and x.p_t < x.p
    assert x.p <= x.level == pytest.approx(plan.shares(ALPHA / 2)[0]) and 0 < x.low < x.mean_difference
    assert first.loc["y", "verdict"] == OPEN and first.loc["y", "low"] < 0 < first.loc["y", "high"]
    assert first.loc["z", "verdict"] == NOT_TESTABLE
    # x stays decided with the same numbers; y is measured on 10 seeds now
    same = [column for column in first.columns if column not in ("look", "look_seeds")]
    assert second.loc["x", same].equals(first.loc["x", same]) and second.loc["x", "look"] == 2
    assert second.loc["y", "n_pairs"] == 10 and second.loc["y", "numbers_from_look"] == 2


def test_every_number_of_a_decided_row_comes_from_one_look():
    # x is decided at look 2; alpha / 2 goes to y, whose look-1 p-value (0.018) is within look 1's share of
    # alpha (0.026) though not of alpha / 2 (0.013): y is decided at look 2 on look 1's seeds, and its row
    # shows look 1's numbers, not the weaker look 2's beside them
    plan = sequential.Plan((8, 10), ALPHA)
    compared = [claim("x", "a", "b"), claim("y", "c", "d")]
    summary = (runs("a", grid([1, 0, 1, 1, 0, 1, 1, 4, 2, 3])) + runs("b", grid([0] * 10))
               + runs("c", grid([3, 3, 0, 2, 4, 1, 4, -1, -1, -2])) + runs("d", grid([0] * 10)))
    table = look(summary, compared, 2, plan)
    x, y = table.loc["x"], table.loc["y"]
    assert x.decided_at_look == 2 == x.numbers_from_look and x.p == x.p_at_look_2 <= plan.shares(ALPHA / 2)[1]
    assert x.p_at_look_1 > plan.shares(ALPHA / 2)[0]
    assert y.verdict == HOLDS and y.decided_at_look == 2 and y.numbers_from_look == 1
    assert y.n_pairs == 8 and y.mean_difference == pytest.approx(2 / EXAMPLES)
    # each row names the seeds that decided it, not the seeds of the study's last look
    assert (y.numbers_from_seeds, x.numbers_from_seeds, y.look_seeds) == ("seeds 1-8", "seeds 1-10", 10)
    assert y.p == y.p_at_look_1 and plan.shares(ALPHA / 2)[0] < y.p <= plan.shares(ALPHA)[0]
    assert y.p_at_look_2 > plan.shares(ALPHA)[1]
    assert y.level == pytest.approx(plan.shares(ALPHA)[0]) and 0 < y.low < y.mean_difference < y.high


def test_equal_differences_are_judged_with_the_spread_floored_at_one_example():
    # the same difference on every seed: the plain t-test's p is 0 (decided at once, with a zero-width
    # interval); floored at one example, one example more is not enough on 3 or 5 seeds, four are on 5
    plan = sequential.Plan((3, 5), ALPHA)
    compared = [claim("x", "a", "b"), claim("y", "c", "b")]
    summary = runs("a", grid([1] * 5)) + runs("b", grid([0] * 5)) + runs("c", grid([4] * 5))
    first, second = look(summary, compared, 1, plan), look(summary, compared, 2, plan)
    x, y = first.loc["x"], first.loc["y"]
    assert x.p_t == 0 == y.p_t and x.p == pytest.approx(floored_p([1] * 3)) and y.p == pytest.approx(floored_p([4] * 3))
    assert x.verdict == y.verdict == OPEN and x.low < 0 < x.high and y.low < 0 < y.high
    assert x.level == y.level == pytest.approx(plan.shares(ALPHA / 2)[0])
    x, y = second.loc["x"], second.loc["y"]
    assert x.verdict == OPEN and x.p == pytest.approx(floored_p([1] * 5)) and x.low < 0 < x.high
    assert y.verdict == HOLDS and y.decided_at_look == 2 and y.p == pytest.approx(floored_p([4] * 5))
    half = stats.t.isf(y.level / 2, 4) / EXAMPLES / math.sqrt(5)  # never a single point
    assert (y.low, y.high) == pytest.approx((4 / EXAMPLES - half, 4 / EXAMPLES + half))


def test_a_claim_stops_for_futility_and_is_still_tested_on_seeds_trained_for_others(tmp_path):
    plan = shipped_plan((5, 10, 20))
    compared = [claim("u", "a", "b"), claim("x", "a", "c"), claim("y", "b", "c")]
    same = grid([2, 3, 2, 4, 3, 2, 3, 2, 4, 3])
    summary = runs("a", same) + runs("b", same) + runs("c", grid([0] * 10))  # u: identical; x, y: 10 of 10 above
    first = look(summary, compared, 1, plan)
    assert first.loc["u", "verdict"] == claims.STOPPED and first.loc["u", "stopped_at_look"] == 1
    assert f"predictive power 0.12 < {plan.futility}" in first.loc["u", "note"]
    # x and y: p = 0.003 on 5 seeds, short of look 1's share of alpha / 3 (0.00026), and likely to be decided
    assert (first.loc[["x", "y"], "verdict"] == OPEN).all()
    assert first.loc[["x", "y"], "level"].tolist() == pytest.approx([plan.shares(ALPHA / 3)[0]] * 2)
    assert (first.loc[["x", "y"], "predictive_power"] > 0.9).all()
    decisions = tmp_path / "look1.csv"
    first.reset_index().to_csv(decisions, index=False)
    assert [c["report_id"] for c in claims.open_claims(decisions, compared)] == ["x", "y"]  # u trains no more
    # a and b train 10 seeds for x and y: u is measured there too, and stays stopped
    second = look(summary, compared, 2, plan)
    assert second.loc["u", "verdict"] == claims.STOPPED and second.loc["u", "numbers_from_look"] == 2
    assert second.loc["u", "n_pairs"] == 10 and second.loc["u", "p_at_look_2"] == 1


# ---------------------------------------------------------------- the DAG, through the real Snakemake

SETTLE_CLAIMS = """report_id,question,metric,better,worse,claim
t1,q2,test_acc,lr/learning_rate~0.5,lr/learning_rate~1e-05,a large learning rate beats a tiny one
t2,q2,test_acc,wd/weight_decay~0.0,wd/weight_decay~1e-12,no weight decay beats a negligible one
t3,q2,test_acc,absent/default,lr/learning_rate~0.5,a configuration the study lacks
"""
FFN = {"model": "ffn", "batch_size": 64, "hidden_size": 16}
# Two testable claims: Holm holds the first to alpha / 2 = 0.1, whose share at look 1 (5 of 6 seeds), 0.072,
# five pairs all one way (p = 1/16) can reach. No futility, so the claim that is never decided goes on.
SETTLED = tiny(q1={}, settle={"looks": [5, 6], "alpha": 0.2, "futility": 0},
               q2={"lr": FFN | {"epochs": 5, "learning_rate": [0.5, 1.0e-5]},     # decided at the first look
                   "wd": FFN | {"epochs": 2, "weight_decay": [0.0, 1.0e-12]}})   # never decided


def trained_seeds(work) -> dict[str, list[int]]:
    found = {}
    for path in sorted((work / "results/runs/digits/q2").glob("*/*/seed*/summary.json")):
        found.setdefault(f"{path.parts[-4]}/{path.parts[-3]}", []).append(int(path.parts[-2].removeprefix("seed")))
    return {configuration_: sorted(seeds) for configuration_, seeds in found.items()}


def test_the_looks_grow_the_dag_with_only_what_is_open(own_workspace):
    (own_workspace.repo / "config/report_comparisons.csv").write_text(SETTLE_CLAIMS)
    target = "results/tables/seed_comparisons.csv"  # the claims' table: every look, no figures
    own_workspace.run(SETTLED, target)  # one command: every look

    decisions = [pd.read_csv(own_workspace.work / f"results/settle/digits/look{k}.csv").set_index("report_id")
                 for k in (1, 2)]
    assert decisions[0]["verdict"].to_dict() == {"t1": HOLDS, "t2": OPEN, "t3": NOT_TESTABLE}
    assert decisions[0].loc["t2", "note"] == IDENTICAL
    assert decisions[1].loc["t1", "decided_at_look"] == 1 and decisions[1].loc["t1", "n_pairs"] == 5
    # the decided claim's configurations stopped at the first look's seeds, the open one's went on;
    # the claim the study cannot test trained nothing
    assert trained_seeds(own_workspace.work) == {
        "lr/learning_rate~0.5": [1, 2, 3, 4, 5], "lr/learning_rate~1e-05": [1, 2, 3, 4, 5],
        "wd/weight_decay~0.0": [1, 2, 3, 4, 5, 6], "wd/weight_decay~1e-12": [1, 2, 3, 4, 5, 6]}
    table = pd.read_csv(own_workspace.work / "results/tables/seed_comparisons.csv").set_index("report_id")
    assert table.loc["t1", "decided_at_look"] == 1 and table.loc["t3", "verdict"] == NOT_TESTABLE

    assert nothing_to_do(own_workspace.run(SETTLED, target, "--dry-run"))
    # another plan: every look is decided again under it (its shares of alpha differ), from the runs there are
    raised = planned_jobs(own_workspace.run(SETTLED | {"settle": {"looks": [5, 7], "alpha": 0.2, "futility": 0}},
                                            target, "--dry-run"))
    assert raised["settle_look"] == 2


def test_settle_off_is_the_fixed_seed_study(workspace):
    plan = planned_jobs(workspace.run(TINY, "--dry-run"))
    assert "settle_look" not in plan and plan["train_q2"] == 4


def test_every_claim_of_the_report_is_testable_in_the_shipped_study():
    runs_ = expand_runs(configuration.load())
    assert len(SHIPPED) == 8 and all(claims.testable(claim_, runs_) for claim_ in SHIPPED)
    assert len(CONFIGURATIONS) == 12 and not claims.testable(ABSENT, runs_)
