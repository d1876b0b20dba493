"""How the package holds together: imports flow one way, every rule's code inputs are the modules
its entry script runs, and jobs load what they use only."""

from __future__ import annotations

import importlib
import json
import os
import re
import subprocess
import sys
from modulefinder import ModuleFinder
from pathlib import Path

import pytest

from conftest import JOB_DETAILS, REPO, SOURCE, TINY, output_of, run_snakemake, tiny, write_run
from homework1.plan import imports, specs
from homework1.analysis import snapshots

SCRIPTS = REPO / "scripts"


# ---------------------------------------------------------------- no circles

def test_the_package_imports_in_one_direction():
    assert imports.cycles(imports.import_graph()) == []


# Which layer (a folder of the package) may import which: lower layers never import higher ones.
MODELS = {"sources", "q1", "q2", "q3"}
MAY_IMPORT = {
    "plan": set(),  # what a study is: standard library only
    "core": set(),  # files, data, runs and their checks
    "sources": {"core"},
    **{question: {"core", "plan"} for question in ("q1", "q2", "q3")},
    "config": {"core", "plan"} | MODELS,
    "job": {"core", "plan"},
    "analysis": {"core", "plan"},
    "present": {"core", "plan", "analysis", "q3"},
    "benchmark": {"core", "plan", "config", "analysis"} | MODELS,
}


def test_every_layer_imports_only_the_layers_below_it():
    graph = imports.import_graph()
    assert {imports.layer_of(module) for module in graph} - {""} == set(MAY_IMPORT)
    assert imports.layer_breaches(graph, MAY_IMPORT) == []


def test_a_lower_layer_importing_a_higher_one_is_found(tmp_path):
    package = tmp_path / "homework1"
    for layer in ("core", "analysis"):
        (package / layer).mkdir(parents=True)
        (package / layer / "__init__.py").write_text("")
    (package / "__init__.py").write_text("")
    (package / "analysis" / "tables.py").write_text("from homework1.core import files\n")
    (package / "core" / "files.py").write_text("X = 1\n")
    allowed = {"core": set(), "analysis": {"core"}}
    assert imports.layer_breaches(imports.import_graph(tmp_path), allowed) == []
    (package / "core" / "files.py").write_text("def f():\n    from homework1.analysis.tables import g\n")
    assert imports.layer_breaches(imports.import_graph(tmp_path), allowed) == [
        ("homework1.core.files", "homework1.analysis.tables")]


def test_a_circle_is_found(tmp_path):
    # the same walk over a package whose modules import each other, through a package's __init__ too
    package = tmp_path / "homework1"
    (package / "sub").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("def f():\n    from homework1 import b  # a lazy import counts too\n")
    (package / "b.py").write_text("from homework1.sub import c\n")
    (package / "sub" / "__init__.py").write_text("from homework1.sub.c import X\n")
    (package / "sub" / "c.py").write_text("from . import d\nX = 1\n")
    (package / "sub" / "d.py").write_text("import homework1.a\nfrom homework1.sub import X\n")
    graph = imports.import_graph(tmp_path)
    assert graph["homework1.sub.c"] == {"homework1.sub.d"}  # a relative import
    assert graph["homework1.sub.d"] == {"homework1.a", "homework1.sub"}  # X is no module: the package itself
    assert imports.cycles(graph) == [["homework1.a", "homework1.b", "homework1.sub", "homework1.sub.c",
                                      "homework1.sub.d"]]


# ---------------------------------------------------------------- code inputs

def rule_scripts() -> dict[str, str]:
    """{rule: its entry script}, read from the rule files."""
    scripts = {}
    for path in (REPO / "workflow" / "rules").glob("*.smk"):
        for rule, body in re.findall(r"^rule (\w+):\n(.*?)(?=^rule |\Z)", path.read_text(), re.M | re.S):
            found = re.search(r'script:\s*\n\s*"\.\./\.\./scripts/([\w.]+)"', body)
            if found:
                scripts[rule] = found.group(1)
    return scripts


def modules_run_by(script: Path, *also: str) -> set[str]:
    """The package's files that ``script`` imports, directly or not, found by the standard
    library's own import finder (not by the workflow's walk), less those that only format logs."""
    finder = ModuleFinder(path=[str(SOURCE)])
    finder.run_script(str(script))
    for module in also:
        finder.import_hook(module)
    names = [name for name in finder.modules if name.split(".")[0] == "homework1"]
    return {str(Path(finder.modules[name].__file__).resolve()) for name in names
            if not getattr(importlib.import_module(name), "ONLY_FORMATS_LOGS", False)}


