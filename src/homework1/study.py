"""What a study is made of: the runs a configuration asks for, and the data sets' roles.

The workflow builds its jobs from ``expand_runs`` (workflow/rules/common.smk),
and the benchmark estimates the whole study from it, so both see the same runs.
Standard library only: the workflow imports this while it reads its configuration.
"""

from __future__ import annotations

import itertools

# Hyper-parameters each model uses, in the order they name a sweep's runs.
MODEL_HPARAMS = {
    ("q1", "perceptron"): ["epochs"],
    ("q1", "logreg"): ["epochs", "learning_rate", "l2_penalty", "l1_penalty"],
    ("q1", "mlp"): ["epochs", "learning_rate", "hidden_size"],
    ("q2", "logreg"): ["epochs", "batch_size", "learning_rate", "weight_decay", "momentum"],
    ("q2", "ffn"): [
        "epochs", "batch_size", "learning_rate", "weight_decay", "momentum",
        "dropout", "hidden_size", "layers",
    ],
}
QUESTIONS = ("q1", "q2")

# The data set the report's numbers were measured on (the homework's).
HOMEWORK_DATASET = "intel_landscapes"
# Random pixels with the homework's shapes: its run times compare with the report's, its accuracies never.
SYNTHETIC_DATASET = "synthetic_intel"


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
