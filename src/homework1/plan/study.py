"""What a study is made of: the runs a configuration asks for, their paths, and the data sets' roles.
The workflow and the benchmark both plan from ``expand_runs`` (homework1.plan.targets). Standard library
only."""

from __future__ import annotations

import itertools
import re
from pathlib import PurePath

from homework1.plan.specs import QUESTIONS, model_specs

# Hyper-parameters each model uses, in the order they name a sweep's runs (from the models' specs).
MODEL_HPARAMS = {key: list(spec.hparams) for key, spec in model_specs().items()}

# The data set the report's numbers were measured on (the homework's).
HOMEWORK_DATASET = "intel_landscapes"
# Random pixels with the homework's shapes: its run times compare with the report's, its accuracies never.
SYNTHETIC_DATASET = "synthetic_intel"


# Where a run's files live: below RUNS_DIR (its metrics.csv and summary.json), logs/runs/
# and benchmarks/runs/ (with .log and .tsv appended), results/checkpoints/ (.pt).
RUNS_DIR = "results/runs"
RUN_PATH = "{dataset}/{question}/{experiment}/{variant}/seed{seed}"
RUN_FIELDS = ("dataset", "question", "experiment", "variant", "seed")
CONFIG_FIELDS = RUN_FIELDS[:-1]  # what names one configuration: a run's fields but its seed


def run_files(runs: list[str], name: str) -> list[str]:
    """The file ``name`` (metrics.csv, summary.json) of each of ``runs``, below RUNS_DIR."""
    return [f"{RUNS_DIR}/{run}/{name}" for run in runs]


def run_path(**fields) -> str:
    """RUN_PATH with the given fields filled in; the others stay ``{wildcards}`` for a rule."""
    return RUN_PATH.format_map({name: fields.get(name, f"{{{name}}}") for name in RUN_FIELDS})


_RUN_PATTERN = re.compile(run_path(**{name: f"(?P<{name}>[^/]+)" for name in RUN_FIELDS})
                          .replace("seed(?P<seed>[^/]+)", r"seed(?P<seed>\d+)"))


def run_identity(path) -> dict:
    """dataset, question, experiment, variant and seed of one run, read from the path of any
    of its files: ``.../`` RUN_PATH followed by ``/metrics.csv``, ``/summary.json``, ``.tsv``
    (benchmark), ``.log`` or ``.pt``."""
    parts = PurePath(path).with_suffix("").parts
    if parts and parts[-1] in ("metrics", "summary"):
        parts = parts[:-1]
    match = _RUN_PATTERN.fullmatch("/".join(parts[-len(RUN_FIELDS):]))
    if len(parts) < len(RUN_FIELDS) or match is None:
        raise ValueError(f"{path}: not a run's path .../{RUN_PATH}")
    return match.groupdict() | {"seed": int(match["seed"])}


def may_use_cuda(device: str) -> bool:
    """Whether torch jobs with this configured device may train on CUDA (so ask a cluster for a GPU)."""
    return device == "auto" or device.startswith("cuda")


def format_value(value) -> str:
    return repr(value) if isinstance(value, float) else str(value)


def expand_experiment(question: str, settings: dict) -> dict[str, dict]:
    """{variant name: hyper-parameters} of one experiment's (validated) settings.

    Every list-valued hyper-parameter is a sweep; the runs are their product and
    a variant is named by its swept values (``batch_size~64``), or ``default``.
    """
    names = MODEL_HPARAMS[(question, settings["model"])]
    swept = [name for name in names if isinstance(settings[name], list)]
    variants = {}
    for values in itertools.product(*(settings[name] for name in swept)):
        hparams = {name: settings[name] for name in names} | dict(zip(swept, values))
        hparams["model"] = settings["model"]
        variant = "_".join(f"{name}~{format_value(value)}" for name, value in zip(swept, values))
        variants[variant or "default"] = hparams
    return variants


def expand_runs(config: dict) -> dict[str, dict[str, dict[str, dict]]]:
    """{question: {experiment: {variant: hyper-parameters}}} of a validated configuration."""
    return {question: {experiment: expand_experiment(question, settings)
                       for experiment, settings in config[question].items()}
            for question in QUESTIONS}


def check_hparams(question: str, model: str, hparams: dict) -> None:
    """Raise a ValueError unless ``hparams`` are exactly the hyper-parameters ``model`` uses."""
    used = MODEL_HPARAMS.get((question, model))
    if used is None:
        known = [name for q, name in MODEL_HPARAMS if q == question]
        raise ValueError(f"unknown model {model!r}; expected one of {', '.join(known)}")
    missing = [name for name in used if name not in hparams]
    unused = sorted(set(hparams) - set(used))
    if missing or unused:
        raise ValueError(f"{model} uses {', '.join(used)}" + (f"; missing {', '.join(missing)}" if missing else "")
                         + (f"; takes no {', '.join(unused)}" if unused else ""))
