"""The runs a configuration asks for: each experiment's sweeps expanded into variants.

The workflow builds its jobs from this (workflow/rules/common.smk), and the
benchmark estimates the whole study from it, so both see the same runs.
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
