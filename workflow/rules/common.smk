# Helpers shared by the rules: config validation, the run table, input functions.

import itertools
import os
from pathlib import Path

from snakemake.utils import validate


validate(config, schema="../schemas/config.schema.yaml")

# Jobs import the package from this checkout, so that the source files listed
# as rule inputs are exactly the code that runs (and a change to them reruns
# the jobs that use them), whatever else is installed.
SOURCE_DIR = Path(workflow.basedir) / "src"
os.environ["PYTHONPATH"] = os.pathsep.join(
    p for p in (str(SOURCE_DIR), os.environ.get("PYTHONPATH", "")) if p
)

DATASET = config["dataset"]
SEEDS = config["seeds"]

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


wildcard_constraints:
    dataset="|".join(["digits", "intel_landscapes", "synthetic_intel"]),
    question="q[123]",
    experiment="[a-z][a-z0-9_]*",
    variant="[^/]+",
    seed=r"\d+",


def package_files(*modules):
    """Source files of the package modules a job imports: inputs, so edits rerun it."""
    return [str(SOURCE_DIR / "homework1" / f"{module}.py") for module in modules]


def format_value(value):
    return repr(value) if isinstance(value, float) else str(value)


def expand_experiment(question, experiment):
    """{variant name: hyper-parameters} of one configured experiment.

    Every list-valued hyper-parameter is a sweep; the runs are their product and
    a variant is named by its swept values (``batch_size~64``), or ``default``.
    """
    settings = config[question][experiment]
    names = MODEL_HPARAMS[(question, settings["model"])]
    swept = [name for name in names if isinstance(settings[name], list)]
    variants = {}
    for values in itertools.product(*(settings[name] for name in swept)):
        hparams = {name: settings[name] for name in names} | dict(zip(swept, values))
        hparams["model"] = settings["model"]
        variant = "_".join(f"{name}~{format_value(value)}" for name, value in zip(swept, values))
        variants[variant or "default"] = hparams
    return variants


RUNS = {
    question: {experiment: expand_experiment(question, experiment) for experiment in config[question]}
    for question in ("q1", "q2")
}


def run_hparams(question):
    """Input function: the hyper-parameters of the run a job's wildcards name."""

    def lookup(wildcards):
        try:
            return RUNS[question][wildcards.experiment][wildcards.variant]
        except KeyError:
            raise ValueError(
                f"no configured run {question}/{wildcards.experiment}/{wildcards.variant}; "
                f"see the {question}: section of config/config.yaml"
            ) from None

    return lookup


def run_dir(question, experiment, variant, seed, dataset=DATASET):
    return f"results/runs/{dataset}/{question}/{experiment}/{variant}/seed{seed}"


def run_outputs(kind, questions=("q1", "q2")):
    """Paths of one kind of per-run output (metrics.csv, summary.json) of every configured run."""
    return [
        f"{run_dir(question, experiment, variant, seed)}/{kind}"
        for question in questions
        for experiment, variants in RUNS[question].items()
        for variant in variants
        for seed in SEEDS
    ]


def dataset_file(dataset=DATASET):
    return f"resources/datasets/{dataset}.npz"


def dataset_info(wildcards):
    return {"name": wildcards.dataset, "synthetic": wildcards.dataset == "synthetic_intel"}


def all_targets():
    return run_outputs("summary.json") + TABLES + figure_targets() + THEORY_OUTPUTS + ["results/report.md"]
