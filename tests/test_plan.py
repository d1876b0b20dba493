"""What a study builds, planned by plain functions without Snakemake: its runs, its looks under
``settle``, its figures; the glue the workflow's hooks and input functions call."""

from __future__ import annotations

import copy
import csv
import os
import re
import shlex
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from conftest import SOURCE, TINY
from homework1 import sources
from homework1.config import configuration
from homework1.config.inputs import Inputs
from homework1.core import environment, stopping
from homework1.job import launch, leftovers
from homework1.plan import claims, specs
from homework1.plan.targets import Study

def tiny_config(**overrides) -> dict:
    """The tiny study's configuration alone (not merged over config/config.yaml), validated."""
    return configuration.prepare(copy.deepcopy(TINY) | overrides)


def claim(question, better, worse, metric="test_acc") -> dict:
    return {"report_id": "x", "question": question, "metric": metric, "better": better, "worse": worse, "claim": ""}


# Two claims the tiny study can test, one it cannot (it has no logreg_l2).
BATCH = claim("q2", "ffn_batch/batch_size~64", "ffn_batch/batch_size~256")
L1 = claim("q1", "logreg_l1/default", "logreg/default")
L2 = claim("q1", "logreg_l2/default", "logreg/default")


def decisions_file(path: Path, verdicts: dict) -> str:
    """A look's decisions table, as settle_look writes it: one verdict per claim."""
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=[*claims.CLAIM_COLUMNS, "verdict"])
        writer.writeheader()
        for row, verdict in verdicts:
            writer.writerow(row | {"verdict": verdict})
    return str(path)


def test_configured_runs_are_every_variant_at_every_seed():
    study = Study(tiny_config(seeds=[1, 2]), [])
    runs = study.configured_runs()
    # q1: 4 experiments; q2: ffn_batch and ffn_lr, 2 variants each; 2 seeds
    assert len(runs) == len(set(runs)) == (4 + 4) * 2
    assert "digits/q2/ffn_batch/batch_size~64/seed2" in runs
    assert study.configured_runs(("q1",)) == [run for run in runs if "/q1/" in run]
    assert study.study_runs() == runs  # settle off: nothing more
    assert study.runs_at_last_look() == 0


def test_looks_train_the_seeds_of_the_claims_a_look_leaves_open(tmp_path):
    config = tiny_config(seeds=[1], settle={"looks": [2, 3]})
    look1 = decisions_file(tmp_path / "look1.csv", [(BATCH, claims.DECIDED[0]), (L1, claims.OPEN)])
    study = Study(config, [BATCH, L1, L2], decisions={1: look1}.__getitem__)
    assert study.testable == [True, True, False]
    first = study.look_runs(1)  # every testable claim's 4 configurations, at seeds 1 and 2
    assert len(first) == 4 * 2 and "digits/q2/ffn_batch/batch_size~256/seed2" in first
    second = study.look_runs(2)  # the claim left open only: its 2 configurations at seeds 1, 2, 3
    assert sorted(second) == sorted(f"digits/q1/{experiment}/default/seed{seed}"
                                    for experiment in ("logreg_l1", "logreg") for seed in (1, 2, 3))
    assert len(study.runs_so_far(2)) == 8 + 2
    # every configured run at seed 1, the 4 claimed configurations at seed 2, the open claim's 2 at seed 3
    assert len(study.study_runs()) == 8 + 4 + 2
    assert study.runs_at_last_look() == 4 * 3


def test_without_decisions_every_look_trains_every_testable_claim():
    study = Study(tiny_config(seeds=[1], settle={"looks": [2, 3]}), [BATCH, L1, L2])
    assert len(study.runs_so_far(2)) == 4 * 3 == study.runs_at_last_look()
    assert len(study.study_runs()) == 8 + 4 * 2


def test_figures_are_the_runs_sweeps_and_the_figures_their_models_are_drawn_in():
    study = Study(tiny_config(), [])
    stems = study.figure_stems()
    assert {"q1/perceptron/default", "q2/ffn_lr/learning_rate~0.05", "q2/ffn_batch_overlay", "q2/ffn_lr_overlay",
            "q1/mlp_loss", "seed_comparisons"} <= set(stems)
    assert study.swept_experiments() == [("q2", "ffn_batch"), ("q2", "ffn_lr")]
    assert study.figure_targets(["png"])[0] == f"results/figures/digits/{stems[0]}.png"
    # no MLP configured: its figure is not drawn
    without_mlp = tiny_config()
    del without_mlp["q1"]["mlp"]
    assert "q1/mlp_loss" not in Study(without_mlp, []).figure_stems()
    figure = SimpleNamespace(dataset="digits", question="q1", figure="mlp_loss")
    assert study.figure_runs(figure) == ["digits/q1/mlp/default/seed1"]


def test_a_run_not_configured_is_named():
    study = Study(tiny_config(), [])
    assert study.hparams("q1", "mlp", "default")["hidden_size"] == 16
    with pytest.raises(ValueError, match="no configured run q1/mlp/other; see the q1: section"):
        study.hparams("q1", "mlp", "other")


