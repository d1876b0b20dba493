"""The report's claims judged on runs paired by seed: hand-computable cases of every part."""

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from conftest import REPO, flag, summary_row
from homework1.plan import claims
from homework1.plan.claims import HOLDS, OPEN, REVERSED
from homework1.analysis import comparisons, paired, selection
from homework1.analysis.comparisons import IDENTICAL, NO_PAIRS, NOT_RUN, ONE_SEED
from homework1.present import figures

COMPARISONS = claims.read_claims(REPO / "config" / "report_comparisons.csv")


def claim(better="a/default", worse="b/default", metric="test_acc", report_id="x"):
    return {"report_id": report_id, "question": "q2", "metric": metric, "better": better, "worse": worse,
            "claim": f"{better} beats {worse}"}


def sides(better, worse, dataset="digits", metric="test_acc", seeds=None, worse_seeds=None):
    """Runs of a/default (``better``) and b/default (``worse``), one per seed (NaN: diverged)."""
    seeds = seeds or range(len(better))
    worse_seeds = worse_seeds or seeds
    return ([summary_row("q2", "a", "default", s, dataset, **{metric: v}) for s, v in zip(seeds, better)]
            + [summary_row("q2", "b", "default", s, dataset, **{metric: v}) for s, v in zip(worse_seeds, worse)])


def judged(rows, compared=None):
    table = comparisons.seed_comparisons(pd.DataFrame(rows), compared or [claim()])
    return table.iloc[0] if len(table) == 1 else table


# ---------------------------------------------------------------- the statistics

def test_the_sign_flip_p_value_enumerates_every_pattern():
    # d = (1, 2, 3): the 8 sums +-1 +-2 +-3 are 6 4 2 0 0 -2 -4 -6; as far from 0 as 6: 2 of 8
    assert paired.sign_flip_p_value(np.array([1.0, 2.0, 3.0])) == 0.25
    # (2, 1, 1, 1): sum 5; only all + and all - reach 5 among 16
    assert paired.sign_flip_p_value(np.array([2.0, 1.0, 1.0, 1.0])) == 2 / 16
    assert paired.sign_flip_p_value(np.array([1.0, -1.0])) == 1.0  # the mean is 0: every pattern is as far
    # up to 24 pairs every pattern is counted (met in the middle): all equal, only the observed and its mirror
    assert paired.sign_flip_p_value(np.ones(20)) == 2 / 2 ** 20
    # beyond, random patterns; the observed one counts, so p is never 0
    p = paired.sign_flip_p_value(np.ones(30))
    assert 0 < p <= 2 / (paired.RESAMPLES + 1) + 1e-12


@pytest.mark.parametrize("pairs", [3, 9, 17])
def test_the_sign_flip_p_value_counts_every_pattern_of_tied_grid_differences(pairs):
    # differences on the 1/360 grid, tied and zero, many rows at once: each row's p is the share of the 2**n
    # patterns whose sum is at least as far from 0, counted one by one (ties count as reaching it)
    rows = np.random.default_rng(pairs).integers(-2, 3, size=(40, pairs)) / 360
    patterns = 1 - 2 * ((np.arange(2 ** pairs)[:, None] >> np.arange(pairs)) & 1)
    counted = (np.abs(patterns @ rows.T) >= np.abs(rows.sum(axis=1)) - 1e-12).mean(axis=0)
    np.testing.assert_allclose(paired.sign_flip_p_value(rows), counted)
    assert paired.sign_flip_p_value(rows[3]) == pytest.approx(counted[3])


def test_the_p_value_is_the_t_tests_with_the_spread_floored_at_the_grid_step():
    step = 1 / 360
    same = np.full(5, step)  # nearly the same model: one example more on every seed
    assert paired.t_p_value(same) == 0.0  # zero spread: the plain t-test calls it certain
    # the spread floored at one example: t = step / (step / sqrt(5)) = 2.236 on 4 degrees of freedom
    assert paired.p_value(same, step) == pytest.approx(2 * stats.t.sf(math.sqrt(5), 4))
    assert paired.p_value(same, step) == pytest.approx(0.0890, abs=1e-4)
    noisy = same + np.array([0, 5e-17, 0, -5e-17, 0])  # a spread of floating-point noise
    assert paired.t_p_value(noisy) < 1e-40 and paired.p_value(noisy, step) == paired.p_value(same, step)
    assert paired.p_value(noisy, 0.0) == 1.0  # on no grid, nothing to judge the spread by
    assert paired.p_value(np.zeros(4), step) == 1.0
    # one seed two examples above, three one above: spread 0.5 step, floored: t = 1.25 * 2 = 2.5 on 3
    # degrees of freedom; a spread above the step is the t-test's own; many rows at once
    below, above = np.array([2, 1, 1, 1]) / 360, np.array([3, 5, 4, 2, 3, 6]) / 360
    assert paired.p_value(below, step) == pytest.approx(2 * stats.t.sf(2.5, 3))
    assert paired.p_value(above, step) == paired.t_p_value(above)
    np.testing.assert_allclose(paired.p_value(np.stack([same, same * 2]), step),
                               [paired.p_value(same, step), paired.p_value(same * 2, step)])
    assert paired.p_value(np.full(1000, 0.5), step) == np.finfo(float).tiny  # never 0


