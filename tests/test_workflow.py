"""The real workflow, run by the real Snakemake on a tiny config in a temporary directory.

The repository is copied first, so that tests may edit its code and watch
what Snakemake reruns without touching the checkout.
"""

from __future__ import annotations

import contextlib
import copy
import json
import os
import re
import shutil
import signal
import subprocess
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.conftest import JOB_DETAILS, REPO, make_arrays, nothing_to_do, run_snakemake, snakemake_command

TINY = {
    "dataset": "digits",
    "seeds": [1],
    "torch_threads": 1,
    "device": "cpu",
    "q1": {
        "perceptron": {"model": "perceptron", "epochs": 2, "report_id": "1.1a"},
        "logreg": {"model": "logreg", "epochs": 2},
        "logreg_l1": {"model": "logreg", "epochs": 2, "l1_penalty": 0.001},
        "mlp": {"model": "mlp", "epochs": 2, "hidden_size": 16, "learning_rate": 0.01},
    },
    "q2": {
        "ffn_batch": {"model": "ffn", "epochs": 2, "batch_size": [64, 256], "hidden_size": 16,
                      "report_id": "2.2a"},
        "ffn_lr": {"model": "ffn", "epochs": 2, "batch_size": 64, "hidden_size": 16,
                   "learning_rate": [0.05, 1.0e10]},
    },
    "q3": {"seed": 0, "identity_dims": [1, 3], "identity_units": [2, 10], "construction_dims": [1, 3],
           "sweep_dim": 2, "sweep_targets": 1, "sweep_starts": 1, "gd_features": ["bmi", "bp"],
           "gd_units": [8, 1], "gd_steps": 200, "gd_starts": 1, "rank_deficient_samples": 4},
}
COPIED = ["Snakefile", "workflow", "profiles", "scripts", "src", "config", "envs"]


def copy_repository(target: Path) -> Path:
    target.mkdir(parents=True)
    for name in COPIED:
        source = REPO / name
        if source.is_dir():
            shutil.copytree(source, target / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, target / name)
    return target


def planned_jobs(result) -> dict[str, int]:
    """{rule: count} from a dry run's job table."""
    text = result.stdout + result.stderr
    table = text.split("Job stats:", 1)[1].split("total", 1)[0] if "Job stats:" in text else ""
    return {rule: int(count) for rule, count in re.findall(r"^(\w+)\s+(\d+)\s*$", table, re.M)}


class Workspace:
    def __init__(self, root: Path):
        self.repo = copy_repository(root / "repo")
        self.work = root / "work"

    def run(self, config=TINY, *args, check=True):
        return run_snakemake(self.work, config, *args, repo=self.repo, check=check)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """One full run of the tiny workflow, shared by the tests that only read it."""
    workspace = Workspace(tmp_path_factory.mktemp("workflow"))
    workspace.first_run = workspace.run()
    return workspace


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
        assert list(metrics["epoch"]) == ([1, 2] if run.status == "ok" else list(metrics["epoch"]))
        stored = json.loads((run_dir / "summary.json").read_text())
        assert stored["dataset_sha256"] == summary.loc[run.Index, "dataset_sha256"]
        assert len(stored["dataset_sha256"]) == 64
    figures = sorted(p.relative_to(work).as_posix() for p in (work / "results/figures").rglob("*.png"))
    for expected in ["results/figures/digits/q1/perceptron/default.png",
                     "results/figures/digits/q1/weight_norm.png",
                     "results/figures/digits/q1/sparsity.png",
                     "results/figures/digits/q1/mlp_loss.png",
                     "results/figures/digits/q2/ffn_batch/batch_size~64.png",
                     "results/figures/digits/q2/ffn_batch_overlay.png"]:
        assert expected in figures
        assert (work / expected).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert (work / expected).with_suffix(".pdf").read_bytes()[:5] == b"%PDF-"


