"""The findings that open the report: a sentence each, written from the study's tables."""

import pandas as pd

from homework1.present import findings


def config_row(question, experiment, variant, test_acc, seeds=5):
    return {"question": question, "experiment": experiment, "variant": variant, "test_acc_mean": test_acc,
            "test_acc_count": seeds}


def reproduction_row(report_id, experiment, variant, metric, report_value, verdict, kind="exact", comparable=True,
                     n_seeds=5, cores=""):
    return {"report_id": report_id, "question": "q2", "experiment": experiment, "variant": variant, "metric": metric,
            "report_value": report_value, "verdict": verdict, "kind": kind, "comparable": comparable,
            "dataset": "digits", "n_seeds": n_seeds, "cores": cores}


REPRODUCTION = pd.DataFrame([
    reproduction_row("2.1", "logreg_lr", "learning_rate~0.001", "final_val_acc", 0.52, "differs"),
    reproduction_row("2.1", "logreg_lr", "learning_rate~1e-05", "final_val_acc", 0.45, "within seed spread"),
    reproduction_row("2.2a", "ffn_batch", "batch_size~64", "test_acc", 0.608, "other data set (digits)",
                     comparable=False),
    reproduction_row("2.2a", "ffn_batch", "batch_size~64", "wall_time_s", 165, "n/a (timing)", kind="timing",
                     cores="shared: up to 8 jobs at once on 2 cores"),
    reproduction_row("1.2b", "logreg_l2", "default", "test_acc", 0.5053, "differs", n_seeds=1),
])


def test_each_questions_main_result_in_a_sentence():
    by_config = pd.DataFrame([config_row("q1", "perceptron", "default", 0.80), config_row("q1", "mlp", "default", 0.93),
                              config_row("q2", "ffn_lr", "learning_rate~0.1", 0.91, seeds=1)])
    assert findings.question_results(by_config) == [
        "Question 1 (numpy): the highest test accuracy is mlp's, 0.9300 (5 seeds); the lowest perceptron's, 0.8000.",
        "Question 2 (PyTorch): the highest test accuracy is ffn_lr learning_rate~0.1's, 0.9100 (1 seed)."]


def test_the_selected_learning_rate_is_set_against_the_reports():
    chosen = pd.DataFrame({"variant": ["learning_rate~0.1", "learning_rate~0.001"], "selected": [True, False],
                           "selected_by": ["mean final_val_acc over seeds"] * 2, "final_val_acc_mean": [0.95, 0.9],
                           "best_in_resamples": [0.8, 0.2]})
    assert findings.selections({"q2/logreg_lr": chosen}, REPRODUCTION) == [
        "logreg_lr: we select learning_rate~0.1 (mean final_val_acc 0.9500, best in 80% of seed resamples), where "
        "the report chose learning_rate~0.001 (0.5200)."]


def test_each_claims_verdict_with_its_interval_its_sign_visible():
    claims = pd.DataFrame([{"report_id": "2.2b", "claim": "dropout 0.25 beats 0.01", "verdict": "reversed",
                            "mean_difference": -0.01, "low": -0.02, "high": -3.1e-5, "n_pairs": 5},
                           {"report_id": "1.2b", "claim": "L2 beats none", "verdict": "not run",
                            "mean_difference": None, "low": None, "high": None, "n_pairs": 0}])
    assert findings.claim_verdicts(claims) == [
        '2.2b "dropout 0.25 beats 0.01": **reversed**, difference -0.0100 (interval -0.0200 to -3.10e-05) on 5 '
        'paired seeds.', '1.2b "L2 beats none": **not run**.']


def test_what_differs_from_the_report_with_its_likely_reason():
    assert findings.differences(REPRODUCTION) == [
        "Of the report's 5 numbers, ours agree with 1 (matching, or within our seed spread).",
        "1 does not (2.1); likely reason: beyond our seed spread: a true difference.",
        "1 does not (2.2a); likely reason: another data set (digits): accuracies not comparable.",
        "1 does not (2.2a); likely reason: run times of another machine, and our runs shared cores.",
        "1 does not (1.2b); likely reason: one seed: too few to tell a difference from seed noise."]


def test_the_findings_as_markdown_and_as_the_html_reports_caption():
    found = {"Main results": ["Question 3: 2 of 2 checks pass ([all of them](theory/q3_checks.csv))."], "Empty": []}
    assert findings.as_markdown(found).startswith("## Findings\n\n**Main results.**\n\n- Question 3")
    assert findings.as_rst(found) == "**Main results.**\n\n- Question 3: 2 of 2 checks pass (all of them).\n\n"
