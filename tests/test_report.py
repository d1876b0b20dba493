"""results/report.md, written from small tables: sections, tables, links, where the code came from."""

import re

import pandas as pd
import pytest

from conftest import summary_row
from homework1.present import report
from homework1.analysis import tables
from homework1.analysis.comparisons import ONE_SEED
from homework1.plan.claims import HOLDS, NOT_TESTABLE, OPEN, REVERSED, SUGGESTED_LOOKS


def report_row(*run, commit="abc123", dirty=False, host="node1", hand_edited=False, **fields):
    """A run summary's row on digits, with where its code came from and whether it was edited by hand."""
    return summary_row(*run, dataset="digits", git_commit=commit, git_dirty=dirty, host=host, hand_edited=hand_edited,
                       **fields)


RUNS = {"q1": {"perceptron": ["default"]}, "q2": {"ffn_batch": ["batch_size~64", "batch_size~512"]}}
REPORT_IDS = {"q1": {"perceptron": "1.1a"}, "q2": {"ffn_batch": "2.2a"}}


@pytest.fixture
def inputs(tmp_path):
    """Everything write_report reads, as files below results/ (as the workflow lays them out)."""
    results = tmp_path / "results"
    summary = pd.DataFrame([
        report_row("q1", "perceptron", "default", 1, final_train_acc=0.9, final_val_acc=0.8, test_acc=0.81,
                    best_val_acc=0.85, wall_time_s=1.5),
        report_row("q1", "perceptron", "default", 2, final_train_acc=0.7, final_val_acc=0.6, test_acc=0.61,
                    best_val_acc=0.65, wall_time_s=2.5, dirty=True),
        report_row("q2", "ffn_batch", "batch_size~64", 1, final_train_acc_running=0.5, final_val_acc=0.55,
                    test_acc=0.56, best_val_acc=0.57, wall_time_s=3.0, commit=None, dirty=None, host="node2"),
        report_row("q2", "ffn_batch", "batch_size~512", 1, status="diverged", commit=None, dirty=None, host="node2"),
    ])
    figures = {stem: results / "figures" / "digits" / f"{stem}.png"
               for stem in ("q1/perceptron/default", "q1/weight_norm", "q2/ffn_batch/batch_size~64",
                            "q2/ffn_batch/batch_size~512", "q2/ffn_batch_overlay", "seed_comparisons")}
    q3_figures = [results / "figures" / "q3" / "gd_vs_closed_form.png"]
    for path in [*figures.values(), *q3_figures]:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"\x89PNG")
    selection = results / "tables" / "selection_q2_ffn_batch.md"
    selection.parent.mkdir(parents=True)
    selection.write_text("| variant |\n")
    return dict(dataset="digits", description="digits (embedded 8x8 stand-in)", seeds=[1, 2], runs=RUNS,
                report_ids=REPORT_IDS, summary=summary, by_config=tables.by_config(summary),
                figures={stem: str(path) for stem, path in figures.items()},
                selections={"q2/ffn_batch": str(selection)}, q3_figures=[str(path) for path in q3_figures],
                q3_checks=pd.DataFrame({"claim": ["a", "b"], "setting": ["x", "y"], "measured": [1e-15, 2.0],
                                        "tolerance": [1e-12, 1.0], "passed": [True, False], "note": ["", ""]}),
                tables={"reproduction": "REPRODUCTION TABLE\n", "comparisons": "COMPARISONS TABLE\n",
                        "runtime": "RUNTIME TABLE\n"},
                claims=pd.DataFrame({"verdict": [HOLDS, OPEN, ONE_SEED, NOT_TESTABLE]}),
                settle={"looks": [], "alpha": 0.05}, runs_at_last_look=0)


def written(tmp_path, inputs) -> str:
    path = tmp_path / "results" / "report.md"
    report.write_report(path, **inputs)
    return path.read_text()


def test_every_question_and_experiment_has_its_section_in_order(tmp_path, inputs):
    text = written(tmp_path, inputs)
    headings = re.findall(r"^#+ .*$", text, re.M)
    assert headings == ["# Homework 1, reproduced", "## Question 1 — numpy, per-example SGD", "### 1.1a perceptron",
                        "### 1.2c: norm of W per epoch", "## Question 2 — PyTorch, mini-batch SGD",
                        "### 2.2a ffn_batch", "## Question 3 — the theory checked by computation",
                        "## The report's numbers beside ours", "## The report's claims, judged on runs paired by seed",
                        "## Run time and memory of every job"]
    for table in ("REPRODUCTION TABLE", "COMPARISONS TABLE", "RUNTIME TABLE"):
        assert table in text


def test_links_are_relative_to_the_report_and_point_at_the_files(tmp_path, inputs):
    text = written(tmp_path, inputs)
    links = re.findall(r"\]\(([^)]+)\)", text)
    assert "figures/digits/q2/ffn_batch_overlay.png" in links and "tables/selection_q2_ffn_batch.md" in links
    assert len(links) == 8  # 5 figures of runs, the selection table, 1 of Q3, the claims' forest plot
    for link in links:
        assert (tmp_path / "results" / link).is_file(), link