def test_q1_runs_learn_and_record_weights(built):
    summary = pd.read_csv(built.work / "results/tables/summary.csv").set_index("experiment")
    q1 = summary[summary["question"] == "q1"]
    assert (q1["test_acc"] > 0.5).all(), q1["test_acc"]  # digits are easy: 10 classes, chance is 0.1
    l1 = pd.read_csv(built.work / "results/runs/digits/q1/logreg_l1/default/seed1/metrics.csv")
    plain = pd.read_csv(built.work / "results/runs/digits/q1/logreg/default/seed1/metrics.csv")
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
    selection = pd.read_csv(built.work / "results/tables/selection_q2_ffn_lr.csv")
    assert selection.loc[0, "variant"] == "learning_rate~0.05" and bool(selection.loc[0, "selected"])
    assert (built.work / "results/figures/digits/q2/ffn_lr/learning_rate~10000000000.0.png").exists()


def test_terminal_shows_one_line_per_training_job_and_the_log_files_the_rest(built):
    terminal = built.first_run.stdout + built.first_run.stderr
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
    config = copy.deepcopy(TINY)
    config["q2"]["ffn_batch"]["batch_size"].append(128)
    jobs = planned_jobs(built.run(config, "--dry-run"))
    assert jobs.get("train_q2") == 1
    assert "train_q1" not in jobs and "dataset" not in jobs
    assert jobs.get("run_curves") == 1 and jobs.get("sweep_overlay") == 1


def test_changing_a_hyper_parameter_reruns_only_its_runs(built):
    config = copy.deepcopy(TINY)
    config["q1"]["mlp"]["hidden_size"] = 9
    jobs = planned_jobs(built.run(config, "--dry-run"))
    assert jobs.get("train_q1") == 1 and "train_q2" not in jobs


def jobs_planned_after_editing(workspace: Workspace, relative_path: str) -> dict[str, int]:
    """The dry run's plan once a file of the copied repository is edited; the file,
    and its modification time, are put back afterwards."""
    path = workspace.repo / relative_path
    original, stat = path.read_text(), path.stat()
    try:
        path.write_text(original + "\n# an edit\n")
        return planned_jobs(workspace.run(TINY, "--dry-run"))
    finally:
        path.write_text(original)
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))


def test_editing_model_code_reruns_that_models_runs(built):
    jobs = jobs_planned_after_editing(built, "src/homework1/q1.py")
    assert jobs.get("train_q1") == 4 and "train_q2" not in jobs and "dataset" not in jobs


def test_editing_a_plotting_script_redraws_figures_only(built):
    jobs = jobs_planned_after_editing(built, "scripts/plot_q1_mlp_loss.py")
    assert jobs.get("q1_mlp_loss") == 1
    assert not {"train_q1", "train_q2", "summary_tables", "run_curves"} & set(jobs)


def test_config_typo_stops_before_any_job(tmp_path):
    workspace = Workspace(tmp_path)
    config = copy.deepcopy(TINY)
    config["q1"]["perceptron"]["epochz"] = 3
    result = workspace.run(config, check=False)
    assert result.returncode != 0
    assert "epochz" in result.stdout + result.stderr
    assert not (workspace.work / "resources").exists() and not (workspace.work / "results").exists()


def test_missing_real_data_set_says_what_to_set(tmp_path):
    workspace = Workspace(tmp_path)
    result = workspace.run(dict(TINY, dataset="intel_landscapes"), check=False)
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert "intel_landscapes:" in output and "path:" in output and "archive:" in output
    assert "nothing was started" in output
    assert not (workspace.work / "resources").exists() and not (workspace.work / "results").exists()


@pytest.mark.parametrize("corruption, message", [
    ("truncate", "not a readable .npz file"),
    ("labels", "'test_labels' has labels in 0..6, outside 0..2"),
    ("shape", "'val_images' has images of shape"),
])
def test_bad_user_data_stops_before_training_and_keeps_earlier_results(built, tmp_path, corruption, message):
    arrays = make_arrays()
    if corruption == "labels":
        arrays["test_labels"][0] = 6
    if corruption == "shape":
        arrays["val_images"] = arrays["val_images"][:, :2]
    user_file = tmp_path / "intel_landscapes.npz"
    np.savez(user_file, **arrays)
    if corruption == "truncate":
        user_file.write_bytes(user_file.read_bytes()[:300])
    earlier = {p: p.read_bytes() for p in (built.work / "results/tables").iterdir()}

    config = dict(TINY, dataset="intel_landscapes", intel_landscapes={"path": str(user_file)})
    result = built.run(config, check=False)

    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert str(user_file) in output and message in output
    assert "(log: logs/datasets/intel_landscapes.log)" in output  # the job's error names its log
    assert not (built.work / "resources/datasets/intel_landscapes.npz").exists()
    assert not (built.work / "results/runs/intel_landscapes").exists()
    assert {p: p.read_bytes() for p in (built.work / "results/tables").iterdir()} == earlier


