"""Times that mean what they say: each run records its loop's wall and CPU time and how its job shared
the machine's cores; the tables say when runs shared cores (homework1.core.environment,
homework1.analysis.runtime)."""

import json

import pandas as pd

from conftest import output_of, run_file, tiny
from homework1.analysis import reproduction, runtime, tables
from homework1.core import environment

# A study of one run per question 1 model and one of question 2: enough jobs to share cores.
SHARED = tiny(q1={"perceptron": {"model": "perceptron", "epochs": 2, "report_id": "1.1a"},
                  "logreg": {"model": "logreg", "epochs": 2}},
              q2={"ffn_batch": {"model": "ffn", "epochs": 2, "batch_size": [64], "hidden_size": 8,
                                "report_id": "2.2a"}},
              checkpoint_every=1)  # a checkpoint written at epoch 1 and removed at the end


def test_more_cores_than_the_machine_has_are_said_and_no_time_is_presented_as_the_runs_own(workspace):
    """--cores four times the machine's (the Quickstart's 8 on 2 cores): one line says so at the start,
    every run records how it shared the cores, and the runtime table names its wall times as shared."""
    machine = environment.machine_cores()
    result = workspace.run(SHARED, "--cores", str(4 * machine), "results/tables/runtime.md",
                           "results/tables/reproduction.csv")
    assert f"note: --cores {4 * machine} on a machine with {machine} cores" in output_of(result)
    summary = json.loads((workspace.work / run_file("digits/q1/logreg/default/seed1")).read_text())
    assert summary["threads"] == 1 and summary["max_jobs_at_once"] == 4 * machine and summary["shared_cores"]
    assert summary["cpu_time_s"] > 0 and summary["kernel_compile_s"] >= 0
    text = (workspace.work / "results/tables/runtime.md").read_text()
    assert text.startswith("3 training jobs ran on shared cores")
    table = pd.read_csv(workspace.work / "results/tables/runtime.csv")
    trained = table[table["job"].str.startswith("runs/")]
    assert (trained["cores"] == f"shared: up to {4 * machine} jobs at once on {machine} cores").all()
    timing = pd.read_csv(workspace.work / "results/tables/reproduction.csv").query("kind == 'timing'")
    assert timing["cores"].str.startswith("shared").any()
    # the checkpoint is gone, and so are the folders it emptied
    checkpoints = workspace.work / "results/checkpoints"
    assert not [folder for folder in checkpoints.rglob("*") if folder.is_dir() and not any(folder.iterdir())]
    assert not list(checkpoints.rglob("*.pt"))


def test_core_sharing_from_threads_and_the_workflows_cores():
    alone = environment.core_sharing(threads=1, workflow_cores=2, machine=2)
    assert alone == {"threads": 1, "machine_cores": 2, "workflow_cores": 2, "max_jobs_at_once": 2,
                     "shared_cores": False}
    assert environment.core_sharing(threads=1, workflow_cores=8, machine=2)["shared_cores"] is True
    assert environment.core_sharing(threads=4, workflow_cores=8, machine=8)["max_jobs_at_once"] == 2
    assert environment.core_sharing(threads=1, workflow_cores=None, machine=2)["shared_cores"] is None
    assert environment.cores_note(2, 2) is None
    assert environment.cores_note(8, 2).startswith("note: --cores 8 on a machine with 2 cores")


def test_cores_shared_in_words_and_the_runtime_note():
    runs = pd.DataFrame({"threads": [1, 1], "machine_cores": [2, 2], "workflow_cores": [8, 2],
                         "max_jobs_at_once": [8, 2], "shared_cores": [True, False]})
    assert tables.cores_shared(runs) == "shared: up to 8 jobs at once on 2 cores"
    assert tables.cores_shared(runs.iloc[[1]]) == "own cores"
    assert tables.cores_shared(runs.iloc[[1]].assign(max_jobs_at_once=None)) == "unknown"
    table = pd.DataFrame({"cores": ["shared: up to 8 jobs at once on 2 cores", ""]})
    assert runtime.sharing_note(table).startswith("1 training jobs ran on shared cores")
    assert runtime.sharing_note(table.iloc[[1]]) == ""


def test_a_run_time_beside_the_reports_says_how_its_runs_shared_the_cores():
    by_config = pd.DataFrame([{
        "question": "q2", "experiment": "ffn_batch", "variant": "batch_size~64", "model": "ffn",
        "dataset": "intel_landscapes", "cores": "shared: up to 8 jobs at once on 2 cores",
        **{f"{metric}_{stat}": value for metric in tables.SEED_STATISTICS
           for stat, value in (("mean", 80.0), ("std", 1.0), ("count", 2))}}])
    numbers = pd.DataFrame([{"report_id": "2.2a", "question": "q2", "experiment": "ffn_batch",
                             "variant": "batch_size~64", "metric": "wall_time_s", "report_value": 165.0,
                             "kind": "timing", "note": ""}])
    table = reproduction.reproduction_table(by_config, numbers, "intel_landscapes")
    assert table.loc[0, "cores"] == "shared: up to 8 jobs at once on 2 cores"


def test_empty_folders_are_removed_deepest_first_and_the_rest_kept(tmp_path):
    from homework1.core.files import remove_empty_folders

    (tmp_path / "digits/q2/ffn/default").mkdir(parents=True)
    (tmp_path / "digits/q2/kept").mkdir(parents=True)
    (tmp_path / "digits/q2/kept/seed1.pt").touch()
    assert remove_empty_folders(tmp_path) == 2
    assert sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*")) == [
        "digits", "digits/q2", "digits/q2/kept", "digits/q2/kept/seed1.pt"]
