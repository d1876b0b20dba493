"""The workflow's configuration before any job runs: merged, typed, validated, checked.

``prepare`` is what the workflow does to the config Snakemake has merged (config/config.yaml, every
``--configfile``, then ``--config``); ``load`` does the same merge for the entry points Snakemake does
not start (the benchmark), so that both see one configuration. Light on purpose: the workflow imports
this while it reads its configuration, so it loads no pandas, no numpy and no module a job runs."""

from __future__ import annotations

import copy
from pathlib import Path

import yaml

from homework1.config.problems import dependent_setting_problems, spec_problems
from homework1.config.schema import CHECKOUT, SCHEMA_PATH, coerce, config_schema, schema_problems

CONFIG_PATH = CHECKOUT / "config" / "config.yaml"


class ConfigError(ValueError):
    """Settings that cannot run together; the message names every such setting."""


def stop_if(headline: str, problems: list[str]) -> None:
    """Raise ConfigError with ``headline`` and one line per problem, if there are any."""
    if problems:
        raise ConfigError(f"{headline}; nothing was started:\n" + "\n".join(f"  - {problem}" for problem in problems))


def prepare(config: dict) -> dict:
    """Type, validate (filling in the schema's defaults) and check ``config`` in place; return it.
    Raises ConfigError (settings that disagree) or Snakemake's WorkflowError (the schema's
    message, naming the key)."""
    from snakemake.utils import validate

    stop_if("the config schema and the models' specs disagree", spec_problems())
    config.update(coerce(dict(config), config_schema()))
    stop_if(f"the configuration does not fit {SCHEMA_PATH.relative_to(CHECKOUT)}", schema_problems(config))
    as_given = copy.deepcopy(config)
    validate(config, str(SCHEMA_PATH))  # fills in the defaults
    check_dependent_settings(config, as_given)
    return config


def check_dependent_settings(config: dict, as_given: dict) -> None:
    """Stop (ConfigError) on every setting the schema cannot check (``problems.dependent_setting_problems``)."""
    stop_if("the configuration cannot run", dependent_setting_problems(config, as_given))


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

