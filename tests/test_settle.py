"""Settling the report's claims over planned looks: the error rate the procedure promises, checked
by simulation beside the naive procedure that breaks it; each look's decisions; the DAG growing
from them through the real Snakemake."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from conftest import REPO, TINY, nothing_to_do, planned_jobs, summary_row, tiny
from homework1 import claims, comparisons, configuration, sequential
from homework1.study import expand_runs

ALPHA = 0.05
LOOKS = [5, 10, 20]  # the README's example, and what report.md suggests


# ---------------------------------------------------------------- the error rate, by simulation

def null_studies(n_studies: int, seed: int) -> np.ndarray:
    """p-values (studies x looks x claims) of the report's 8 claims when no configuration differs
    from another: 12 configurations' accuracies per seed, scattered as on digits (sd 0.01 per run,
    and 0.01 shared by the runs of a seed), compared in the claims' pairs, which share
    configurations as the report's do (the dropout claims share all three variants)."""
    pairs = [(0, 1), (2, 3), (2, 4), (5, 6), (7, 8), (7, 9), (8, 9), (10, 11)]
    rng = np.random.default_rng(seed)
    accuracy = rng.normal(0.9, 0.01, (n_studies, LOOKS[-1], 12)) + rng.normal(0, 0.01, (n_studies, LOOKS[-1], 1))
    differences = np.stack([accuracy[..., a] - accuracy[..., b] for a, b in pairs], axis=2)
    p = np.empty((n_studies, len(LOOKS), len(pairs)))
    for look, n in enumerate(LOOKS):
        d = differences[:, :n]
        t = d.mean(axis=1) / (d.std(axis=1, ddof=1) / math.sqrt(n))
        p[:, look] = 2 * stats.t.sf(np.abs(t), n - 1)
    return p


def false_verdict_rate(p: np.ndarray, sequential_looks: bool) -> float:
    """The share of studies in which any claim (every one with no true difference) is decided."""
    return float(np.mean([sequential.first_decisions(study, ALPHA, sequential_looks).any() for study in p]))


def test_the_error_rate_holds_across_the_looks_and_deciding_at_every_look_breaks_it():
    n_studies = 4000
    p = null_studies(n_studies, seed=1)
    bound = ALPHA + 3 * math.sqrt(ALPHA * (1 - ALPHA) / n_studies)  # alpha plus three Monte Carlo errors
    assert false_verdict_rate(p, sequential_looks=True) <= bound
    # Holm at the unadjusted alpha at every look: each look alone keeps alpha, the three together do not
    assert false_verdict_rate(p, sequential_looks=False) > bound
    assert false_verdict_rate(p[:, :1], sequential_looks=False) <= bound  # one look alone is fine


def test_a_true_difference_is_found_and_a_decided_claim_stays_decided():
    # one claim with a real difference (1.5 sd per pair) among nulls: decided at some look, and its
    # decision survives every later look (q only shrinks)
    rng = np.random.default_rng(3)
    d = rng.normal(0, 1, (LOOKS[-1], 3)) + np.array([1.5, 0.0, 0.0])
    p = np.array([[stats.ttest_1samp(d[:n, c], 0).pvalue for c in range(3)] for n in LOOKS])
    decided_at = sequential.first_decisions(p, ALPHA)
    assert decided_at[0] >= 1 and not decided_at[1:].any()
    q = np.minimum.accumulate(p, axis=0)
    assert all(sequential.decide(q[look], ALPHA, len(LOOKS))[0][0] for look in range(decided_at[0] - 1, len(LOOKS)))