def test_the_interval_is_the_shift_the_test_does_not_reject():
    step = 1 / 360
    same = np.full(10, step)  # p = 2 P(t_9 > sqrt(10)) = 0.0115: rejected at 0.05, not at 0.01
    half = stats.t.isf(0.025, 9) * step / math.sqrt(10)
    assert paired.interval(same, 0.05, step) == pytest.approx((step - half, step + half))  # never a single point
    assert paired.interval(same, 0.01, step)[0] < 0
    rng = np.random.default_rng(1)
    for _ in range(40):  # excludes 0 exactly when the test rejects 0
        d = rng.integers(-1, 3, rng.integers(3, 14)) / 360
        level = rng.choice([0.05, 0.01, 0.001])
        low, high = paired.interval(d, level, step)
        assert high > low and (low > 0 or high < 0) == (paired.p_value(d, step) <= level)
    assert paired.interval(np.full(4, 0.1), 0.05, 0.0) == (-math.inf, math.inf)  # no grid and no spread
    assert paired.resolution([0.9, 0.91, 0.875]) == 1 / 200 and paired.resolution(np.arange(300, 330) / 360) == step
    assert paired.resolution(rng.normal(size=3)) == 0.0


def test_holm_adjusts_a_known_example():
    # sorted 0.005 0.01 0.03 0.04 times 4 3 2 1: 0.02 0.03 0.06 0.04 -> made non-decreasing: 0.02 0.03 0.06 0.06
    np.testing.assert_allclose(paired.holm_adjusted([0.01, 0.04, 0.03, 0.005]), [0.03, 0.06, 0.06, 0.02])
    np.testing.assert_allclose(paired.holm_adjusted([0.5, math.nan, 0.9]), [1.0, math.nan, 1.0])  # capped; NaN untested


def test_seeds_needed_on_a_known_spread():
    # mean 0.0144, spread 0.02: t(0.975, 8) 0.02 / 3 = 0.0154 > 0.0144 but t(0.975, 9) 0.02 / sqrt(10) = 0.0143
    assert paired.seeds_needed(0.0144, 0.02) == 10
    assert paired.seeds_needed(0.0, 0.02) is None and paired.seeds_needed(0.1, 0.0) is None  # nothing to go by
    assert paired.seeds_needed(1e-6, 1.0) is None  # beyond any number of seeds worth running


def test_the_t_interval_and_the_bootstrap_agree_on_a_clear_case():
    d = np.array([0.010, 0.012, 0.011, 0.009, 0.010])  # mean 0.0104, std 0.00114
    low, high = paired.t_interval(d)
    half = 2.776 * 0.0011402 / math.sqrt(5)  # t(0.975, 4) = 2.776
    assert (low, high) == pytest.approx((0.0104 - half, 0.0104 + half), rel=1e-3)
    boot_low, boot_high = paired.bootstrap_interval(d)
    assert low <= boot_low < 0.0104 < boot_high <= high  # the bootstrap's is narrower with 5 pairs
    assert paired.t_p_value(d) < 1e-4


def test_best_frequencies_of_a_hand_computable_sweep():
    # A scores 1 on seeds 0 and 1 and 0 on seed 2, B the reverse: in a resample of 3 seeds A is best
    # when 2 or 3 of them are seeds 0 or 1: 3 (2/3)^2 (1/3) + (2/3)^3 = 20/27
    frequencies = paired.best_frequencies(np.array([[1.0, 1.0, 0.0], [0.0, 0.0, 1.0]]))
    assert frequencies == pytest.approx([20 / 27, 7 / 27], abs=0.02) and frequencies.sum() == pytest.approx(1)
    # a variant whose run diverged on a seed is never best in a resample holding that seed
    assert paired.best_frequencies(np.array([[0.5, 0.5], [math.nan, 0.9]])) == pytest.approx([0.75, 0.25], abs=0.02)


