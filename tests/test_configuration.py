"""The configuration before any job runs: values typed by the schema, settings that must agree.

Unit tests of homework1.config.configuration and homework1.sources' checks, then the
real Snakemake reading the real workflow with such settings.
"""

from __future__ import annotations

import copy
import io
import math
import re
import subprocess
import sys

import numpy as np
import pytest
import yaml

from conftest import JOB_DETAILS, REPO, SOURCE, TINY, Workspace, output_of, planned_jobs, tiny
from homework1.config import configfiles, configuration, schema
from homework1.config.problems import device_problem, unused_hyper_parameters
from homework1.job import launch
from homework1 import sources

SCHEMA = schema.config_schema()


# ---------------------------------------------------------------- typed overrides

def test_nested_strings_become_numbers_lists_and_booleans_where_the_schema_wants_them():
    # what Snakemake's --config hands over for q1={perceptron: {epochs: 3}} and friends
    given = {"q1": {"perceptron": {"model": "perceptron", "epochs": "3", "report_id": "1.1a"}},
             "q2": {"ffn": {"model": "ffn", "epochs": "2", "batch_size": ["64", "128"],
                            "learning_rate": "1e-5", "dropout": "0.25"}},
             "seeds": ["42", "7"], "keep_checkpoints": "true", "torch_threads": "2",
             "intel_landscapes": {"archive": "/data/a.zip", "seed": "7"}}
    typed = schema.coerce(given, SCHEMA)
    assert typed["q1"]["perceptron"] == {"model": "perceptron", "epochs": 3, "report_id": "1.1a"}
    assert typed["q2"]["ffn"]["batch_size"] == [64, 128]
    assert typed["q2"]["ffn"]["learning_rate"] == 1e-05 and typed["q2"]["ffn"]["dropout"] == 0.25
    assert typed["seeds"] == [42, 7] and typed["keep_checkpoints"] is True and typed["torch_threads"] == 2
    assert typed["intel_landscapes"] == {"archive": "/data/a.zip", "seed": 7}


@pytest.mark.parametrize("key, value", [
    ("report_id", "2.1"),  # a string the schema wants: stays one, though YAML would read a number
    ("model", "logreg"),
])
def test_strings_where_a_string_is_allowed_stay_strings(key, value):
    typed = schema.coerce({"q2": {"x": {key: value}}}, SCHEMA)
    assert typed["q2"]["x"][key] == value


def test_paths_and_checksums_stay_strings():
    checksum = "0" * 64  # YAML would read it as the number 0
    options = {"path": "123", "sha256": checksum, "url": "", "archive": "2024-01-01"}
    assert schema.coerce({"intel_landscapes": options}, SCHEMA)["intel_landscapes"] == options


@pytest.mark.parametrize("text", ["three", ".nan", "inf", "[1, 2"])
def test_what_does_not_read_as_an_allowed_type_is_left_for_the_schema_to_name(text):
    assert schema.coerce({"torch_threads": text}, SCHEMA) == {"torch_threads": text}


def test_typed_values_are_left_alone():
    config = yaml.safe_load(configuration.CONFIG_PATH.read_text())
    assert schema.coerce(copy.deepcopy(config), SCHEMA) == config


# ---------------------------------------------------------------- settings that must agree

def test_hyper_parameters_a_model_ignores_are_named():
    as_given = {"q1": {"mlp": {"model": "mlp", "epochs": 2, "l2_penalty": 0.1, "report_id": "1.3a"},
                       "perceptron": {"model": "perceptron", "epochs": 2, "learning_rate": [0.1, 0.2]}},
                "q2": {"lr": {"model": "logreg", "epochs": 2, "batch_size": 8, "dropout": 0.5}}}
    problems = unused_hyper_parameters(as_given)
    assert len(problems) == 3
    assert ("q1.mlp.l2_penalty: model mlp does not use l2_penalty (it uses epochs, learning_rate, hidden_size); "
            "remove it, or choose model logreg") in problems
    assert any(p.startswith("q1.perceptron.learning_rate:") and "choose model logreg or mlp" in p
               for p in problems)
    assert any(p.startswith("q2.lr.dropout: model logreg") and "choose model ffn" in p for p in problems)