def test_inputs_name_each_runs_files_and_the_settings_its_summary_must_record(tmp_path):
    inputs = Inputs(tiny_config(), [])
    assert inputs.run_metrics("digits", "q2", "ffn_batch") == [
        "results/runs/digits/q2/ffn_batch/batch_size~64/seed1/metrics.csv",
        "results/runs/digits/q2/ffn_batch/batch_size~256/seed1/metrics.csv"]
    wildcards = SimpleNamespace(dataset="digits", experiment="mlp", variant="default", seed="1")
    settings = inputs.configured_settings("q1", wildcards, str(tmp_path / "missing.npz"))
    assert settings == {"model": "mlp", "hparams": {"epochs": 2, "learning_rate": 0.01, "hidden_size": 16},
                        "seed": 1, "dataset": "digits", "implementation": "fast", "dataset_sha256": None}


# ---------------------------------------------------------------- the data set's source, in one order

@pytest.mark.parametrize("options, used, local", [
    ({"path": "p", "url": "u", "sha256": "s", "archive": "a"}, "path", ["p"]),
    ({"url": "u", "sha256": "s", "archive": "a"}, "url", []),
    ({"archive": "a"}, "archive", ["a"]),
    ({"path": "", "archive": "a"}, "archive", ["a"]),
    ({}, None, []),
])
def test_the_homeworks_data_set_is_built_from_the_first_source_set(options, used, local):
    assert sources.intel_source(options) == used
    assert sources.intel_local_inputs(options) == local


# ---------------------------------------------------------------- a spec holds what its trainer reads

def test_a_question_2_spec_without_what_its_trainer_reads_is_refused_as_the_config_is_read(tmp_path):
    module = tmp_path / "q2" / "models" / "cnn.py"
    module.parent.mkdir(parents=True)
    module.write_text('SPEC = ModelSpec(question="q2", name="cnn", hparams=["epochs", "batch_size", '
                      '"learning_rate", "channels"], architecture=["channels"])\n')
    with pytest.raises(specs.SpecError, match=r"cnn.py: .*hparams must include momentum, weight_decay: the q2 "
                                              r"trainer reads epochs, batch_size, learning_rate, momentum"):
        specs.read_spec(module)


@pytest.mark.parametrize("question", specs.QUESTIONS)
def test_the_trainers_read_only_what_every_spec_must_list(question):
    source = (SOURCE / "homework1" / question / "train.py").read_text(encoding="utf-8")
    assert set(re.findall(r'hparams\["(\w+)"\]', source)) == set(specs.TRAINER_HPARAMS[question])


# ---------------------------------------------------------------- the workflow's hooks

def test_runs_left_incomplete_are_summed_up_in_one_line():
    assert leftovers.incomplete_summary({leftovers.KEPT: [], leftovers.RETRAINED: []}) == ""
    left = {leftovers.KEPT: ["a"], leftovers.RETRAINED: ["b", "c", "d", "e"]}
    assert leftovers.incomplete_summary(left) == (
        "of the runs it left incomplete, 1 whole and kept (a) and 4 to train again (b, c, d, ...)")


def test_an_unmeasured_benchmark_is_na_in_every_column_snakemake_writes(tmp_path):
    from snakemake.benchmark import BenchmarkRecord

    path = tmp_path / "benchmarks" / "run.tsv"
    path.parent.mkdir()
    leftovers.write_unmeasured_benchmark(path)
    header, values = [line.split("\t") for line in path.read_text(encoding="utf-8").splitlines()]
    assert header == list(BenchmarkRecord.get_header()) and set(values) == {"NA"}


def test_the_slurm_executor_is_the_one_that_names_its_jobs_by_the_runs_id():
    slurm_like, other = SimpleNamespace(run_uuid="x"), SimpleNamespace()
    jobs = [object()]
    for executor, expected in ((slurm_like, slurm_like), (other, None)):
        workflow = SimpleNamespace(scheduler=SimpleNamespace(get_executor=lambda job, e=executor: e))
        assert launch.slurm_executor(workflow, jobs) is expected
        assert launch.slurm_executor(workflow, []) is None


def test_the_workflow_process_is_set_up_for_its_jobs(tmp_path, monkeypatch):
    interpreter = tmp_path / "a folder with spaces" / "python"
    interpreter.parent.mkdir()
    interpreter.touch()
    monkeypatch.setattr(os, "environ", dict(os.environ, PYTHONPATH="/elsewhere"))
    monkeypatch.setattr(sys, "executable", str(interpreter))
    environment.set_up_workflow_process(SOURCE)
    assert os.environ["PYTHONPATH"] == os.pathsep.join([str(SOURCE), "/elsewhere"])
    assert os.environ[stopping.WORKFLOW_PROCESS] == stopping.process_identity(os.getpid())
    assert sys.executable == shlex.quote(str(interpreter)) != str(interpreter)
