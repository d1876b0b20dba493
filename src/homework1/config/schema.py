"""The config schema (workflow/schemas/config.schema.yaml), read once: the one home of the defaults, the
data set names and the implementations; its verdict on a config, one short line per problem; and
``coerce``, which types the strings Snakemake hands over for values nested in ``--config`` (it reads
them with YAML's base loader) where the schema allows no string. PyYAML and jsonschema only
(Snakemake's own dependencies)."""

from __future__ import annotations

import math
import re
from functools import cache
from pathlib import Path

import yaml

from homework1 import sources

CHECKOUT = Path(__file__).resolve().parents[3]  # the package is imported from the checkout's src/
SCHEMA_PATH = CHECKOUT / "workflow" / "schemas" / "config.schema.yaml"


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


def dataset_pattern(config: dict) -> str:
    """The wildcard constraint of a data set's name: the schema's data sets, and the configured one's name."""
    return "|".join(map(re.escape, dict.fromkeys([*choices("dataset"), dataset_name(config)])))


def dataset_name(config: dict) -> str:
    """The name the configured data set goes by in paths, tables and figures (sources.dataset_name)."""
    return sources.dataset_name(config["dataset"], config[config["dataset"]])


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


def resolve(schema: dict, root: dict) -> dict:
    """A schema with its local ``$ref`` ("#/$defs/name") replaced by what it points to."""
    while "$ref" in schema:
        target = root
        for part in schema["$ref"].removeprefix("#/").split("/"):
            target = target[part.replace("~1", "/").replace("~0", "~")]
        schema = {**target, **{key: value for key, value in schema.items() if key != "$ref"}}
    return schema


def _alternatives(schema: dict, root: dict) -> list[dict]:
    """The schemas a value may match: those of oneOf / anyOf, or the schema itself."""
    schema = resolve(schema, root)
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

