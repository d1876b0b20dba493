"""Studies the real workflow runs besides the default: several seeds, the homework's data set
built from its archive, the synthetic stand-in; what a run records of the code that made it."""

from __future__ import annotations

import json
import shutil
import subprocess

import numpy as np
import pandas as pd

from conftest import REPO, TINY, nothing_to_do, run_file, tiny


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


def test_synthetic_stand_in_is_named_as_such_everywhere(workspace):
    config = tiny(dataset="synthetic_intel", q1={"perceptron": {"model": "perceptron", "epochs": 1}}, q2={})
    workspace.run(config, "results/tables/reproduction.csv")
    arrays = np.load(workspace.work / "resources/datasets/synthetic_intel.npz")
    assert arrays["train_images"].shape == (12630, 48, 48, 3) and arrays["val_images"].shape[0] == 1404
    summary = pd.read_csv(workspace.work / "results/tables/summary.csv")
    assert summary["synthetic_data"].all() and (summary["dataset"] == "synthetic_intel").all()
    reproduction = pd.read_csv(workspace.work / "results/tables/reproduction.csv")
    perceptron = reproduction[reproduction["experiment"] == "perceptron"]
    assert (perceptron["verdict"] == "other data set (synthetic_intel)").all()