def test_html_report_holds_every_figure_and_table(built):
    report = built.work / "report.html"
    built.run(TINY, "--report", str(report))
    html = report.read_text()
    for name in ["summary.csv", "by_config.csv", "reproduction.csv", "seed_comparisons.csv", "runtime.csv",
                 "selection_q2_ffn_batch.csv", "q3_checks.csv", "weight_norm.png", "sparsity.png",
                 "mlp_loss.png", "batch_size~64.png", "ffn_batch_overlay.png", "error_vs_units.png",
                 "report.md"]:
        assert name in html, name


def test_markdown_report_walks_through_every_question(built):
    text = (built.work / "results/report.md").read_text()
    for heading in ["## Question 1", "## Question 2", "## Question 3", "### 1.1a perceptron",
                    "### 2.2a ffn_batch", "## The report's numbers beside ours"]:
        assert heading in text, heading
    for link in re.findall(r"!\[[^]]*\]\(([^)]+)\)", text):
        assert (built.work / "results" / link).is_file(), link
    assert "other data set (digits)" in text
    # the copied repository has no .git: its runs say so, without an error
    assert "Code: no git commit (not run from a git checkout) (8 runs); on " in text
    stored = json.loads((built.work / "results/runs/digits/q1/mlp/default/seed1/summary.json").read_text())
    assert stored["git_commit"] is None and stored["git_dirty"] is None and stored["host"]


def test_runs_record_the_commit_of_the_workflow_and_whether_it_was_edited(tmp_path):
    workspace = Workspace(tmp_path)
    shutil.copy2(REPO / ".gitignore", workspace.repo / ".gitignore")  # what runs leave behind is ignored
    git = ["git", "-C", str(workspace.repo), "-c", "user.name=t", "-c", "user.email=t@example.org"]
    for command in (["init", "-q"], ["add", "."], ["commit", "-q", "-m", "the workflow"]):
        subprocess.run(git + command, check=True)
    commit = subprocess.run(git + ["rev-parse", "HEAD"], check=True, capture_output=True, text=True).stdout.strip()
    config = dict(TINY, q1={"perceptron": TINY["q1"]["perceptron"]}, q2={})
    summary_path = workspace.work / "results/runs/digits/q1/perceptron/default/seed1/summary.json"

    workspace.run(config)
    summary = json.loads(summary_path.read_text())
    assert (summary["git_commit"], summary["git_dirty"]) == (commit, False)
    assert f"Code: commit `{commit}` (1 run); on {summary['host']}." in (
        workspace.work / "results/report.md").read_text()

    readme = workspace.repo / "config" / "README.md"
    readme.write_text(readme.read_text() + "\nan uncommitted edit\n")
    assert nothing_to_do(workspace.run(config, "--dry-run"))  # the commit is no param: nothing reruns for it
    workspace.run(config, "--forcerun", "train_q1")
    summary = json.loads(summary_path.read_text())
    assert (summary["git_commit"], summary["git_dirty"]) == (commit, True)
    assert f"commit `{commit}` with uncommitted changes (1 run)" in (workspace.work / "results/report.md").read_text()


def test_several_seeds_give_mean_spread_and_comparisons(tmp_path):
    workspace = Workspace(tmp_path)
    config = copy.deepcopy(TINY)
    config["seeds"] = [1, 2, 3]
    config["q1"] = {name: TINY["q1"][name] for name in ("logreg",)} | {
        "logreg_l2": {"model": "logreg", "epochs": 2, "l2_penalty": 0.01}}
    config["q2"] = {}
    workspace.run(config)
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


def test_more_seeds_from_the_command_line_train_only_the_new_seeds(built):
    jobs = planned_jobs(built.run(TINY, "--dry-run", "--config", "seeds=[1,7]"))
    assert jobs.get("train_q1") == 4 and jobs.get("train_q2") == 4  # one new seed of every run
    assert "dataset" not in jobs