# ---------------------------------------------------------------- claims

def test_a_claim_the_rule_of_thumb_leaves_in_means_only_holds_when_paired():
    # seeds move both sides together (0.60 .. 0.80) while better - worse stays near 0.0108
    better = [0.60, 0.70, 0.80, 0.65, 0.75, 0.72]
    worse = [b - d for b, d in zip(better, [0.010, 0.012, 0.011, 0.009, 0.010, 0.013])]
    row = judged(sides(better, worse))
    assert row.spread_verdict == "holds in means only"  # the means 0.0108 apart, each side's std 0.07
    assert row.verdict == HOLDS and row.n_pairs == 6 and row.low > 0
    assert row.mean_difference == pytest.approx(0.065 / 6) and row.p_holm == pytest.approx(row.p)
    # on a grid of 1/1000 (the values' finest), the spread 0.0015 is above it: the plain t-test's p
    assert paired.resolution(better + worse) == 1 / 1000 and row.p == row.p_t < 1e-4
    assert row.p_sign_flip == 2 / 64  # beside it, the exact test: every difference positive, never below 2 / 2**6
    assert pd.isna(row.seeds_needed)


def test_reversed_and_undecided_and_the_seeds_that_would_decide():
    reversed_ = judged(sides([0.5, 0.6, 0.7, 0.55, 0.6, 0.65], [0.6, 0.7, 0.8, 0.66, 0.72, 0.7]))
    assert reversed_.verdict == REVERSED and reversed_.high < 0
    undecided = judged(sides([0.61, 0.60, 0.65, 0.58, 0.62, 0.6],
                             [0.60, 0.62, 0.62, 0.57, 0.60, 0.61]))  # d = .01 -.02 .03 .01 .02 -.01
    assert undecided.verdict == OPEN and undecided.low < 0 < undecided.high
    d = np.array([0.01, -0.02, 0.03, 0.01, 0.02, -0.01])
    assert undecided.seeds_needed == paired.seeds_needed(d.mean(), d.std(ddof=1))
    tiny = judged(sides([0.6, 0.7, 0.6, 0.7, 0.6], [0.6 - 1e-5, 0.7 + 1e-5, 0.6 - 1e-5, 0.7 + 1e-5, 0.6 - 1e-6]))
    assert tiny.verdict == OPEN and "more than 100 seeds" in tiny.note


def test_holm_adjusts_the_claims_of_a_data_set_together():
    clear = sides([0.60, 0.70, 0.80, 0.65, 0.75, 0.70, 0.62, 0.68],
                  [0.59, 0.688, 0.789, 0.641, 0.74, 0.69, 0.608, 0.671])
    weak = [summary_row("q2", experiment, "default", s, "digits", test_acc=v)
            for experiment, accs in {"c": [0.52, 0.50, 0.53, 0.49, 0.52, 0.51, 0.50, 0.53],
                                     "e": [0.50, 0.51, 0.50, 0.50, 0.50, 0.49, 0.50, 0.50]}.items()
            for s, v in enumerate(accs)]
    table = comparisons.seed_comparisons(pd.DataFrame(clear + weak), [claim(), claim("c/default", "e/default")])
    first, second = table.iloc[0], table.iloc[1]
    assert first.p < second.p
    assert first.p_holm == pytest.approx(2 * first.p)
    assert second.p_holm == pytest.approx(max(second.p, 2 * first.p))
    # the adjusted interval is wider than the plain 95% one, and excludes 0 exactly when p_holm <= 0.05
    assert first.verdict == HOLDS and first.low < first.t_low and first.high > first.t_high
    for row in (first, second):
        assert (row.low > 0 or row.high < 0) == (row.p_holm <= 0.05)


