"""A user's own model and data set, added as docs/extending.md's "Add your own model" and "Add your
own data set" show: the edits are read from those sections, made in a copy of the workflow, and the
study runs through the real Snakemake on the CPU with the default implementation."""

from __future__ import annotations

import copy
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

from conftest import REPO, TINY, planned_jobs, tiny, workflow_environment
from homework1.config import configuration
from homework1.config.problems import spec_problems
from homework1.config.schema import config_schema
from homework1.plan import specs

SCHEMA = Path("workflow/schemas/config.schema.yaml")


def docs_section(title: str) -> str:
    text = (REPO / "docs" / "extending.md").read_text()
    start = text.index(f"\n## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start:] if end < 0 else text[start:end]


def code_blocks(section: str, language: str) -> list[str]:
    return re.findall(rf"^```{language}\n(.*?)^```$", section, re.M | re.S)


def numbered_edits(section: str) -> list[str]:
    """The edits the section lists: its numbered items."""
    return re.findall(r"^\d+\. \*\*(.+?)\*\*", section, re.M)


def merged(base, fragment):
    """``fragment`` laid over ``base``: mappings merged key by key, anything else replaced."""
    if not (isinstance(base, dict) and isinstance(fragment, dict)):
        return copy.deepcopy(fragment)
    return base | {key: merged(base.get(key), value) for key, value in fragment.items()}


def make_edits(repo: Path, section: str) -> int:
    """The section's edits, made in the workflow at ``repo``: the module (its path is named in the
    first item, its code is the Python block) and the schema block (the first YAML block, laid over
    the schema). How many edits that was."""
    module = re.search(r"^1\. \*\*The module\*\*, `([^`]+)`", section, re.M)
    (repo / module[1]).write_text(code_blocks(section, "python")[0])
    schema = yaml.safe_load((repo / SCHEMA).read_text())
    (repo / SCHEMA).write_text(yaml.safe_dump(merged(schema, yaml.safe_load(code_blocks(section, "yaml")[0])),
                                              sort_keys=False))
    return 2


def test_a_users_convolutional_model_trains_through_the_workflow(own_workspace):
    section = docs_section("Add your own model")
    assert make_edits(own_workspace.repo, section) == len(numbered_edits(section)) == 2
    experiment = yaml.safe_load(code_blocks(section, "yaml")[1])["q2"]
    own_workspace.run(tiny(q1={}, q2=experiment))  # device cpu, implementation fast (the default)

    work = own_workspace.work
    summary = pd.read_csv(work / "results/tables/summary.csv")
    cnn = summary[summary["model"] == "cnn"]
    assert sorted(cnn["variant"]) == ["channels~4", "channels~8"]
    # no fast step knows it: the reference step trained it, and says so
    assert (cnn["implementation"] == "fast").all() and (cnn["training_step"] == "autograd").all()
    assert (cnn["status"] == "ok").all() and cnn["test_acc"].min() > 0.8  # it learns the digits
    log = (work / "logs/runs/digits/q2/cnn_channels/channels~4/seed1.log").read_text()
    assert ("cnn: the fused step cannot train it (its spec lists no fused step); training with the autograd step"
            in log)
    # in the figures, the selection of its sweep and the report
    figures = work / "results/figures/digits/q2"
    for name in ("cnn_channels/channels~4.png", "cnn_channels/channels~8.pdf", "cnn_channels_overlay.png"):
        assert (figures / name).stat().st_size > 0, name
    assert pd.read_csv(work / "results/tables/selection_q2_cnn_channels.csv")["variant"].tolist()
    report = (work / "results/report.md").read_text()
    assert "### cnn_channels" in report and "(figures/digits/q2/cnn_channels_overlay.png)" in report


def test_a_users_data_set_is_built_and_trained_on(own_workspace):
    section = docs_section("Add your own data set")
    assert make_edits(own_workspace.repo, section) == len(numbered_edits(section)) == 2
    command = re.search(r"`snakemake --cores 8 --config (dataset=\w+)`", section)[1]
    config = tiny(q1={"perceptron": TINY["q1"]["perceptron"]},
                  q2={"logreg": {"model": "logreg", "epochs": 3, "batch_size": 32, "learning_rate": 0.1}})
    own_workspace.run(config, "results/tables/summary.csv", "--config", command)  # the runs, not every figure

    summary = pd.read_csv(own_workspace.work / "results/tables/summary.csv")
    assert set(summary["dataset"]) == {"stripes"} and len(summary) == 2
    assert (summary["test_acc"] > 0.9).all()  # stripes are easy
    # its options are params: a new noise level rebuilds the data and retrains
    planned = own_workspace.run(config, "--dry-run", "--config", command, "stripes={noise: 10}")
    assert planned_jobs(planned)["dataset"] == 1 and planned_jobs(planned)["train_q2"] == 1
    # tables and figures name it by its description
    described = subprocess.run([sys.executable, "-c", "from homework1.config import schema; "
                                "print(schema.dataset_descriptions()['stripes'])"],
                               env=workflow_environment(PYTHONPATH=str(own_workspace.repo / "src")),
                               capture_output=True, text=True, check=True)
    assert described.stdout.strip() == "stripes: 8x8 vertical or horizontal stripes"


# ---------------------------------------------------------------- the schema held to the specs

def test_the_schema_and_the_specs_agree():
    assert spec_problems() == []


def test_a_model_added_in_one_place_only_is_named():
    schema = config_schema()
    forgotten_module = merged(schema, {"$defs": {"q2_experiment": {"properties": {
        "model": {"enum": ["logreg", "ffn", "cnn"]}}}}})
    assert spec_problems(forgotten_module) == [
        "q2 model cnn: in the model enum of the schema's $defs.q2_experiment, but src/homework1/q2/models/ has "
        "no cnn.py with a SPEC"]

    cnn = specs.ModelSpec(question="q2", name="cnn", hparams=["epochs", "batch_size", "learning_rate",
                                                                "weight_decay", "momentum", "channels"])
    problems = spec_problems(schema, specs.model_specs() | {("q2", "cnn"): cnn})
    assert problems == [
        "q2 model cnn: src/homework1/q2/models/cnn.py declares it, but the model enum of the schema's "
        "$defs.q2_experiment lacks it",
        "q2 model cnn uses channels, which the schema's $defs.q2_experiment does not define: add it with its default"]


def test_a_module_without_its_schema_block_stops_the_workflow_naming_it(tmp_path, monkeypatch):
    # the package's models with the README's module added, and the configuration the workflow prepares
    section = docs_section("Add your own model")
    package = tmp_path / "homework1"
    for question in specs.QUESTIONS:
        shutil.copytree(specs.models_package(question), package / question / "models",
                        ignore=shutil.ignore_patterns("__pycache__"))
    (package / "q2/models/cnn.py").write_text(code_blocks(section, "python")[0])
    monkeypatch.setattr(specs, "PACKAGE", package)
    specs.model_specs.cache_clear()
    try:
        with pytest.raises(configuration.ConfigError) as caught:
            configuration.load(overrides=TINY)
    finally:
        specs.model_specs.cache_clear()  # the next reader reads the package itself again
    assert "src/homework1/q2/models/cnn.py declares it, but the model enum" in str(caught.value)


def test_a_spec_the_workflow_cannot_read_is_named(tmp_path):
    module = tmp_path / "q2" / "models" / "odd.py"
    module.parent.mkdir(parents=True)
    module.write_text("from homework1.plan.specs import ModelSpec\nHP = ['epochs']\n"
                      "SPEC = ModelSpec(question='q2', name='odd', hparams=HP)\n")
    with pytest.raises(specs.SpecError, match="odd.py: ModelSpec's hparams must be a literal"):
        specs.read_spec(module)
    module.write_text("from homework1.plan.specs import ModelSpec\nSPEC = ModelSpec(question='q2', name='even', "
                      "hparams=['epochs', 'batch_size', 'learning_rate', 'momentum', 'weight_decay'])\n")
    with pytest.raises(specs.SpecError, match="declares q2 model 'even'; .* named after the module"):
        specs.read_spec(module)


def test_every_spec_read_from_the_source_is_the_one_the_module_holds():
    for (question, name), spec in specs.model_specs().items():
        assert specs.load_model(question, name).SPEC == spec, name
