"""The real workflow, run by the real Snakemake on tiny configs in temporary directories.

One full run of every rule (``built``) serves the tests that only read its outputs or
plan from it; every other run names the outputs it needs, so that it runs those jobs
only. Tests that edit the workflow's code put it back, or work on a copy of their own.
"""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest
import yaml

from conftest import (
    JOB_DETAILS, REPO, SHIPPED_RUNS, TINY, Workspace, image_arrays, nothing_to_do, output_of, planned_jobs, run_file,
    run_snakemake, tiny,
)
from homework1.plan.study import may_use_cuda


@pytest.fixture(scope="module")
def built(tmp_path_factory, shared_workflow):
    """One full run of the tiny workflow, shared by the tests that only read it (or plan from it)."""
    workspace = Workspace(tmp_path_factory.mktemp("built") / "work", shared_workflow)
    workspace.first_run = workspace.run()
    return workspace


def test_every_column_of_every_table_is_described_in_the_docs(built):
    from test_readable import undocumented

    paths = [*(built.work / "results/tables").glob("*.csv"), *(built.work / "results/theory").glob("*.csv")]
    assert len(paths) > 5
    missing = {path.name: undocumented(pd.read_csv(path, nrows=0).columns) for path in paths}
    assert {name: columns for name, columns in missing.items() if columns} == {}


def test_every_output_is_built(built):
    work = built.work
    summary = pd.read_csv(work / "results/tables/summary.csv")
    n_runs = 4 + 2 + 2
    assert len(summary) == n_runs
    assert set(summary["question"]) == {"q1", "q2"}
    assert (summary["dataset"] == "digits").all()
    for column in ["learning_rate", "batch_size", "seed", "test_acc", "best_val_acc", "wall_time_s", "device"]:
        assert column in summary.columns
    assert (work / "results/tables/summary.md").read_text().startswith("| question")
    by_config = pd.read_csv(work / "results/tables/by_config.csv")
    assert len(by_config) == n_runs
    diverged = by_config["diverged_runs"] == 1
    assert diverged.sum() == 1 and (by_config.loc[~diverged, "test_acc_count"] == 1).all()
    assert (by_config.loc[diverged, "test_acc_count"] == 0).all()
    for run in summary.itertuples():
        run_dir = work / f"results/runs/digits/{run.question}/{run.experiment}/{run.variant}/seed1"
        metrics = pd.read_csv(run_dir / "metrics.csv")
        stored = json.loads((run_dir / "summary.json").read_text())
        # every epoch that finished, one row each: both epochs, or those before the divergence
        assert list(metrics["epoch"]) == list(range(1, stored["epochs_completed"] + 1))
        assert stored["epochs_completed"] == (2 if run.status == "ok" else 0)
        assert stored["dataset_sha256"] == summary.loc[run.Index, "dataset_sha256"]
        assert len(stored["dataset_sha256"]) == 64
    figures = sorted(p.relative_to(work).as_posix() for p in (work / "results/figures").rglob("*.png"))
    for expected in ["results/figures/digits/q1/perceptron/default.png",
                     "results/figures/digits/q1/weight_norm.png",
                     "results/figures/digits/q1/sparsity.png",
                     "results/figures/digits/q1/mlp_loss.png",
                     "results/figures/digits/q2/ffn_batch/batch_size~64.png",
                     "results/figures/digits/q2/ffn_batch_overlay.png",
                     "results/figures/digits/seed_comparisons.png",
                     "results/figures/q3/gd_vs_closed_form.png"]:
        assert expected in figures
        assert (work / expected).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        if "/q3/" not in expected:
            assert (work / expected).with_suffix(".pdf").read_bytes()[:5] == b"%PDF-"


def test_q1_runs_learn_and_record_weights(built):
    summary = pd.read_csv(built.work / "results/tables/summary.csv").set_index("experiment")
    q1 = summary[summary["question"] == "q1"]
    assert (q1["test_acc"] > 0.5).all(), q1["test_acc"]  # digits are easy: 10 classes, chance is 0.1
    l1 = pd.read_csv(built.work / run_file("digits/q1/logreg_l1/default/seed1", "metrics.csv"))
    plain = pd.read_csv(built.work / run_file("digits/q1/logreg/default/seed1", "metrics.csv"))
    # digits have pixels that are 0 in every image: their weights stay 0 in every run;
    # L1 zeroes many more
    assert (l1["zero_weight_fraction"] > plain["zero_weight_fraction"] + 0.05).all()
    assert (plain["weight_norm"] > 0).all()