def digits_split_works(test_fraction, val_fraction):
    """The real split of the real digits, as sources.make_digits does it."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    labels = load_digits().target
    try:
        rest, _ = train_test_split(np.arange(len(labels)), test_size=test_fraction, stratify=labels,
                                   random_state=0)
        train, _ = train_test_split(rest, test_size=val_fraction, stratify=labels[rest], random_state=0)
    except ValueError:
        return False
    return len(np.unique(labels[train])) == 10


@pytest.mark.parametrize("test_fraction", [0.001, 0.005, 0.0051, 0.2, 0.5, 0.98, 0.9888, 0.9889, 0.995])
@pytest.mark.parametrize("val_fraction", [0.001, 0.0056, 0.1, 0.5, 0.94, 0.99])
def test_digits_split_check_agrees_with_scikit_learn(test_fraction, val_fraction):
    problem = sources.digits_split_problem(test_fraction, val_fraction)
    assert (problem is None) == digits_split_works(test_fraction, val_fraction), problem


def test_digits_split_problem_names_the_key_and_its_range():
    assert sources.DIGITS_IMAGES == 1797  # the constants the check relies on
    problem = sources.digits_split_problem(0.001, 0.1)
    assert "test_fraction = 0.001" in problem and "2 test" in problem
    assert "test_fraction must be from 0.0051 to 0.9888" in problem
    problem = sources.digits_split_problem(0.2, 0.999)
    assert "val_fraction must be from 0.0063 to 0.9930" in problem
    # the ends of the ranges it gives work
    assert sources.digits_split_problem(0.0051, 0.1) is None and sources.digits_split_problem(0.9888, 0.5) is None
    assert sources.digits_split_problem(0.2, 0.0063) is None and sources.digits_split_problem(0.2, 0.993) is None


@pytest.mark.parametrize("options, message", [
    ({}, "no source configured"),
    ({"url": "https://example.org/x.npz"}, "'url:' is set but 'sha256:' is not"),
    ({"path": "/nowhere/x.npz"}, "path: /nowhere/x.npz does not exist"),
    ({"archive": "/nowhere/a.zip"}, "archive: /nowhere/a.zip does not exist"),
])
def test_intel_landscapes_sources_that_cannot_work_are_named(options, message):
    assert message in sources.intel_landscapes_problem(**options)


def test_a_usable_intel_landscapes_source_passes(tmp_path):
    (tmp_path / "a.zip").touch()
    assert sources.intel_landscapes_problem(archive=str(tmp_path / "a.zip")) is None
    assert sources.intel_landscapes_problem(url="https://example.org/x.npz", sha256="0" * 64) is None


DEVICE_CHECK = """
import sys
from homework1.config.problems import device_problem
problem = device_problem({device!r})
print("torch" in sys.modules, problem)
"""


@pytest.mark.parametrize("device, loads_torch", [("auto", False), ("cpu", False), ("cuda:0", True), ("mps", True)])
def test_device_check_loads_torch_only_for_an_explicit_accelerator(device, loads_torch):
    done = subprocess.run([sys.executable, "-c", DEVICE_CHECK.format(device=device)], capture_output=True, text=True,
                          check=True, env={"PYTHONPATH": str(SOURCE)})
    loaded, problem = done.stdout.strip().split(" ", 1)
    assert loaded == str(loads_torch)
    if not loads_torch:
        assert problem == "None"  # auto falls back to the CPU, which every machine has


@pytest.mark.skipif(__import__("torch").cuda.is_available(), reason="this machine has CUDA")
def test_a_missing_cuda_device_is_named():
    assert "device = 'cuda:0' cannot be used on this machine" in device_problem("cuda:0")
    problem = device_problem("cuda")
    assert "device = 'cuda' cannot be used on this machine" in problem and "this torch sees no CUDA device" in problem


# ---------------------------------------------------------------- one configuration for every entry point

def test_configfiles_merge_as_snakemake_merges_them(tmp_path):
    # one level deep would drop every other experiment of q1, and the other settings of the perceptron
    override = tmp_path / "mine.yaml"
    override.write_text("q1:\n  perceptron: {epochs: 3}\nseeds: [1, 2]\n")
    config = configuration.load([override])
    shipped = configuration.load()
    assert config["q1"]["perceptron"] == dict(shipped["q1"]["perceptron"], epochs=3)
    assert config["q1"].keys() == shipped["q1"].keys() and config["q2"] == shipped["q2"]
    assert config["seeds"] == [1, 2]
    assert configuration.load(overrides={"q1": {"perceptron": {"epochs": "4"}}})["q1"]["perceptron"]["epochs"] == 4


def test_defaults_come_from_the_schema():
    config = configuration.load(overrides={"q2": {"x": {"model": "ffn", "epochs": 1, "batch_size": 8}}})
    properties = SCHEMA["$defs"]["q2_experiment"]["properties"]
    for key in ("learning_rate", "weight_decay", "momentum", "dropout", "hidden_size", "layers"):
        assert config["q2"]["x"][key] == properties[key]["default"], key
    assert config["q2"]["x"]["dropout"] == 0.3


def test_the_names_of_data_sets_and_implementations_are_the_schemas():
    assert schema.choices("dataset") == ["digits", "intel_landscapes", "synthetic_intel", "npz"]
    assert schema.choices("implementation") == ["fast", "reference"]
    from homework1 import q1, q2

    assert set(q1.IMPLEMENTATION_STEPS) == set(q2.IMPLEMENTATION_STEPS) == set(schema.choices("implementation"))
    descriptions = schema.dataset_descriptions()
    assert "SYNTHETIC" in descriptions["synthetic_intel"] and "homework" in descriptions["intel_landscapes"]
    # every data set has its source module, named after it
    import importlib

    for name in schema.choices("dataset"):
        assert callable(importlib.import_module(f"homework1.sources.{name}").build)


def test_non_finite_numbers_are_named():
    config = {"q2": {"x": {"learning_rate": [0.1, math.nan]}}, "seeds": [1]}
    with pytest.raises(configuration.ConfigError, match=r"q2\.x\.learning_rate = nan: numbers must be finite"):
        configuration.check_dependent_settings(dict(config, q3={"gd_features": ["bmi"], "rank_deficient_samples": 1},
                                  dataset="synthetic_intel", settle={"looks": [], "alpha": 0.05}), as_given={})


# ---------------------------------------------------------------- through the real Snakemake

def test_nested_command_line_overrides_reach_the_jobs_typed(tmp_path, workspace):
    config = tiny(q1={"perceptron": TINY["q1"]["perceptron"]}, q2={})
    (tmp_path / "a.zip").touch()
    plan = workspace.run(config, "--dry-run", "--config", "dataset=intel_landscapes",
                         f"intel_landscapes={{archive: {tmp_path / 'a.zip'}, seed: 7}}",
                         "q2={ffn: {model: ffn, epochs: 2, batch_size: [64, 128], learning_rate: 1e-3}}",
                         "keep_checkpoints=true", "seeds=[1, 2]")
    jobs = planned_jobs(plan)
    assert (jobs["dataset"], jobs["train_q1"], jobs["train_q2"]) == (1, 2, 4)  # two seeds, two batch sizes
    workspace.run(config, "results/runs/digits/q1/perceptron/default/seed1/metrics.csv",
                  "--config", "q1={perceptron: {epochs: 3}}")
    metrics = (workspace.work / "results/runs/digits/q1/perceptron/default/seed1/metrics.csv").read_text()
    assert len(metrics.splitlines()) == 1 + 3  # header and the three epochs asked for


@pytest.mark.parametrize("change, messages", [
    ({"q3": {"gd_features": ["bmi", "bp"], "rank_deficient_samples": 7}},
     ["q3: rank_deficient_samples = 7 is out of range", "1 <= rank_deficient_samples <= 5"]),
    ({"q1": {"mlp": {"model": "mlp", "epochs": 2, "l2_penalty": 0.01}}},
     ["q1.mlp.l2_penalty: model mlp does not use l2_penalty"]),
    ({"q2": {"lr": {"model": "logreg", "epochs": 2, "batch_size": 8, "layers": [1, 2]}}},
     ["q2.lr.layers: model logreg does not use layers", "choose model ffn"]),
    ({"digits": {"test_fraction": 0.999}},
     ["digits: test_fraction = 0.999", "test_fraction must be from 0.0051 to 0.9888"]),
    ({"dataset": "intel_landscapes", "intel_landscapes": {"url": "https://example.org/x.npz"}},
     ["'url:' is set but 'sha256:' is not"]),
    ({"dataset": "intel_landscapes", "intel_landscapes": {"path": "/nowhere/intel.npz"}},
     ["intel_landscapes: path: /nowhere/intel.npz does not exist"]),
    # numpy's legacy generator takes seeds below 2**32: every job would fail on one above
    ({"seeds": [1, 2 ** 32]}, ["seeds.1: 4294967296 is above the maximum, 4294967295"]),
    ({"digits": {"seed": 2 ** 40}}, ["digits.seed: 1099511627776 is above the maximum, 4294967295"]),
    ({"q2": {"long": {"model": "ffn", "epochs": [10, 10 ** 9], "batch_size": 64}}},
     ["q2.long.epochs.1: 1000000000 is above the maximum, 100000"]),
])
def test_settings_that_disagree_are_named(change, messages):
    # config/config.yaml with the change over it, as --config puts it
    with pytest.raises(configuration.ConfigError) as caught:
        configuration.load(overrides=change)
    for message in messages + ["nothing was started"]:
        assert message in str(caught.value), message


EVERY_PROBLEM = dict(TINY, q3=dict(TINY["q3"], rank_deficient_samples=99), digits={"val_fraction": 0.0001},
                     q1={"mlp": {"model": "mlp", "epochs": 2, "l2_penalty": 0.01}})
EVERY_MESSAGE = ("rank_deficient_samples = 99", "val_fraction must be",
                 "q1.mlp.l2_penalty: model mlp does not use l2_penalty", "nothing was started")


def test_every_problem_is_named_at_once():
    with pytest.raises(configuration.ConfigError) as caught:
        configuration.load(overrides=EVERY_PROBLEM)  # as Snakemake merges a --configfile over config.yaml
    for message in EVERY_MESSAGE:
        assert message in str(caught.value), message


def test_the_homeworks_data_set_without_a_source_says_what_to_set():
    with pytest.raises(configuration.ConfigError) as caught:
        configuration.load(overrides=tiny(dataset="intel_landscapes"))
    for message in ("intel_landscapes:", "path:", "archive:", "nothing was started"):
        assert message in str(caught.value), message


def test_more_torch_threads_than_cores_are_scaled_down_not_refused(workspace):
    # threads adapt: Snakemake gives a job at most --cores, and torch uses the job's threads
    result = workspace.run(dict(TINY, torch_threads=64), "--dry-run", *JOB_DETAILS)
    assert planned_jobs(result)["train_q2"] == 4
    threads = {line.split()[-1] for line in output_of(result).splitlines() if line.strip().startswith("threads:")}
    assert threads == {"2"}


def test_the_defaults_config_readme_shows_are_the_schemas():
    # The schema is the one home of every default; the README shows them, and must show them right.
    text = (REPO / "config" / "README.md").read_text()
    top = dict(re.findall(r"^\| `(\w+)` \| `([^`]+)` \|", text, re.M))
    assert len(top) == 11
    for key, shown in top.items():
        assert yaml.safe_load(shown) == SCHEMA["properties"][key]["default"], key


def test_arrays_that_the_job_limit_would_stall_are_refused_and_the_rest_pass():
    study = {"dataset": 1, "q3_checks": 1, "train_q1": 12, "train_q2": 12}
    problem = launch.array_stall_problem("train_q1,train_q2", study, jobs=4)
    assert problem.startswith("--jobs 4 is below the 26 cluster jobs of this study (12 of them train_q1)")
    assert "Set --jobs 26 or more" in problem and "--slurm-array-jobs ''" in problem
    assert launch.array_stall_problem("all", study, jobs=26) is None  # every job handed at once
    assert launch.array_stall_problem(None, study, jobs=4) is None  # no arrays: one sbatch per job
    single = {"train_q1": 1, "dataset": 1}
    assert launch.array_stall_problem("train_q1", single, jobs=1) is None  # an array of one is one job


# ---------------------------------------------------------------- --configfile, before Snakemake reads it

def test_the_configfiles_of_a_command_line_are_found():
    argv = ["--cores", "2", "--configfile", "a.yaml", "b.yaml", "-n", "--configfiles=c.yaml", "target",
            "--configfile", "d.yaml"]
    assert configfiles.configfile_arguments(argv) == ["a.yaml", "b.yaml", "c.yaml", "d.yaml"]
    assert configfiles.configfile_arguments(["--cores", "2", "all"]) == []


BAD_CONFIGFILES = {
    "missing": (None, "no such file"),
    "empty": ("", "it is empty: a config file maps settings to values"),
    "a list": ("- seeds\n- 1\n", "it holds a list, not a mapping of settings"),
    "tab-broken": ("seeds: [1]\nq1:\n\tperceptron: {}\n",
                   "line 3, column 1: not valid YAML (found character '\\t' that cannot start any token)"),
    "unclosed": ("seeds: [1, 2\n", "not valid YAML"),
}


def problem_of(configfile) -> str | None:
    return configfiles.configfile_problem(str(configfile))


def snakemake_arguments(configfile) -> list[str]:
    return ["-s", str(REPO / "Snakefile"), "--configfile", str(configfile), "--cores", "1", "-n"]


@pytest.mark.parametrize("kind", BAD_CONFIGFILES)
def test_a_bad_configfile_is_named_in_one_line_before_snakemake_reads_it(tmp_path, kind):
    text, problem = BAD_CONFIGFILES[kind]
    path = tmp_path / "my.yaml"
    if text is not None:
        path.write_text(text)
    assert problem in configfiles.configfile_problem(str(path))
    # what the profile does while Snakemake reads it, whose own messages named neither the file nor the line
    printed = io.StringIO()
    with pytest.raises(SystemExit) as stopped:
        configfiles.stop_on_bad_configfiles(snakemake_arguments(path), out=printed)
    assert stopped.value.code == 1
    assert printed.getvalue().splitlines() == [f"ERROR: --configfile {path}: {problem_of(path)}"]
    assert configfiles.configfile_problem(str(REPO / "tests" / "tiny_study.yaml")) is None
    configfiles.stop_on_bad_configfiles(snakemake_arguments(REPO / "tests" / "tiny_study.yaml"))  # no stop


# ---------------------------------------------------------------- refused by the real Snakemake

@pytest.mark.slow  # the real Snakemake
def test_refused_settings_stop_the_real_workflow_before_any_job(workspace):
    """Where the workflow makes the checks above: a --configfile while Snakemake reads the profile, and
    the configuration while it reads the workflow, each with its message alone (no traceback, no dump of
    the configuration, no job planned); the device as it starts jobs on this machine. Each stops it
    before it makes anything."""
    def refused(name: str, config: dict, *args: str) -> subprocess.CompletedProcess:
        work = workspace.work / name
        result = Workspace(work, workspace.repo).run(config, *args, check=False)
        assert result.returncode != 0
        assert not {"resources", "results", "logs"} & {path.name for path in work.iterdir()}
        return result

    def stopped_while_read(result: subprocess.CompletedProcess) -> str:
        assert "Traceback" not in output_of(result) and "Job stats:" not in output_of(result)
        return output_of(result)

    path = workspace.work / "my.yaml"
    path.parent.mkdir(parents=True)
    path.write_text(BAD_CONFIGFILES["tab-broken"][0])
    output = stopped_while_read(refused("configfile", TINY, "--configfile", str(path)))
    lines = [line for line in output.splitlines() if not line.startswith("Using workflow specific")]
    assert lines == [f"ERROR: --configfile {path}: {problem_of(path)}"]

    result = refused("config", EVERY_PROBLEM)
    for message in EVERY_MESSAGE:
        assert message in stopped_while_read(result), message
    assert len(result.stderr.splitlines()) <= 12, result.stderr

    if not __import__("torch").cuda.is_available():
        output = output_of(refused("device", TINY, "--config", "device=cuda"))
        assert "device = 'cuda' cannot be used on this machine" in output
        assert "this torch sees no CUDA device" in output


# ---------------------------------------------------------------- the schema, the one home of the defaults

def schema_defaults(value, where="", block=None):
    """(key, value, the schema's default) of every setting of ``value`` the schema gives a default."""
    block = schema.resolve(SCHEMA if block is None else block, SCHEMA)
    if isinstance(value, dict):
        others = block.get("additionalProperties")
        for key, item in value.items():
            inner = block.get("properties", {}).get(key, others if isinstance(others, dict) else {})
            yield from schema_defaults(item, f"{where}.{key}".lstrip("."), inner)
    elif "default" in block:
        yield where, value, block["default"]


def test_config_yaml_and_its_readme_give_the_schemas_defaults():
    # config.yaml shows every setting with its default; only an experiment sets its own values
    config = yaml.safe_load(configuration.CONFIG_PATH.read_text(encoding="utf-8"))
    shown = [(key, value, default) for key, value, default in schema_defaults(config)
             if key.split(".")[0] not in ("q1", "q2")]
    assert len(shown) >= 25
    assert [(key, value) for key, value, default in shown if value != default] == []
    # so do config/README.md's tables: | `key` | `default` | ...
    readme = (REPO / "config" / "README.md").read_text(encoding="utf-8")
    rows = {key: yaml.safe_load(value) for key, value in re.findall(r"^\| `([\w.]+)` \| `([^`]*)` \|", readme, re.M)}
    defaults = {key: default for key, _, default in schema_defaults(configuration.load())}
    assert len(rows) >= 10 and set(rows) <= set(defaults)
    assert {key: value for key, value in rows.items() if defaults[key] != value} == {}