def test_edge_cases_are_named():
    # only the seeds both sides ran pair; a diverged run (NaN) counts as accuracy 0, against its side
    row = judged(sides([0.6, math.nan, 0.7, 0.8], [0.5, 0.5, 0.6, 0.7], seeds=[1, 2, 3, 4], worse_seeds=[1, 2, 3, 9]))
    assert row.n_pairs == 3 and row.diverged_better == 1 and row.diverged_worse == 0
    assert row.better_n == 3 and row.worse_n == 4  # each side on its own: its finished runs
    assert row.mean_difference == pytest.approx((0.1 - 0.5 + 0.1) / 3)
    identical = judged(sides([0.6, 0.7, 0.8] * 2, [0.6, 0.7, 0.8] * 2))
    assert identical.verdict == IDENTICAL and identical.p == 1 and identical.low < 0 < identical.high
    # one example of 10 more on every seed: the spread floored at that step, t = sqrt(n); 3 pairs do not
    # decide (p = 0.23), 10 do (p = 0.012), never with a zero-width interval
    constant = judged(sides([0.6, 0.7, 0.8], [0.5, 0.6, 0.7]))
    assert constant.verdict == OPEN and constant.p == pytest.approx(2 * stats.t.sf(math.sqrt(3), 2))
    assert constant.low < 0 < constant.high
    ten = judged(sides([0.6, 0.7, 0.8, 0.9, 0.6] * 2, [0.5, 0.6, 0.7, 0.8, 0.5] * 2))
    assert ten.verdict == HOLDS and 0 < ten.low < 0.1 < ten.high
    # a measurement on no grid, the same difference on every seed: no spread to judge it by
    better = [0.6 + math.sqrt(k) / 100 for k in (2, 3, 5, 7)]
    off_grid = judged(sides(better, [b - math.sqrt(11) / 100 for b in better]))
    assert off_grid.verdict == OPEN and off_grid.p == 1 and pd.isna(off_grid.low)
    assert off_grid.note == "every difference the same, on no grid: no spread to judge it by"
    assert judged(sides([0.6], [0.5])).verdict == ONE_SEED
    assert judged(sides([0.6], [0.5], seeds=[1], worse_seeds=[2])).verdict == NO_PAIRS
    assert judged(sides([0.6, 0.7], [])).verdict == NOT_RUN


def test_diverged_runs_count_against_their_configuration():
    # lr 0.1 is unstable: it diverges on 3 of 8 seeds, and finishes 0.01 above lr 1e-3 on the others.
    # Leaving the diverged pairs out would say 0.1 is better; counted as accuracy 0 they weigh against it.
    stable = [0.90, 0.91, 0.92, 0.90, 0.91, 0.92, 0.90, 0.91]
    unstable = [math.nan, 0.92, math.nan, 0.91, 0.92, math.nan, 0.91, 0.92]
    row = judged(sides(stable, unstable))
    finished = [s - u for s, u in zip(stable, unstable) if not math.isnan(u)]
    assert max(finished) < 0 < row.mean_difference
    assert row.diverged_worse == 3 and row.n_pairs == 8 and row.worse_n == 5