def test_accuracies_are_mean_and_std_over_seeds_and_diverged_runs_are_counted(tmp_path, inputs):
    text = written(tmp_path, inputs)
    perceptron = text.split("### 1.1a perceptron")[1].split("###")[0]
    assert "0.8000 ± 0.1414" in perceptron  # train acc of seeds 0.9 and 0.7
    assert "2.0 ± 0.7" in perceptron and "train acc (running)" not in perceptron
    ffn = text.split("### 2.2a ffn_batch")[1].split("##")[0]
    assert "train acc (running)" in ffn and "0.5000" in ffn and "—" in ffn  # the diverged run has no accuracy
    assert re.search(r"\| batch_size~512 \|.*\| 1 +\|", ffn)  # one diverged run
    assert "1 of 2 numerical checks pass." in text


def test_the_code_the_runs_came_from_is_named(tmp_path, inputs):
    text = written(tmp_path, inputs)
    assert ("Code: commit `abc123` (1 run); commit `abc123` with uncommitted changes (1 run); "
            "no git commit (not run from a git checkout) (2 runs); on node1, node2.") in text


def test_runs_edited_by_hand_are_counted_and_named(tmp_path, inputs):
    assert "Every run's files are as their training jobs wrote them (their checksums agree)." in written(tmp_path,
                                                                                                         inputs)
    inputs["summary"].loc[1, "hand_edited"] = True
    assert ("**Hand-edited: 1 run** (q1/perceptron/default seed 2): files changed since their training job wrote "
            "them (the checksums it recorded differ); kept") in written(tmp_path, inputs)


def test_another_data_set_than_the_homeworks_is_said_to_be_incomparable(tmp_path, inputs):
    text = written(tmp_path, inputs)
    assert "Data set: **digits (embedded 8x8 stand-in)**; seeds [1, 2]." in text
    assert "did not use the homework's data set" in text
    homework = written(tmp_path, dict(inputs, dataset="intel_landscapes", description="Intel landscapes"))
    assert "did not use the homework's data set" not in homework
    synthetic = written(tmp_path, dict(inputs, dataset="synthetic_intel",
                                       description="SYNTHETIC stand-in: random pixels, timing only"))
    assert "**SYNTHETIC stand-in: random pixels, timing only**" in synthetic


def test_claims_left_open_are_pointed_to_settle(tmp_path, inputs):
    text = written(tmp_path, inputs)
    assert ("2 claims undecided or resting on one seed: settle them, with the error rate held across every look, "
            f"with `snakemake --cores 8 --config 'settle={{looks: {list(SUGGESTED_LOOKS)}}}'`.") in text
    settled = written(tmp_path, inputs | {"claims": pd.DataFrame({"verdict": [HOLDS, REVERSED]})})
    assert "settle them" not in settled


def test_a_settled_study_counts_the_runs_of_the_claims_configurations(tmp_path, inputs):
    # one claim, comparing the two batch sizes: the perceptron's runs are no claim's and do not count
    claims = pd.DataFrame({"verdict": [HOLDS, NOT_TESTABLE], "question": ["q2", "q1"],
                           "better": ["ffn_batch/batch_size~64", "perceptron/default"],
                           "worse": ["ffn_batch/batch_size~512", "absent/default"]})
    settle = {"looks": [5, 10, 20], "alpha": 0.05, "futility": 0.25, "spending": "obrien-fleming"}
    text = written(tmp_path, inputs | {"claims": claims, "settle": settle, "runs_at_last_look": 40})
    assert ("Settled over looks [5, 10, 20] with the family-wise error rate held at 0.05 across every look "
            "(obrien-fleming α-spending over the looks, Holm's method across the claims, claims stopped for futility "
            "below predictive power 0.25): the study trained 2 runs of the 2 configurations the claims compare, "
            "against 40 with every one at the last look's 20 seeds (38 saved).") in text
    assert "settle them" not in text
    # the settle procedure is described, not the single look's seeds_needed
    assert "settled over looks (group-sequential testing)" in text and "*numbers_from_seeds*" in text
    assert "seeds_needed" not in text


def test_the_torch_runs_are_counted_by_training_step_and_graph_check(tmp_path, inputs):
    summary = inputs["summary"].assign(training_step=["numpy classes", "numpy classes", "cuda_graph", "autograd"],
                                       graph_check=["", "", "passed: largest difference 2e-07 (batch losses)",
                                                    "failed: largest difference 0.3 (parameter 0.weight)"])
    text = written(tmp_path, inputs | {"summary": summary})
    assert ("Torch runs by training step: cuda_graph 1, autograd 1. CUDA graphs: 1 run trained with them (checked "
            "against the eager step), 1 fell back to the eager step.") in text


def test_the_homeworks_experiments_come_first_in_its_order_then_the_studys_own():
    ids = {"mine": "", "logreg_l2": "1.2b", "perceptron": "1.1a", "mlp": "1.3a", "logreg": "1.2a", "zeta": ""}
    assert report.homework_order(dict.fromkeys(["mine", "logreg_l2", "perceptron", "mlp", "logreg", "zeta"]),
                                 ids) == ["perceptron", "logreg", "logreg_l2", "mlp", "mine", "zeta"]


def test_the_report_opens_with_the_findings_and_links_q3s_checks_with_the_failures_inline(tmp_path, inputs):
    q3_table = tmp_path / "results/theory/q3_checks.csv"
    text = written(tmp_path, inputs | {"findings": "## Findings\n\n- FOUND\n", "q3_table": str(q3_table)})
    assert text.index("## Findings") < text.index("## Question 1")
    assert "1 of 2 numerical checks pass; every check: [q3_checks.csv](theory/q3_checks.csv)." in text
    q3 = text.split("## Question 3")[1]
    assert "| b " in q3 and "| a " not in q3  # only the failing check inline