@pytest.fixture(scope="module")
def planned_inputs(tmp_path_factory) -> dict[str, set[str]]:
    """{rule: the package files among its inputs}, as the real Snakemake plans every job of TINY, with
    a snapshot taken and a baseline to compare with (a snapshot of one run)."""
    work = tmp_path_factory.mktemp("plan")
    run = "digits/q1/perceptron/default/seed1"
    baseline = work / "baseline"
    write_run(baseline / "runs" / run, [{"epoch": 1}])
    (baseline / snapshots.MANIFEST).write_text(json.dumps(
        {"snapshot_version": snapshots.SNAPSHOT_VERSION, "dataset": "digits", "runs": [run]}))
    result = run_snakemake(work, tiny(baseline=str(baseline)), "--dry-run", "--forceall", "all", "snapshot",
                           *JOB_DETAILS)
    inputs = {}
    for block in re.split(r"\n(?=(?:local)?rule \w+:)", output_of(result)):
        header = re.match(r"(?:local)?rule (\w+):", block)
        listed = re.search(r"^\s*input: (.*)$", block, re.M)
        if header and listed:
            files = {path for path in listed.group(1).split(", ") if path.startswith(str(SOURCE))}
            if files:
                inputs.setdefault(header.group(1), set()).update(files)
    return inputs


@pytest.mark.slow  # planned by the real Snakemake
def test_every_rule_with_a_script_has_code_inputs(planned_inputs):
    assert set(rule_scripts()) == set(planned_inputs)  # every rule with a script lists its code


@pytest.mark.slow  # planned by the real Snakemake
@pytest.mark.parametrize("rule", sorted(rule_scripts()))
def test_code_inputs_are_the_modules_the_entry_script_runs(planned_inputs, rule):
    script = SCRIPTS / rule_scripts()[rule]
    # the data set job imports its source by the data set's name: TINY's is digits; a training job
    # loads its model's module by the model's name: TINY's models of the question
    also = ["homework1.sources.digits"] if rule == "dataset" else []
    if rule.startswith("train_"):
        question = rule.removeprefix("train_")
        also = sorted({specs.module_name(question, settings["model"]) for settings in TINY[question].values()})
    assert planned_inputs[rule] == modules_run_by(script, *also)


@pytest.mark.slow  # planned by the real Snakemake
def test_training_jobs_run_only_their_questions_code(planned_inputs):
    def names(rule):
        return {Path(path).relative_to(SOURCE / "homework1").as_posix() for path in planned_inputs[rule]}
    assert {"q1/kernels.py", "q1/train.py", "job/jobs.py", "core/data.py"} <= names("train_q1")
    assert not any(name.startswith(("q2/", "q3/")) for name in names("train_q1"))
    assert {"q2/graph.py", "q2/fused.py", "q2/reference.py", "q2/train.py"} <= names("train_q2")
    assert not any(name.startswith(("q1/", "q3/")) for name in names("train_q2"))
    assert "job/joblog.py" not in names("train_q1") | names("train_q2")  # it formats log lines only


def test_a_log_only_module_is_left_out_but_what_it_imports_is_followed(tmp_path):
    package = tmp_path / "homework1"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "log.py").write_text("from homework1 import data\nONLY_FORMATS_LOGS = True\n")
    (package / "data.py").write_text("X = 1\n")
    script = tmp_path / "job.py"
    script.write_text("from homework1.log import *\n")
    assert imports.closure(script, source=tmp_path) == [package / "__init__.py", package / "data.py"]


def test_a_module_a_training_script_starts_to_import_becomes_its_input(own_workspace):
    # Nobody touches a rule: the new module is found in the imports, through another module.
    helper = own_workspace.repo / "src/homework1/q1/helper.py"
    helper.write_text('"""A module the Question 1 jobs start to use."""\n\nSCALE = 1\n')
    models = own_workspace.repo / "src/homework1/q1/models/base.py"
    models.write_text(models.read_text() + "\nfrom homework1.q1.helper import SCALE  # noqa: E402,F401\n")
    details = own_workspace.run(tiny(q2={}), "--dry-run", *JOB_DETAILS)
    jobs = re.findall(r"^rule (\w+):\n\s*input: (.*)$", output_of(details), re.M)
    assert [rule for rule, _ in jobs].count("train_q1") == len(TINY["q1"])
    for rule, inputs in jobs:
        assert (str(helper) in inputs.split(", ")) == (rule == "train_q1"), rule