def test_killed_torch_job_resumes_from_its_checkpoint(tmp_path):
    workspace = Workspace(tmp_path)
    config = copy.deepcopy(TINY)
    config.update(q1={}, checkpoint_every=5, keep_checkpoints=False)
    config["q2"] = {"long": {"model": "ffn", "epochs": 300, "batch_size": 64, "hidden_size": 16}}
    run = "digits/q2/long/default/seed1"
    checkpoint = workspace.work / f"results/checkpoints/{run}.pt"

    process = subprocess.Popen(snakemake_command(workspace.work, config, repo=workspace.repo), cwd=workspace.work,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 300
    while not checkpoint.exists() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    os.killpg(process.pid, signal.SIGKILL)  # the whole job tree, as a cluster's preemption would
    process.wait()
    assert checkpoint.exists(), "the run ended before its first checkpoint"
    assert not (workspace.work / f"results/runs/{run}/summary.json").exists()

    workspace.run(config, "--unlock")
    # jobs killed midway (here maybe the Q3 checks too) have their partial outputs redone
    workspace.run(config, "--rerun-incomplete")
    summary = json.loads((workspace.work / f"results/runs/{run}/summary.json").read_text())
    assert summary["status"] == "ok" and summary["resumed_from_epoch"] >= 5
    assert "resumed from checkpoint" in (workspace.work / f"logs/runs/{run}.log").read_text()
    assert not checkpoint.exists()  # removed once the run completed

    # the resumed run's numbers are an uninterrupted run's
    from homework1 import q2
    from homework1.data import load_splits

    splits = load_splits(workspace.work / "resources/datasets/digits.npz")
    uninterrupted = q2.train("ffn", splits, epochs=300, batch_size=64, learning_rate=0.002, hidden_size=16,
                             seed=1, device="cpu",
                             threads=1, log=lambda line: None)
    resumed = pd.read_csv(workspace.work / f"results/runs/{run}/metrics.csv")
    expected = pd.DataFrame(uninterrupted.history)
    for column in ["train_loss", "train_acc_running", "val_loss", "val_acc"]:
        np.testing.assert_allclose(resumed[column], expected[column], rtol=1e-12, err_msg=column)
    assert summary["test_acc"] == uninterrupted.test_acc


@contextlib.contextmanager
def unwritable(kind: str, directory: Path):
    """``directory`` made "full" (a small tmpfs mounted on it) or "read-only" (bind-mounted
    read-only; chmod where not root, since root writes through chmod) for the duration.
    Yields the cause a job writing there should report; skips where neither can be done."""
    if kind == "read-only" and os.geteuid() != 0:
        directory.chmod(0o555)
        try:
            yield "permission denied"
        finally:
            directory.chmod(0o755)
        return
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root")
    if kind == "full":
        commands = [["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(directory)]]
    else:
        commands = [["mount", "--bind", str(directory), str(directory)],
                    ["mount", "-o", "remount,bind,ro", str(directory)]]
    mounted = False
    try:
        for command in commands:
            done = subprocess.run(command, capture_output=True, text=True)
            if done.returncode != 0:
                pytest.skip(f"this machine does not allow {' '.join(command)}: {done.stderr.strip()}")
            mounted = True
        yield "no space left on device" if kind == "full" else "read-only file system"
    finally:
        if mounted:
            subprocess.run(["umount", str(directory)], check=True)


def fill(directory: Path) -> None:
    """Write into ``directory`` until its file system is full."""
    with contextlib.suppress(OSError), open(directory / "filler", "wb") as handle:
        while True:
            handle.write(bytes(4096))
            handle.flush()


@pytest.mark.parametrize("kind", ["full", "read-only"])
def test_a_full_or_read_only_disk_is_named_and_leaves_earlier_results_intact(tmp_path, kind):
    workspace = Workspace(tmp_path)
    config = dict(TINY, q1={"perceptron": TINY["q1"]["perceptron"]}, checkpoint_every=2, keep_checkpoints=True,
                  q2={"long": {"model": "ffn", "epochs": 4, "batch_size": 64, "hidden_size": 16}})
    run = "digits/q2/long/default/seed1"
    targets = [f"results/runs/{run}/summary.json", "results/runs/digits/q1/perceptron/default/seed1/summary.json"]
    workspace.run(config, *targets)
    checkpoint = workspace.work / f"results/checkpoints/{run}.pt"
    previous_checkpoint = checkpoint.read_bytes()  # kept: the run's final state, epoch 4
    earlier = {path: path.read_bytes() for path in (workspace.work / "results").rglob("*") if path.is_file()}

    longer = copy.deepcopy(config)
    longer["q2"]["long"]["epochs"] = 8  # resumes at epoch 4, then must write a checkpoint at epoch 6
    with unwritable(kind, checkpoint.parent) as cause:
        if kind == "full":
            checkpoint.write_bytes(previous_checkpoint)
            fill(checkpoint.parent)
        result = workspace.run(longer, *targets, check=False)
        assert checkpoint.read_bytes() == previous_checkpoint
        assert sorted(path.name for path in checkpoint.parent.iterdir()) in (["seed1.pt"], ["filler", "seed1.pt"])

    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert f"cannot write results/checkpoints/{run}.pt: {cause}. To fix:" in output
    assert f"earlier results and checkpoints are unchanged (log: logs/runs/{run}.log)" in output
    assert "Traceback" not in output and "enforce fail" not in output
    # the failed run left no output to be taken as complete; every other result is as it was
    assert not (workspace.work / f"results/runs/{run}").exists() or not any(
        (workspace.work / f"results/runs/{run}").iterdir())
    after = {path: path.read_bytes() for path in (workspace.work / "results").rglob("*") if path.is_file()}
    assert after == {path: data for path, data in earlier.items() if f"results/runs/{run}/" not in str(path)}


def test_homework_data_set_built_from_the_public_archive(tmp_path):
    from tests.test_sources import write_archive, zip_folder

    archive = zip_folder(write_archive(tmp_path / "archive", nested=True), tmp_path / "intel.zip")
    workspace = Workspace(tmp_path / "run")
    config = dict(TINY, dataset="intel_landscapes", intel_landscapes={"archive": str(archive)},
                  q1={"perceptron": TINY["q1"]["perceptron"]}, q2={})
    workspace.run(config, "results/tables/reproduction.csv")

    arrays = np.load(workspace.work / "resources/datasets/intel_landscapes.npz")
    assert arrays["train_images"].shape[1:] == (48, 48, 3) and arrays["test_images"].shape[0] == 18
    assert sorted(np.unique(arrays["train_labels"])) == list(range(6))
    summary = pd.read_csv(workspace.work / "results/tables/summary.csv")
    assert list(summary["dataset"]) == ["intel_landscapes"]
    reproduction = pd.read_csv(workspace.work / "results/tables/reproduction.csv")
    perceptron = reproduction[reproduction["experiment"] == "perceptron"]
    assert perceptron["comparable"].all() and perceptron["ours_mean"].notna().all()
    assert (reproduction.loc[reproduction["experiment"] != "perceptron", "verdict"] == "not run").all()


def test_synthetic_stand_in_is_named_as_such_everywhere(tmp_path):
    workspace = Workspace(tmp_path)
    config = dict(TINY, dataset="synthetic_intel", q1={"perceptron": {"model": "perceptron", "epochs": 1}}, q2={})
    workspace.run(config)
    arrays = np.load(workspace.work / "resources/datasets/synthetic_intel.npz")
    assert arrays["train_images"].shape == (12630, 48, 48, 3) and arrays["val_images"].shape[0] == 1404
    summary = pd.read_csv(workspace.work / "results/tables/summary.csv")
    assert summary["synthetic_data"].all() and (summary["dataset"] == "synthetic_intel").all()
    assert "SYNTHETIC" in (workspace.work / "results/report.md").read_text()
    reproduction = pd.read_csv(workspace.work / "results/tables/reproduction.csv")
    perceptron = reproduction[reproduction["experiment"] == "perceptron"]
    assert (perceptron["verdict"] == "other data set (synthetic_intel)").all()


@pytest.mark.parametrize("device, asks_for_gpu", [("auto", True), ("cuda:0", True), ("cpu", False), ("mps", False)])
def test_torch_jobs_ask_for_a_gpu_only_where_they_may_use_cuda(built, device, asks_for_gpu):
    result = built.run(TINY, "--dry-run", *JOB_DETAILS, "--forcerun", "train_q2", "--config", f"device={device}")
    resources = [line for line in result.stdout.splitlines() if "resources:" in line and "runtime=240" in line]
    assert len(resources) == 4  # every torch job of the tiny config
    assert all(("gpu=1" in line) == asks_for_gpu for line in resources)