def test_diverging_run_is_recorded_and_does_not_fail_the_workflow(built):
    summary = pd.read_csv(built.work / "results/tables/summary.csv")
    lr_runs = summary[summary["experiment"] == "ffn_lr"].set_index("variant")
    assert lr_runs.loc["learning_rate~10000000000.0", "status"] == "diverged"
    assert pd.isna(lr_runs.loc["learning_rate~10000000000.0", "test_acc"])
    assert lr_runs.loc["learning_rate~0.05", "status"] == "ok"
    stored = json.loads((built.work / run_file("digits/q2/ffn_lr/learning_rate~10000000000.0/seed1")).read_text())
    assert stored["message"].startswith("loss became non-finite at epoch 1, batch ")
    selection = pd.read_csv(built.work / "results/tables/selection_q2_ffn_lr.csv")
    assert selection.loc[0, "variant"] == "learning_rate~0.05" and bool(selection.loc[0, "selected"])
    assert (built.work / "results/figures/digits/q2/ffn_lr/learning_rate~10000000000.0.png").exists()


def test_terminal_shows_one_line_per_training_job_and_the_log_files_the_rest(built):
    terminal = output_of(built.first_run)
    summary = pd.read_csv(built.work / "results/tables/summary.csv")
    for run in summary.itertuples():
        name = f"{run.question}/{run.experiment}/{run.variant} seed {run.seed}: {run.status}, "
        lines = [line for line in terminal.splitlines() if line.startswith(name)]
        assert len(lines) == 1, name
        if run.status == "ok":
            assert re.fullmatch(re.escape(name) + r"test acc \d\.\d{4}, \d+\.\d s on cpu", lines[0])
    # what data set, Q3, table and figure jobs log, and every epoch, stays in their log files
    for quiet in ["epoch 1/2", "building digits", "checks, 0 failed", "runs tabulated", "drew ", "wrote ",
                  "Warning"]:
        assert quiet not in terminal, quiet
    # the default profile keeps Snakemake to its progress
    assert "localrule train_q1:" not in terminal and "steps (100%) done" in terminal
    assert "mlp epoch 1/2" in (built.work / "logs/runs/digits/q1/mlp/default/seed1.log").read_text()
    assert "checks, 0 failed" in (built.work / "logs/theory/q3_checks.log").read_text()


def test_second_run_does_nothing(built):
    assert nothing_to_do(built.run(TINY, "--dry-run"))


def test_adding_a_sweep_value_runs_only_the_new_job(built):
    config = tiny()
    config["q2"]["ffn_batch"]["batch_size"].append(128)
    jobs = planned_jobs(built.run(config, "--dry-run"))
    assert jobs.get("train_q2") == 1
    assert "train_q1" not in jobs and "dataset" not in jobs
    assert jobs.get("run_curves") == 1 and jobs.get("sweep_overlay") == 1


def test_changing_a_hyper_parameter_reruns_only_its_runs(built):
    config = tiny()
    config["q1"]["mlp"]["hidden_size"] = 9
    jobs = planned_jobs(built.run(config, "--dry-run"))
    assert jobs.get("train_q1") == 1 and "train_q2" not in jobs


def test_more_seeds_from_the_command_line_train_only_the_new_seeds(built):
    jobs = planned_jobs(built.run(TINY, "--dry-run", "--config", "seeds=[1,7]"))
    assert jobs.get("train_q1") == 4 and jobs.get("train_q2") == 4  # one new seed of every run
    assert "dataset" not in jobs


# ---------------------------------------------------------------- a code change reruns what runs it

TRAINING = {"train_q1", "train_q2"}


def jobs_planned_after_editing(workspace: Workspace, relative_path: str) -> dict[str, int]:
    """The dry run's plan once a file of the workflow is edited (then put back)."""
    with workspace.edited(relative_path):
        return planned_jobs(workspace.run(TINY, "--dry-run"))


