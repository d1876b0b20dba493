"""The workflow's configuration before any job runs: merged, typed, validated, settled.

``prepare`` is what the workflow does to the config Snakemake has merged
(config/config.yaml, then every ``--configfile``, then ``--config``), and
``load`` does the same merge for the entry points Snakemake does not start
(the benchmark), so that both see one configuration:

- ``coerce``: Snakemake hands values nested in ``--config`` over as strings
  (it reads them with YAML's base loader), so ``--config 'q1={perceptron:
  {epochs: 3}}'`` gives the string '3'. Where the schema allows no string but
  the value is one, the string is read as YAML and the typed value kept if its
  type is allowed there. Strings where a string is allowed (a report id "2.1",
  a path) stay strings.
- the schema (workflow/schemas/config.schema.yaml) validates and fills in every
  default: it is the one home of the defaults, of the data set names and of the
  implementations.
- ``settle`` checks what the schema cannot, the settings that depend on each
  other, and adapts what may adapt; everything else stops the workflow before
  its first job with every problem named (``ConfigError``).

Light on purpose: the workflow imports this while it reads its configuration,
so it loads no pandas, no numpy and no module a job runs.
"""

from __future__ import annotations

import copy
import math
import os
from functools import cache
from pathlib import Path

import yaml

from homework1 import sources
from homework1.q3 import feature_dim
from homework1.plan.specs import model_specs
from homework1.plan.study import HOMEWORK_DATASET, MODEL_HPARAMS, QUESTIONS

CHECKOUT = Path(__file__).resolve().parents[3]  # the package is imported from the checkout's src/
SCHEMA_PATH = CHECKOUT / "workflow" / "schemas" / "config.schema.yaml"
CONFIG_PATH = CHECKOUT / "config" / "config.yaml"

EXPERIMENT_LABELS = ("model", "report_id")  # the settings of an experiment that are no hyper-parameter


class ConfigError(ValueError):
    """Settings that cannot run together; the message names every such setting."""


def stop_if(headline: str, problems: list[str]) -> None:
    """Raise ConfigError with ``headline`` and one line per problem, if there are any."""
    if problems:
        raise ConfigError(f"{headline}; nothing was started:\n" + "\n".join(f"  - {problem}" for problem in problems))


