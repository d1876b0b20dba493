"""The settings a schema cannot check: those that depend on each other, on the models' specs, on the
data set's source or on this machine. Each problem is one line naming the key (the workflow stops
before its first job with every one of them: homework1.config.configuration)."""

from __future__ import annotations

import math
import os

from homework1 import sources
from homework1.config.schema import choices, config_schema
from homework1.plan.specs import model_specs
from homework1.plan.study import HOMEWORK_DATASET, MODEL_HPARAMS, QUESTIONS
from homework1.q3 import feature_dim

EXPERIMENT_LABELS = ("model", "report_id")  # the settings of an experiment that are no hyper-parameter


def spec_problems(schema: dict | None = None, specs: dict | None = None) -> list[str]:
    """Where the config schema and the models' specs (``homework1.plan.specs``) disagree, each naming
    the model: a model in the schema's enum without a module, or a module the enum lacks; a
    hyper-parameter a model uses that the schema does not define with a default (or require),
    or one the schema defines that no model uses."""
    schema = config_schema() if schema is None else schema
    specs = model_specs() if specs is None else specs
    problems = []
    for question in QUESTIONS:
        block = schema["$defs"][f"{question}_experiment"]
        properties, required = block["properties"], set(block.get("required", ()))
        enum = properties["model"]["enum"]
        models = {name: spec for (q, name), spec in specs.items() if q == question}
        where = f"the schema's $defs.{question}_experiment"
        problems += [f"{question} model {name}: in the model enum of {where}, but src/homework1/{question}/models/ "
                     f"has no {name}.py with a SPEC" for name in enum if name not in models]
        problems += [f"{question} model {name}: src/homework1/{question}/models/{name}.py declares it, but the "
                     f"model enum of {where} lacks it" for name in models if name not in enum]
        for name, spec in models.items():
            for hparam in spec.hparams:
                if hparam not in properties:
                    problems.append(f"{question} model {name} uses {hparam}, which {where} does not define: "
                                    f"add it with its default")
                elif "default" not in properties[hparam] and hparam not in required:
                    problems.append(f"{question} model {name} uses {hparam}, which {where} defines without a "
                                    f"default")
        used = {hparam for spec in models.values() for hparam in spec.hparams}
        problems += [f"{where} defines {key}, which no {question} model's spec uses"
                     for key in properties if key not in used and key not in EXPERIMENT_LABELS]
    return problems


def _non_finite_numbers(value, where: str) -> list[str]:
    if isinstance(value, float) and not math.isfinite(value):
        return [f"{where} = {value}: numbers must be finite"]
    if isinstance(value, dict):
        return [problem for key, item in value.items() for problem in _non_finite_numbers(item, f"{where}.{key}")]
    if isinstance(value, list):
        return [problem for item in value for problem in _non_finite_numbers(item, where)]
    return []


def unused_hyper_parameters(as_given: dict) -> list[str]:
    """Hyper-parameters set on a model that ignores them (``as_given``: the config before
    the schema filled in its defaults, so that only what the user wrote is judged)."""
    problems = []
    for question in QUESTIONS:
        for experiment, settings in as_given.get(question, {}).items():
            model = settings["model"]
            used = MODEL_HPARAMS[(question, model)]
            for key in sorted(settings.keys() - used - set(EXPERIMENT_LABELS)):
                users = [name for (q, name), names in MODEL_HPARAMS.items() if q == question and key in names]
                problems.append(
                    f"{question}.{experiment}.{key}: model {model} does not use {key} (it uses "
                    f"{', '.join(used)}); remove it" + (f", or choose model {' or '.join(users)}" if users else ""))
    return problems


def expand_user_paths(config: dict) -> None:
    """``~`` in a local path of a data set means the home folder, as in a shell."""
    for dataset, keys in ((HOMEWORK_DATASET, sources.INTEL_LOCAL_SOURCES), (sources.FILE_SOURCE, ("path",))):
        options = config.get(dataset, {})
        for key in keys:
            if options.get(key):
                options[key] = os.path.expanduser(options[key])


def dataset_problems(config: dict) -> list[str]:
    """What keeps the configured data set from being built."""
    expand_user_paths(config)
    name = config["dataset"]
    if name == "digits":
        problem = sources.digits_split_problem(config["digits"]["test_fraction"], config["digits"]["val_fraction"])
    elif name == HOMEWORK_DATASET:
        options = config[HOMEWORK_DATASET]
        problem = sources.intel_landscapes_problem(options["path"], options["url"], options["sha256"],
                                                   options["archive"])
    elif name == sources.FILE_SOURCE:
        options = config[name]
        problem = sources.npz_problem(options["path"], options["url"], options["sha256"], options["name"],
                                      taken=[other for other in choices("dataset") if other != name])
    else:
        problem = None
    return [problem] if problem else []


def q3_problems(config: dict, as_given: dict) -> list[str]:
    """Q3's rank_deficient_samples must be below dim phi of the gd_features; left unset, it
    adapts (the schema's default, or dim phi - 1 if that is smaller)."""
    q3 = config["q3"]
    D = len(q3["gd_features"])
    dim_phi = feature_dim(D)
    if "rank_deficient_samples" not in as_given.get("q3", {}):
        q3["rank_deficient_samples"] = min(q3["rank_deficient_samples"], dim_phi - 1)
    elif not 1 <= q3["rank_deficient_samples"] < dim_phi:
        return [f"q3: rank_deficient_samples = {q3['rank_deficient_samples']} is out of range: with the "
                f"{D} gd_features {q3['gd_features']}, dim phi = {dim_phi}, and the N < dim phi case needs "
                f"1 <= rank_deficient_samples <= {dim_phi - 1} (or leave it unset: it adapts)"]
    return []


def settle_problems(config: dict) -> list[str]:
    """The looks of ``settle`` must grow, and the first must hold every configured seed."""
    looks, seeds = config["settle"]["looks"], config["seeds"]
    problems = []
    if looks != sorted(looks):
        problems.append(f"settle.looks = {looks}: the looks are cumulative seeds, so they must increase")
    if looks and looks[0] < len(seeds):
        problems.append(f"settle.looks = {looks}: the first look ({looks[0]} seeds) must include the "
                        f"{len(seeds)} configured seeds {seeds}")
    return problems


def dependent_setting_problems(config: dict, as_given: dict) -> list[str]:
    """What the schema cannot check: the settings that depend on each other, each problem in one line;
    what may adapt is adapted (``config``: validated, updated in place; ``as_given``: before the schema's
    defaults, so that what the user set is told apart from what they left out)."""
    problems = [problem for key, value in config.items() for problem in _non_finite_numbers(value, key)]
    problems += unused_hyper_parameters(as_given) + dataset_problems(config) + q3_problems(config, as_given)
    return problems + settle_problems(config)


def device_problem(device: str) -> str | None:
    """Why torch jobs on this machine cannot use ``device`` (None if they can). Only an explicit CUDA
    or MPS device is checked, so torch is loaded only then; 'auto' falls back to the CPU."""
    if not device.startswith(("cuda", "mps")):
        return None
    from homework1.q2.devices import resolve_device

    try:
        resolve_device(device)
    except (RuntimeError, ValueError) as err:
        return f"device = {device!r} cannot be used on this machine: {err}"
    return None