def test_holm_levels_and_adjusted_p_values():
    rejected, held_to = sequential.holm([0.001, 0.06, 0.011, np.nan], 0.05)
    assert rejected.tolist() == [True, False, True, False]
    assert held_to[:3] == pytest.approx([0.05 / 3, 0.05 / 1, 0.05 / 2]) and np.isnan(held_to[3])
    rejected, held_to = sequential.holm([0.04, 0.03], 0.05)  # the smallest misses 0.025: nothing is rejected
    assert not rejected.any() and held_to == pytest.approx([0.025, 0.025])
    # adjusted at 3 looks: 3 x Holm's (3 x 0.001, max(3 x 0.001, 2 x 0.011), max(.., 1 x 0.06))
    assert sequential.adjusted([0.001, 0.06, 0.011], 3) == pytest.approx([0.009, 0.18, 0.066])
    for q in ([0.001, 0.06, 0.011], [0.2, 0.0001, 0.003], [0.004, 0.005]):  # adjusted <= alpha where decided
        assert ((sequential.adjusted(q, 3) <= ALPHA) == sequential.decide(q, ALPHA, 3)[0]).all()


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
    assert configuration.load()["settle"] == {"looks": [], "alpha": 0.05}  # off by default


CLAIM = {"report_id": "x", "question": "q2", "metric": "test_acc", "better": "a/default", "worse": "b/default",
         "claim": "a beats b"}
WEAK = CLAIM | {"report_id": "y", "better": "c/default", "worse": "d/default", "claim": "c beats d"}
ABSENT = CLAIM | {"report_id": "z", "better": "e/default", "claim": "e beats b"}


def runs(experiment: str, accuracies: list[float]) -> list[dict]:
    return [summary_row("q2", experiment, "default", seed, dataset="digits", test_acc=accuracy)
            for seed, accuracy in enumerate(accuracies, start=1)]


def look(summary, previous, number, seeds, testable=(True, True, False)):
    return comparisons.settle_look(pd.DataFrame(summary), [CLAIM, WEAK, ABSENT], list(testable), previous,
                                   look=number, looks=2, seeds=seeds, alpha=ALPHA, dataset="digits")


def test_each_look_decides_on_the_smallest_p_value_so_far_and_keeps_what_it_decided():
    strong = runs("a", [0.9, 0.91, 0.92, 0.93]) + runs("b", [0.5, 0.52, 0.5, 0.51])
    weak = runs("c", [0.6, 0.7, 0.8, 0.72]) + runs("d", [0.58, 0.71, 0.76, 0.73])
    first = look(strong + weak, None, 1, [1, 2, 3]).set_index("report_id")
    assert first.loc["x", "verdict"] == "holds" and first.loc["x", "decided_at_look"] == 1
    assert first.loc["x", "low"] > 0 and first.loc["x", "n_pairs"] == 3
    assert first.loc["y", "verdict"] == "undecided" and first.loc["y", "low"] < 0 < first.loc["y", "high"]
    assert first.loc["z", "verdict"] == "not testable"
    # x decided: kept as it was; y on four seeds now; the adjusted p-value is the decision's rule
    second = look(strong + weak, first.reset_index(), 2, [1, 2, 3, 4]).set_index("report_id")
    assert second.loc["x"].drop(["look", "look_seeds"]).equals(first.loc["x"].drop(["look", "look_seeds"]))
    assert second.loc["y", "n_pairs"] == 4 and second.loc["y", "look"] == 2
    for row in (first, second):
        decided = row["verdict"].isin(["holds", "reversed"])
        assert (row.loc[decided, "p_sequential"] <= ALPHA).all()
        assert (row.loc[row["verdict"] == "undecided", "p_sequential"] > ALPHA).all()


def test_a_smaller_p_value_at_an_earlier_look_is_kept():
    # y is clearer on its first three seeds (differences 0.05, 0.1, 0.02) than on all five
    weak = runs("c", [0.75, 0.82, 0.73, 0.65, 0.65]) + runs("d", [0.7, 0.72, 0.71, 0.75, 0.7])
    first = look(weak, None, 1, [1, 2, 3], testable=(False, True, False)).set_index("report_id")
    second = look(weak, first.reset_index(), 2, [1, 2, 3, 4, 5], testable=(False, True, False))
    y = second.set_index("report_id").loc["y"]
    assert first.loc["y", "verdict"] == y["verdict"] == "undecided"
    assert y["p_min"] == first.loc["y", "p_min"] < y["p_t"] and y["p_min_look"] == 1