@cache
def config_schema() -> dict:
    return yaml.load(SCHEMA_PATH.read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


def choices(key: str) -> list[str]:
    """The values the schema allows for a top-level key (``dataset``, ``implementation``)."""
    return list(config_schema()["properties"][key]["enum"])


def dataset_descriptions(config: dict | None = None) -> dict[str, str]:
    """{data set: how tables and figures name it}, from the schema's block of each data set; with a
    ``config``, also the name its data set goes by (a file of one's own: the file's)."""
    descriptions = {name: config_schema()["properties"][name]["description"] for name in choices("dataset")}
    if config and config["dataset"] == sources.FILE_SOURCE:
        descriptions[dataset_name(config)] = f"{dataset_name(config)}: {descriptions[sources.FILE_SOURCE]}"
    return descriptions


def dataset_name(config: dict) -> str:
    """The name the configured data set goes by in paths, tables and figures (homework1.sources.dataset_name)."""
    return sources.dataset_name(config["dataset"], config[config["dataset"]])


def prepare(config: dict) -> dict:
    """Type, validate (filling in the schema's defaults) and settle ``config`` in place; return it.
    Raises ConfigError (settings that disagree) or Snakemake's WorkflowError (the schema's
    message, naming the key)."""
    from snakemake.utils import validate

    stop_if("the config schema and the models' specs disagree", spec_problems())
    config.update(coerce(dict(config), config_schema()))
    stop_if(f"the configuration does not fit {SCHEMA_PATH.relative_to(CHECKOUT)}", schema_problems(config))
    as_given = copy.deepcopy(config)
    validate(config, str(SCHEMA_PATH))  # fills in the defaults
    settle(config, as_given)
    return config


def load(configfiles=(), overrides: dict | None = None) -> dict:
    """The configuration a run of the workflow with these ``--configfile``s and ``--config``
    overrides sees: config/config.yaml with each merged over it recursively, as Snakemake
    merges them (snakemake.utils.update_config), then ``prepare``d."""
    from snakemake.utils import update_config

    config = yaml.safe_load(CONFIG_PATH.read_text(encoding="utf-8"))
    for path in configfiles:
        update_config(config, yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {})
    update_config(config, overrides or {})
    return prepare(config)


# ---------------------------------------------------------------- the schema's verdict, short

MOST_PROBLEMS = 8  # a config with more is summarised: the terminal shows the cause, not a dump


def _where(error) -> str:
    return ".".join(str(part) for part in error.absolute_path) or "the configuration"


def _specific(error):
    """Of an error under oneOf/anyOf (a value or a sweep), the alternative's error that says most:
    the one for the value's own type (a list is judged as a sweep), the deepest."""
    if not error.context:
        return error
    relevant = [e for e in error.context if e.validator != "type"] or list(error.context)
    return _specific(max(relevant, key=lambda e: len(e.absolute_path)))


def _rule(error) -> str:
    """The rule the value broke, said plainly, with what is allowed."""
    validator, expected = error.validator, error.validator_value
    if validator == "additionalProperties":
        extra = sorted(set(error.instance) - set(error.schema.get("properties", {})))
        allowed = ", ".join(sorted(error.schema.get("properties", {})))
        return f"unknown key{'s' * (len(extra) > 1)} {', '.join(map(repr, extra))}; allowed here: {allowed}"
    if validator == "uniqueItems":
        return f"{error.instance!r} has a duplicate value: a sweep lists each value once"
    if validator == "enum":
        return f"{error.instance!r} is not allowed; choose one of {', '.join(map(str, expected))}"
    bounds = {"minimum": "below the minimum,", "exclusiveMinimum": "not above", "maximum": "above the maximum,",
              "exclusiveMaximum": "not below"}
    if validator in bounds:
        return f"{error.instance!r} is {bounds[validator]} {expected}"
    if validator == "type":
        return f"{error.instance!r} is not of type {expected}"
    return error.message


def schema_problems(config: dict) -> list[str]:
    """Every way ``config`` breaks the schema, one short line each: the key, the rule, what is allowed."""
    from jsonschema import Draft202012Validator  # Snakemake's own dependency

    errors = sorted(Draft202012Validator(config_schema()).iter_errors(config), key=lambda e: list(map(str, e.path)))
    problems = []
    for error in errors:
        specific = _specific(error)
        problems.append(f"{_where(specific)}: {_rule(specific)}")
    if len(problems) > MOST_PROBLEMS:
        problems = problems[:MOST_PROBLEMS] + [f"... and {len(problems) - MOST_PROBLEMS} more"]
    return problems


# ---------------------------------------------------------------- typed overrides

JSON_TYPES = ((bool, "boolean"), (int, "integer"), (float, "number"), (str, "string"),
              (list, "array"), (dict, "object"), (type(None), "null"))


def json_type(value) -> str | None:
    for python_type, name in JSON_TYPES:  # bool before int: True is an int in Python
        if isinstance(value, python_type):
            return name
    return None


def _resolve(schema: dict, root: dict) -> dict:
    """A schema with its local ``$ref`` ("#/$defs/name") replaced by what it points to."""
    while "$ref" in schema:
        target = root
        for part in schema["$ref"].removeprefix("#/").split("/"):
            target = target[part.replace("~1", "/").replace("~0", "~")]
        schema = {**target, **{key: value for key, value in schema.items() if key != "$ref"}}
    return schema


def _alternatives(schema: dict, root: dict) -> list[dict]:
    """The schemas a value may match: those of oneOf / anyOf, or the schema itself."""
    schema = _resolve(schema, root)
    choices = schema.get("oneOf") or schema.get("anyOf")
    if not choices:
        return [schema]
    return [alternative for choice in choices for alternative in _alternatives(choice, root)]


def _allowed_types(schema: dict) -> set[str]:
    if "type" in schema:
        return {schema["type"]} if isinstance(schema["type"], str) else set(schema["type"])
    if "enum" in schema:
        return {json_type(value) for value in schema["enum"]}
    if "properties" in schema or "additionalProperties" in schema:
        return {"object"}
    if "items" in schema:
        return {"array"}
    return {name for _, name in JSON_TYPES}  # unconstrained


def _fits(value, types: set[str]) -> bool:
    kind = json_type(value)
    return kind in types or (kind == "integer" and "number" in types)


def _parse(text: str):
    """A string read as YAML (``1e-5``, which YAML 1.1 leaves a string, as a number);
    the text itself where that gives no finite value."""
    try:
        parsed = yaml.safe_load(text)
    except yaml.YAMLError:
        return text
    if isinstance(parsed, str):
        try:
            parsed = float(text)
        except ValueError:
            return text
    if isinstance(parsed, float) and not math.isfinite(parsed):
        return text
    return parsed


def coerce(value, schema: dict, root: dict | None = None):
    """``value`` typed by ``schema`` (whose local $refs point into ``root``, the whole schema)."""
    root = schema if root is None else root
    alternatives = _alternatives(schema, root)
    if isinstance(value, str):
        types = set().union(*map(_allowed_types, alternatives))
        if "string" in types:
            return value
        parsed = _parse(value)
        if not _fits(parsed, types):
            return value  # the schema's own message will name the key
        value = parsed
    for alternative in alternatives:
        if isinstance(value, dict) and _fits(value, _allowed_types(alternative)):
            properties = alternative.get("properties", {})
            others = alternative.get("additionalProperties")
            others = others if isinstance(others, dict) else {}
            return {key: coerce(item, properties.get(key, others), root) for key, item in value.items()}
        if isinstance(value, list) and _fits(value, _allowed_types(alternative)):
            return [coerce(item, alternative.get("items", {}), root) for item in value]
    return value


# ---------------------------------------------------------------- settings that must agree


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
    for dataset in (HOMEWORK_DATASET, sources.FILE_SOURCE):
        options = config.get(dataset, {})
        for key in ("path", "archive"):
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


def settle(config: dict, as_given: dict) -> None:
    """Check, after the schema, the settings that depend on each other; adapt what may adapt.

    ``config`` is the validated config (defaults filled in), updated in place;
    ``as_given`` is the same before the schema's defaults, so that what the user
    set is told apart from what they left out. Raises ConfigError naming every
    problem.
    """
    problems = [problem for key, value in config.items() for problem in _non_finite_numbers(value, key)]
    problems += unused_hyper_parameters(as_given) + dataset_problems(config) + q3_problems(config, as_given)
    problems += settle_problems(config)
    stop_if("the configuration cannot run", problems)


def array_stall_problem(array_rules: str | None, cluster_jobs: dict[str, int], jobs: int) -> str | None:
    """Why submitting ``cluster_jobs`` ({rule: jobs to do on the cluster}) with SLURM job arrays for
    ``array_rules`` (the plugin's --slurm-array-jobs) and ``--jobs`` would stall (None if it cannot).

    The SLURM plugin (2.8) submits a rule's jobs as an array only once it holds all of that rule's
    ready jobs, or a full chunk of --slurm-array-limit; the jobs it is handed before then it never
    submits, and Snakemake, which hands it at most --jobs at a time, waits for them for ever. So
    unless --jobs covers every cluster job of the study at once, a run can stall.
    """
    rules = {rule.strip() for rule in (array_rules or "").replace(";", ",").split(",") if rule.strip()}
    arrays = {rule: n for rule, n in cluster_jobs.items() if n > 1 and ("all" in rules or rule in rules)}
    total = sum(cluster_jobs.values())
    if not arrays or jobs >= total:
        return None
    largest = max(arrays, key=arrays.get)
    return (f"--jobs {jobs} is below the {total} cluster jobs of this study ({arrays[largest]} of them {largest}), "
            f"which --slurm-array-jobs submits as job arrays: the SLURM plugin holds back the runs of an array "
            f"until it has them all, and Snakemake hands it at most {jobs} at a time, so the run would wait for "
            f"ever. Set --jobs {total} or more (arrays still go out as few submissions), or submit each run on its "
            f"own with --slurm-array-jobs ''")


def device_problem(device: str) -> str | None:
    """Why torch jobs on this machine cannot use ``device`` (None if they can).

    Only an explicit CUDA or MPS device is checked, so torch is loaded only then;
    'auto' falls back to the CPU.
    """
    if not device.startswith(("cuda", "mps")):
        return None
    from homework1.q2.devices import resolve_device

    try:
        resolve_device(device)
    except (RuntimeError, ValueError) as err:
        return f"device = {device!r} cannot be used on this machine: {err}"
    return None