def test_the_forest_plot_draws_every_claim(tmp_path):
    table = comparisons.seed_comparisons(pd.DataFrame(sides([0.6, 0.7, 0.8, 0.7], [0.5, 0.62, 0.71, 0.66])
                                                      + sides([0.6], [0.5], dataset="intel_landscapes")),
                                         [claim(), claim("a/default", "c/default")])
    figures.forest(table[table["dataset"] == "digits"], "digits", tmp_path / "f.png", tmp_path / "f.pdf", alpha=0.05)
    assert (tmp_path / "f.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and (tmp_path / "f.pdf").exists()


@pytest.mark.parametrize("alpha, overall", [(0.05, "95% overall: α = 0.05"), (0.1, "90% overall: α = 0.1"),
                                            (0.025, "97.5% overall: α = 0.025")])
def test_the_forest_plot_of_settled_claims_names_the_level_they_were_held_to(alpha, overall):
    settled = pd.DataFrame({"looks": [3, 3], "p": [0.01, 0.2]})
    assert figures.forest_method(settled, alpha) == (
        f"settled over 3 looks, {overall} spent over the looks, Holm across the claims")
    on_fixed_seeds = figures.forest_method(settled.drop(columns="looks"), alpha)
    assert on_fixed_seeds == f"{paired.CONFIDENCE * 100:g}%, Holm-adjusted over the 2 claims tested"


def test_a_sweep_says_how_often_each_variant_is_best_over_resampled_seeds():
    summary = pd.DataFrame([summary_row("q2", "lr", v, s, final_val_acc=acc) for v, accs in
                            {"a": [0.9, 0.9, 0.1], "b": [0.1, 0.1, 0.9], "c": [0.0, 0.0, 0.0]}.items()
                            for s, acc in enumerate(accs)])
    table = selection.select_best(summary, "q2", "lr").set_index("variant")
    assert table.loc["a", "rank"] == 1 and table.loc["a", "best_in_resamples"] == pytest.approx(20 / 27, abs=0.02)
    assert table.loc["c", "best_in_resamples"] == 0 and (table["resampled_seeds"] == 3).all()
    one_seed = selection.select_best(summary[summary["seed"] == 0], "q2", "lr")
    assert one_seed["best_in_resamples"].isna().all()


# ---------------------------------------------------------------- each side on its own: the rule of thumb

def test_seed_comparisons_against_seed_noise():
    def seeds(experiment, variant, accs, metric="test_acc", question="q2"):
        return [summary_row(question, experiment, variant, seed, **{metric: acc})
                for seed, acc in enumerate(accs)]

    summary = pd.DataFrame(
        # batch 64 beats 512 by 0.10, std 0.01 each: beyond the spread
        seeds("ffn_batch", "batch_size~64", [0.60, 0.61, 0.62])
        + seeds("ffn_batch", "batch_size~512", [0.50, 0.51, 0.52])
        # 0.25 beats 0.5 by 0.01 with std 0.02 each: in the means only
        + seeds("ffn_dropout", "dropout~0.25", [0.59, 0.61, 0.63])
        + seeds("ffn_dropout", "dropout~0.5", [0.58, 0.60, 0.62])
        # 0.01 beats both: the report's orderings against it do not hold
        + seeds("ffn_dropout", "dropout~0.01", [0.70, 0.71, 0.72])
        + seeds("ffn_momentum", "momentum~0.9", [0.6])
        + seeds("ffn_momentum", "momentum~0.0", [0.5])
        + seeds("logreg_l2", "default", [0.51, 0.52], question="q1")
    )
    table = comparisons.seed_comparisons(summary, COMPARISONS)
    assert len(table) == len(COMPARISONS)
    rows = {(row.better, row.worse): row for row in table.itertuples()}

    batch = rows[("ffn_batch/batch_size~64", "ffn_batch/batch_size~512")]
    assert batch.difference == pytest.approx(0.10) and batch.better_n == 3 and batch.worse_n == 3
    assert batch.better_std == pytest.approx(0.01)
    assert flag(batch.holds_in_means) is True and flag(batch.holds_beyond_spread) is True
    assert batch.spread_verdict == "holds beyond seed spread" and batch.dataset == "intel_landscapes"

    dropout = rows[("ffn_dropout/dropout~0.25", "ffn_dropout/dropout~0.5")]
    assert flag(dropout.holds_in_means) is True and flag(dropout.holds_beyond_spread) is False
    assert dropout.spread_verdict == "holds in means only"

    reversed_ = rows[("ffn_dropout/dropout~0.25", "ffn_dropout/dropout~0.01")]
    assert flag(reversed_.holds_in_means) is False and reversed_.spread_verdict == "does not hold"

    single = rows[("ffn_momentum/momentum~0.9", "ffn_momentum/momentum~0.0")]
    assert flag(single.holds_in_means) is True and flag(single.holds_beyond_spread) is None
    assert single.spread_verdict == "holds (single seed: spread unknown)"
    assert single.verdict == ONE_SEED and single.mean_difference == pytest.approx(0.1)

    half = rows[("logreg_l2/default", "logreg/default")]  # the unregularised side never ran
    assert half.verdict == half.spread_verdict == NOT_RUN and half.better_n == 2 and half.worse_n == 0
    assert flag(half.holds_in_means) is None
    assert rows[("logreg_lr/learning_rate~0.001", "logreg_lr/learning_rate~0.1")].verdict == NOT_RUN


def test_seed_comparisons_take_a_custom_list_and_split_by_data_set():
    summary = pd.DataFrame([summary_row("q1", "a", "default", 1, "digits", test_acc=0.9),
                            summary_row("q1", "b", "default", 1, "digits", test_acc=0.8),
                            summary_row("q1", "a", "default", 1, "intel_landscapes", test_acc=0.4)])
    comparison = {"report_id": "x", "question": "q1", "metric": "test_acc",
                  "better": "a/default", "worse": "b/default", "claim": "a beats b"}
    table = comparisons.seed_comparisons(summary, [comparison])
    verdicts = dict(zip(table["dataset"], zip(table["verdict"], table["spread_verdict"])))
    assert verdicts == {"digits": (ONE_SEED, "holds (single seed: spread unknown)"),
                        "intel_landscapes": (NOT_RUN, NOT_RUN)}


