"""Studies besides the default: several seeds through the real workflow, a run on the synthetic
stand-in (a training job on a few examples); what a run records of the code that made it."""

from __future__ import annotations

import json
import shutil
import subprocess
from types import SimpleNamespace

import pandas as pd

from conftest import REPO, TINY, image_arrays, nothing_to_do, run_file, tiny
from homework1 import q1
from homework1.analysis import reproduction, tables
from homework1.config.inputs import dataset_info
from homework1.core.data import write_npz
from homework1.job.jobs import run_training_job
from homework1.plan.study import RUNS_DIR, SYNTHETIC_DATASET


def test_runs_record_the_commit_of_the_workflow_and_whether_it_was_edited(own_workspace):
    workspace = own_workspace
    shutil.copy2(REPO / ".gitignore", workspace.repo / ".gitignore")  # what runs leave behind is ignored
    git = ["git", "-C", str(workspace.repo), "-c", "user.name=t", "-c", "user.email=t@example.org"]
    for command in (["init", "-q"], ["add", "."], ["commit", "-q", "-m", "the workflow"]):
        subprocess.run(git + command, check=True)
    commit = subprocess.run(git + ["rev-parse", "HEAD"], check=True, capture_output=True, text=True).stdout.strip()
    config = tiny(q1={"perceptron": TINY["q1"]["perceptron"]}, q2={})
    target = run_file("digits/q1/perceptron/default/seed1")

    workspace.run(config, target)
    summary = json.loads((workspace.work / target).read_text())
    assert (summary["git_commit"], summary["git_dirty"]) == (commit, False)

    readme = workspace.repo / "config" / "README.md"
    readme.write_text(readme.read_text() + "\nan uncommitted edit\n")
    assert nothing_to_do(workspace.run(config, target, "--dry-run"))  # the commit is no param: nothing reruns
    workspace.run(config, target, "--forcerun", "train_q1")
    summary = json.loads((workspace.work / target).read_text())
    assert (summary["git_commit"], summary["git_dirty"]) == (commit, True)


def test_several_seeds_give_mean_spread_and_comparisons(workspace):
    logreg_l2 = {"model": "logreg", "epochs": 2, "l2_penalty": 0.01}
    config = tiny(seeds=[1, 2, 3], q2={}, q1={"logreg": TINY["q1"]["logreg"], "logreg_l2": logreg_l2})
    workspace.run(config, "results/tables/by_config.csv", "results/tables/seed_comparisons.csv")
    by_config = pd.read_csv(workspace.work / "results/tables/by_config.csv").set_index("experiment")
    assert (by_config["test_acc_count"] == 3).all() and (by_config["seeds"] == "1 2 3").all()
    assert (by_config["test_acc_std"] > 0).all()  # seeds reorder the per-example SGD
    summary = pd.read_csv(workspace.work / "results/tables/summary.csv")
    assert sorted(summary["seed"]) == [1, 1, 2, 2, 3, 3]
    comparisons = pd.read_csv(workspace.work / "results/tables/seed_comparisons.csv").set_index("report_id")
    l2 = comparisons.loc["1.2b"]
    assert l2["better_n"] == 3 and l2["worse_n"] == 3
    assert "single seed" not in l2["verdict"] and l2["verdict"] != "not run"
    assert (comparisons.drop(index="1.2b")["verdict"] == "not run").all()
    assert not (workspace.work / "results/theory").exists()  # only what was asked for ran


def test_synthetic_stand_in_is_named_as_such_everywhere(tmp_path):
    # a training job given the stand-in (as the workflow gives it, params.dataset), on a data set of a few
    # examples: its run, the summary table and the reproduction verdicts name it (its Intel shapes:
    # tests/test_sources.py)
    data = tmp_path / "resources/datasets/synthetic_intel.npz"
    data.parent.mkdir(parents=True)
    write_npz(data, image_arrays(sizes=(12, 6, 6), shape=(4, 4, 3), n_classes=6))
    run = tmp_path / RUNS_DIR / "synthetic_intel/q1/perceptron/default/seed1"
    job = SimpleNamespace(
        input=SimpleNamespace(data=str(data)),
        output=SimpleNamespace(metrics=str(run / "metrics.csv"), summary=str(run / "summary.json")),
        params=SimpleNamespace(seed=1, hparams={"model": "perceptron", "epochs": 1},
                               dataset=dataset_info(SimpleNamespace(dataset=SYNTHETIC_DATASET))),
        wildcards=SimpleNamespace(dataset=SYNTHETIC_DATASET, experiment="perceptron", variant="default", seed="1"),
        log=[str(tmp_path / "logs/run.log")], resources={}, threads=1, scriptdir=str(REPO / "scripts"))
    run_training_job(job, "q1", q1.train, implementation="reference")
    summary = tables.read_summaries([run / "summary.json"])
    assert summary["synthetic_data"].all() and (summary["dataset"] == "synthetic_intel").all()
    report = reproduction.read_report_numbers(REPO / "config" / "report_numbers.csv")
    table = reproduction.reproduction_table(tables.by_config(summary), report, SYNTHETIC_DATASET)
    perceptron = table[table["experiment"] == "perceptron"]
    assert len(perceptron) and (perceptron["verdict"] == "other data set (synthetic_intel)").all()