# ---------------------------------------------------------------- the DAG, through the real Snakemake

SETTLE_CLAIMS = """report_id,question,metric,better,worse,claim
t1,q2,test_acc,lr/learning_rate~0.5,lr/learning_rate~1e-05,a large learning rate beats a tiny one
t2,q2,test_acc,wd/weight_decay~0.0,wd/weight_decay~1e-12,no weight decay beats a negligible one
t3,q2,test_acc,absent/default,lr/learning_rate~0.5,a configuration the study lacks
"""
FFN = {"model": "ffn", "batch_size": 64, "hidden_size": 16}
SETTLED = tiny(q1={}, settle={"looks": [3, 5]},
               q2={"lr": FFN | {"epochs": 5, "learning_rate": [0.5, 1.0e-5]},     # decided at the first look
                   "wd": FFN | {"epochs": 2, "weight_decay": [0.0, 1.0e-12]}})   # never decided


def trained_seeds(work) -> dict[str, list[int]]:
    found = {}
    for path in sorted((work / "results/runs/digits/q2").glob("*/*/seed*/summary.json")):
        found.setdefault(f"{path.parts[-4]}/{path.parts[-3]}", []).append(int(path.parts[-2].removeprefix("seed")))
    return {configuration: sorted(seeds) for configuration, seeds in found.items()}


def test_the_looks_grow_the_dag_with_only_what_is_undecided(own_workspace):
    (own_workspace.repo / "config/report_comparisons.csv").write_text(SETTLE_CLAIMS)
    target = "results/tables/seed_comparisons.csv"  # the claims' table: every look, no figures
    own_workspace.run(SETTLED, target)  # one command: every look

    decisions = [pd.read_csv(own_workspace.work / f"results/settle/digits/look{k}.csv").set_index("report_id")
                 for k in (1, 2)]
    assert decisions[0]["verdict"].to_dict() == {"t1": "holds", "t2": "identical on every seed",
                                                 "t3": "not testable"}
    assert decisions[1].loc["t1", "decided_at_look"] == 1 and decisions[1].loc["t1", "n_pairs"] == 3
    # the decided claim's configurations stopped at the first look's seeds, the undecided one's went on;
    # the claim the study cannot test trained nothing
    assert trained_seeds(own_workspace.work) == {
        "lr/learning_rate~0.5": [1, 2, 3], "lr/learning_rate~1e-05": [1, 2, 3],
        "wd/weight_decay~0.0": [1, 2, 3, 4, 5], "wd/weight_decay~1e-12": [1, 2, 3, 4, 5]}
    table = pd.read_csv(own_workspace.work / "results/tables/seed_comparisons.csv").set_index("report_id")
    assert table.loc["t1", "decided_at_look"] == 1 and table.loc["t3", "verdict"] == "not testable"

    assert nothing_to_do(own_workspace.run(SETTLED, target, "--dry-run"))
    # raising the last look: only the new seeds of the claim still undecided (2 configurations x 2 seeds)
    raised = planned_jobs(own_workspace.run(SETTLED | {"settle": {"looks": [3, 7]}}, target, "--dry-run"))
    assert raised["train_q2"] == 4 and raised["settle_look"] == 1


def test_settle_off_is_the_fixed_seed_study(workspace):
    plan = planned_jobs(workspace.run(TINY, "--dry-run"))
    assert "settle_look" not in plan and plan["train_q2"] == 4


def test_every_claim_of_the_report_is_testable_in_the_shipped_study():
    shipped = claims.read_claims(REPO / "config/report_comparisons.csv")
    runs = expand_runs(configuration.load())
    assert len(shipped) == 8 and all(claims.testable(claim, runs) for claim in shipped)
    assert not claims.testable(ABSENT, runs)