@pytest.mark.parametrize("path, reruns", [  # which modules each rule runs: tests/test_imports.py
    ("src/homework1/q1/kernels.py", {"train_q1": 4}),
    ("src/homework1/q2/graph.py", {"train_q2": 4}),
    ("src/homework1/job/joblog.py", {}),  # it formats log lines only: nothing reruns for it
])
def test_editing_a_module_reruns_exactly_the_training_jobs_that_run_it(built, path, reruns):
    jobs = jobs_planned_after_editing(built, path)
    assert {rule: count for rule, count in jobs.items() if rule in TRAINING} == reruns
    assert "dataset" not in jobs and "q3_checks" not in jobs
    if not reruns:
        assert jobs == {}


def test_editing_a_plotting_script_redraws_figures_only(built):
    jobs = jobs_planned_after_editing(built, "scripts/plot_question_figure.py")
    assert jobs.get("question_figure") == 3  # TINY's Q1 models are drawn in weight_norm, sparsity, mlp_loss
    assert not {"train_q1", "train_q2", "summary_tables", "run_curves"} & set(jobs)


def test_editing_the_shared_figure_style_redraws_figures_without_rerunning_the_q3_checks(built):
    jobs = jobs_planned_after_editing(built, "src/homework1/present/plotting.py")
    assert jobs.get("q3_figures") == 1 and jobs.get("run_curves") == 8
    assert not {"train_q1", "train_q2", "q3_checks", "summary_tables"} & set(jobs)


# ---------------------------------------------------------------- configuration and data errors

@pytest.mark.parametrize("corruption, message", [  # every problem the validator names: tests/test_data.py
    ("truncate", "not a readable .npz file"),
    ("labels", "'test_labels' has labels in 0..6, outside 0..2"),
])
def test_bad_user_data_stops_before_training_and_keeps_earlier_results(built, tmp_path, corruption, message):
    arrays = image_arrays()
    if corruption == "labels":
        arrays["test_labels"][0] = 6
    user_file = tmp_path / "intel_landscapes.npz"
    np.savez(user_file, **arrays)
    if corruption == "truncate":
        user_file.write_bytes(user_file.read_bytes()[:300])
    earlier = {p: p.read_bytes() for p in (built.work / "results/tables").iterdir()}

    config = tiny(dataset="intel_landscapes", intel_landscapes={"path": str(user_file)})
    result = built.run(config, check=False)

    assert result.returncode != 0
    output = output_of(result)
    assert str(user_file) in output and message in output
    assert "Building DAG" not in output  # refused while the configuration is read, before any job
    assert not (built.work / "resources/datasets/intel_landscapes.npz").exists()
    assert not (built.work / "results/runs/intel_landscapes").exists()
    assert {p: p.read_bytes() for p in (built.work / "results/tables").iterdir()} == earlier


# ---------------------------------------------------------------- reports

def test_html_report_holds_every_figure_and_table(built):
    report = built.work / "report.html"
    built.run(TINY, "--report", str(report))
    html = report.read_text()
    for name in ["summary.csv", "by_config.csv", "reproduction.csv", "seed_comparisons.csv", "runtime.csv",
                 "selection_q2_ffn_batch.csv", "q3_checks.csv", "weight_norm.png", "sparsity.png",
                 "mlp_loss.png", "batch_size~64.png", "ffn_batch_overlay.png", "error_vs_units.png",
                 "seed_comparisons.png", "report.md", "explorer.html"]:
        assert name in html, name
    # it opens with the findings, a sentence each
    assert "Start with <strong>findings</strong>" in html and "numerical checks of the theory pass" in html


def test_the_report_opens_with_the_findings_and_no_number_in_results_hides_its_sign(built):
    text = (built.work / "results/report.md").read_text()
    assert text.index("## Findings") < text.index("## Question 1")
    findings = text.split("## Findings")[1].split("## Question 1")[0]
    for sentence in ("Question 1 (numpy): the highest test accuracy is", "Question 3: ", "we select",
                     '"L2 regularisation generalises better than none": **', "likely reason: another data set"):
        assert sentence in findings, sentence
    q3 = text.split("## Question 3")[1].split("\n## ")[0]
    assert "[q3_checks.csv](theory/q3_checks.csv)" in q3 and "| claim" not in q3  # linked; none fails
    signed_zero = re.compile(r"(?<![\d.])-?0\.0000(?!\d)")
    texts = [path for path in (built.work / "results").rglob("*") if path.suffix in (".md", ".csv", ".json", ".rst")]
    assert texts and [path.name for path in texts if signed_zero.search(path.read_text())] == []