# ---------------------------------------------------------------- what jobs load

def fake_job(script: str, params: dict, question: str, tmp_path: Path, data: Path) -> str:
    """Python that runs a training entry script as Snakemake does, with a stand-in for Snakemake's
    object, then prints the modules it loaded."""
    return f"""
import sys
from types import SimpleNamespace as N
class Files(list):
    def __init__(self, **named):
        super().__init__(named.values())
        self.__dict__.update(named)
run = {str(tmp_path / "run")!r}
snakemake = N(input=Files(data={str(data)!r}),
              output=Files(metrics=run + "/metrics.csv", summary=run + "/summary.json"),
              params=N(**{params!r}), wildcards=N(dataset="digits", experiment="x", variant="default", seed="1"),
              log=[run + ".log"], threads=1, config={{"checkpoint_every": 20, "keep_checkpoints": False}},
              resources={{"attempt": 1, "runtime": 120, "mem_mb": 4000}},
              scriptdir={str(SCRIPTS)!r})
exec(compile(open({str(SCRIPTS / script)!r}).read(), {script!r}, "exec"))
print(" ".join(sorted(sys.modules)))
"""


def loaded_by(code: str) -> set[str]:
    # nothing of this environment but the package's path (and the tests' numba cache folder)
    environment = {"PYTHONPATH": str(SOURCE), "NUMBA_CACHE_DIR": os.environ["NUMBA_CACHE_DIR"]}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=environment)
    assert done.returncode == 0, done.stderr
    return set(done.stdout.split())


def test_a_q1_job_loads_no_torch(tmp_path, digits_npz):
    params = {"hparams": {"model": "perceptron", "epochs": 1}, "seed": 1, "implementation": "fast",
              "dataset": {"name": "digits", "synthetic": False}}
    loaded = loaded_by(fake_job("train_q1.py", params, "q1", tmp_path, digits_npz))
    assert (tmp_path / "run" / "summary.json").exists()  # it trained
    assert "numba" in loaded and "homework1.q1.kernels" in loaded
    assert not {name for name in loaded if name.split(".")[0] in ("torch", "pandas", "matplotlib")}


def test_a_q2_job_on_the_fast_cpu_step_loads_no_torch_compiler(tmp_path, digits_npz):
    # making a torch optimizer loads torch._dynamo, a second of every job: the fused step does without
    params = {"hparams": {"model": "ffn", "epochs": 1, "batch_size": 64, "learning_rate": 0.002, "weight_decay": 0.0,
                          "momentum": 0.0, "dropout": 0.3, "hidden_size": 8, "layers": 2},
              "seed": 1, "implementation": "fast", "device": "cpu", "full_train_accuracy": False,
              "dataset": {"name": "digits", "synthetic": False}, "checkpoint": str(tmp_path / "ck.pt")}
    loaded = loaded_by(fake_job("train_q2.py", params, "q2", tmp_path, digits_npz))
    assert (tmp_path / "run" / "summary.json").exists()
    assert "torch" in loaded and "torch._dynamo" not in loaded and "pandas" not in loaded


def test_reading_the_workflow_loads_no_pandas_numpy_or_job_modules():
    # what common.smk imports and calls while Snakemake reads the workflow
    code = f"""
import sys
import jsonschema, snakemake.utils, yte  # Snakemake's own, which it has loaded when it reads the workflow
before = set(sys.modules)
from homework1.config import configuration, schema
from homework1.config.inputs import Inputs
from homework1.plan import imports
config = configuration.load()
Inputs(config, []).figure_stems()
imports.closure({str(SCRIPTS / "train_q2.py")!r})
schema.dataset_descriptions()
print(" ".join(sorted(set(sys.modules) - before)))
"""
    loaded = loaded_by(code)
    heavy = {name for name in loaded if name.split(".")[0] in ("pandas", "numpy", "torch", "matplotlib", "numba")}
    assert heavy == set()
    ours = {name for name in loaded if name.startswith("homework1")}
    assert ours == {"homework1", "homework1.config", "homework1.config.configuration", "homework1.config.schema",
                    "homework1.config.problems", "homework1.config.inputs", "homework1.core", "homework1.core.files",
                    "homework1.core.run_checks", "homework1.core.runs", "homework1.plan", "homework1.plan.claims",
                    "homework1.plan.imports", "homework1.plan.study", "homework1.plan.specs",
                    "homework1.plan.targets", "homework1.sources", "homework1.q3"}