def test_markdown_report_walks_through_every_question(built):
    text = (built.work / "results/report.md").read_text()
    for heading in ["## Question 1", "## Question 2", "## Question 3", "### 1.1a perceptron",
                    "### 2.2a ffn_batch", "## The report's numbers beside ours",
                    "## The report's claims, judged on runs paired by seed"]:
        assert heading in text, heading
    links = re.findall(r"!\[[^]]*\]\(([^)]+)\)", text)
    assert len(links) == 8 + 2 + 3 + 2 + 1  # a figure per run, per sweep, 1.2c/1.2d/1.3a, Q3's two, the claims
    for link in links:
        assert (built.work / "results" / link).is_file(), link
    assert "other data set (digits)" in text and "digits (embedded 8x8 stand-in" in text
    # the copied workflow has no .git: its runs say so, without an error
    assert "Code: no git commit (not run from a git checkout) (8 runs); on " in text
    stored = json.loads((built.work / run_file("digits/q1/mlp/default/seed1")).read_text())
    assert stored["git_commit"] is None and stored["git_dirty"] is None and stored["host"]


# ---------------------------------------------------------------- faults

@pytest.mark.parametrize("device, asks_for_gpu", [("auto", True), ("cuda:0", True), ("cpu", False), ("mps", False)])
def test_devices_that_may_be_cuda(device, asks_for_gpu):
    assert may_use_cuda(device) == asks_for_gpu


@pytest.mark.parametrize("device, asks_for_gpu", [("cuda:0", True), ("cpu", False)])
def test_torch_jobs_ask_for_a_gpu_only_where_they_may_use_cuda(built, device, asks_for_gpu):
    result = built.run(TINY, "--dry-run", *JOB_DETAILS, "--forcerun", "train_q2", "--config", f"device={device}")
    resources = [line for line in result.stdout.splitlines() if "resources:" in line and "runtime=240" in line]
    assert len(resources) == 4  # every torch job of the tiny config
    assert all(("gpu=1" in line) == asks_for_gpu for line in resources)


@pytest.mark.slow  # planned by the real Snakemake
def test_the_shipped_study_plans_every_experiment_of_the_homework(tmp_path):
    # config/config.yaml itself, as users run it (`snakemake --cores 8`), planned from scratch
    result = run_snakemake(tmp_path, yaml.safe_load((REPO / "config" / "config.yaml").read_text()), "--dry-run",
                           *JOB_DETAILS)
    jobs = planned_jobs(result)
    assert jobs == {
        "dataset": 1, "install_dataset": 1, "train_q1": SHIPPED_RUNS["q1"], "train_q2": SHIPPED_RUNS["q2"],
        "q3_checks": 1, "q3_figures": 1,
        "summary_tables": 1, "select_best": 4, "reproduction_tables": 1, "runtime_table": 1,
        "run_curves": 15, "sweep_overlay": 4, "question_figure": 3, "comparisons_figure": 1,
        "report_md": 1, "explorer": 1, "all": 1,
    }
    # what the docs say of the study's jobs, held to the plan: Snakemake's count of steps (README), and
    # the jobs a cluster gets (the rules not local; `all` only names targets) of all jobs but `all`
    steps = re.search(r"`\d+ of (\d+) steps", (REPO / "README.md").read_text())
    cluster = re.search(r"the default study\s+is (\d+) cluster jobs instead of (\d+)",
                        (REPO / "docs" / "cluster-gpu.md").read_text())
    local = {rule for path in (REPO / "workflow" / "rules").glob("*.smk")
             for block in re.findall(r"^localrules:\n((?:[ \t]+\w+,?\n)+)", path.read_text(), re.M)
             for rule in re.findall(r"\w+", block)}
    assert steps and int(steps[1]) == sum(jobs.values())
    assert cluster and (int(cluster[1]), int(cluster[2])) == (
        sum(count for rule, count in jobs.items() if rule not in local | {"all"}), sum(jobs.values()) - jobs["all"])
    assert "output: resources/datasets/digits.npz" in output_of(result)  # the embedded default data set
