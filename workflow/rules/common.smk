# Helpers shared by the rules: config validation, the table of runs, target
# lists, code inputs and input functions. The other .smk files hold rules only.

import os
import sys
from pathlib import Path

SOURCE_DIR = Path(workflow.basedir) / "src"


def use_package_of_this_checkout():
    """The one way the package is imported: from this checkout's src/, put first on the
    path of the workflow and, through PYTHONPATH, of every job (on a cluster too, and
    in a conda environment), so that the files listed as a rule's code inputs are
    exactly the code its jobs run, whatever else is installed."""
    sys.path.insert(0, str(SOURCE_DIR))
    inherited = os.environ.get("PYTHONPATH", "")
    os.environ.update(PYTHONPATH=os.pathsep.join(p for p in (str(SOURCE_DIR), inherited) if p))


use_package_of_this_checkout()

from homework1 import configuration, imports
from homework1.study import HOMEWORK_DATASET, QUESTIONS, SYNTHETIC_DATASET, expand_runs, may_use_cuda

# Typed, validated against workflow/schemas/config.schema.yaml (defaults filled in), settled.
configuration.prepare(config)


onstart:
    # Checked here, not while the workflow is read: only now is it known whether jobs
    # run on this machine, or go to a cluster whose nodes may have the device.
    if workflow.local_exec and (problem := configuration.device_problem(config["device"])):
        raise configuration.ConfigError(f"{problem}; nothing was started")


# The report we compare against, shipped with the workflow: its numbers and
# its "A beats B" conclusions.
REPORT_NUMBERS = str(Path(workflow.basedir) / "config" / "report_numbers.csv")
REPORT_COMPARISONS = str(Path(workflow.basedir) / "config" / "report_comparisons.csv")

DATASET = config["dataset"]
SEEDS = config["seeds"]
ENV = "../../envs/homework1.yaml"


wildcard_constraints:
    dataset="|".join(configuration.choices("dataset")),
    question="q[123]",
    experiment="[a-z][a-z0-9_]*",
    variant="[^/]+",
    seed=r"\d+",


def code_of(script, *modules):
    """A rule's code inputs: the package modules its entry script (and the named ``modules``)
    import, directly or through others, read from the source (homework1.imports). An edit
    to one reruns exactly the jobs that run it; Snakemake itself tracks the script."""
    path = Path(workflow.basedir) / "scripts" / script
    return [str(file) for file in imports.closure(path, modules, SOURCE_DIR)]


# ---------------------------------------------------------------- the runs

# {question: {experiment: {variant: hyper-parameters}}}; every list value is a sweep.
RUNS = expand_runs(config)


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


def run_path(question, experiment, variant, seed, dataset=DATASET):
    """The part of a run's paths after results/runs/, logs/runs/ and benchmarks/runs/."""
    return f"{dataset}/{question}/{experiment}/{variant}/seed{seed}"


def configured_runs(questions=QUESTIONS):
    return [
        run_path(question, experiment, variant, seed)
        for question in questions
        for experiment, variants in RUNS[question].items()
        for variant in variants
        for seed in SEEDS
    ]


def run_outputs(kind, questions=QUESTIONS):
    """One kind of per-run output (metrics.csv, summary.json) of every configured run."""
    return [f"results/runs/{run}/{kind}" for run in configured_runs(questions)]


def run_benchmarks():
    """Benchmark files of every training job (Snakemake writes them beside each job)."""
    return [f"benchmarks/runs/{run}.tsv" for run in configured_runs()]


def run_metrics(dataset, question, experiment, variant=None):
    """Metrics files of every seed of one configuration (or of every variant of a sweep)."""
    variants = [variant] if variant else RUNS[question][experiment]
    return [
        f"results/runs/{run_path(question, experiment, name, seed, dataset)}/metrics.csv"
        for name in variants
        for seed in SEEDS
    ]


def model_metrics(question, model):
    """Input function: metrics of every run of every experiment of one model."""

    def lookup(wildcards):
        return [
            path
            for experiment, settings in config[question].items()
            if settings["model"] == model
            for path in run_metrics(wildcards.dataset, question, experiment)
        ]

    return lookup


def dataset_info(wildcards):
    return {"name": wildcards.dataset, "synthetic": wildcards.dataset == SYNTHETIC_DATASET}


def dataset_description(wildcards):
    """How figures and reports name the data set (its description in the config schema)."""
    return configuration.dataset_descriptions()[wildcards.dataset]


def q2_resources():
    """Ask the cluster for a GPU only where the configured device may be CUDA."""
    return {"gpu": 1} if may_use_cuda(config["device"]) else {}


def attempt_resources(runtime, mem_mb):
    """Time (minutes) and memory of a job that grow with Snakemake's attempt, so that the retry of
    a job that ran out of either asks for more; and the attempt itself, which the job names in
    its log (the script sees its resources, not its attempt)."""
    return {
        "runtime": lambda wildcards, attempt: runtime * attempt,
        "mem_mb": lambda wildcards, attempt: mem_mb * attempt,
        "attempt": lambda wildcards, attempt: attempt,
    }


# ---------------------------------------------------------------- data sets


def dataset_options(wildcards):
    """The config block of a data set, with unset ("") sources left out."""
    return {key: value for key, value in config[wildcards.dataset].items() if value != ""}


def dataset_local_inputs(wildcards):
    """A user's own copy (npz or archive) is an input: replacing it rebuilds the data."""
    if wildcards.dataset != HOMEWORK_DATASET:
        return []
    options = dataset_options(wildcards)
    if "path" in options:
        return [options["path"]]
    if "url" not in options and "archive" in options:
        return [options["archive"]]
    return []


def dataset_code(wildcards):
    """The entry script imports the data set's own source module by name: that one's code too."""
    return code_of("prepare_dataset.py", f"homework1.sources.{wildcards.dataset}")


# ---------------------------------------------------------------- targets


def swept_experiments():
    """(question, experiment) of every configured sweep: each gets a selection table."""
    return [
        (question, experiment)
        for question, experiments in RUNS.items()
        for experiment, variants in experiments.items()
        if len(variants) > 1
    ]


def selection_table(question, experiment, ext):
    return f"results/tables/selection_{question}_{experiment}.{ext}"


SELECTION_TABLES = [
    selection_table(question, experiment, ext)
    for question, experiment in swept_experiments()
    for ext in ("csv", "md")
]
TABLES = SELECTION_TABLES + expand(
    "results/tables/{table}.{ext}",
    table=["summary", "by_config", "reproduction", "seed_comparisons", "runtime"],
    ext=["csv", "md"],
)
Q3_FIGURES = ["results/figures/q3/gd_vs_closed_form.png", "results/figures/q3/error_vs_units.png"]
THEORY_OUTPUTS = [
    "results/theory/q3_checks.csv",
    "results/theory/q3_gd_curve.csv",
    "results/theory/q3_k_sweep.csv",
] + Q3_FIGURES


def has_model(question, model):
    return any(settings["model"] == model for settings in config[question].values())


def figure_stems():
    """Every figure of the runs, by its path below results/figures/{dataset}/ without extension."""
    stems = [
        f"{question}/{experiment}/{variant}"
        for question, experiments in RUNS.items()
        for experiment, variants in experiments.items()
        for variant in variants
    ]
    stems += [f"{question}/{experiment}_overlay" for question, experiment in swept_experiments()]
    if has_model("q1", "logreg"):
        stems += ["q1/weight_norm", "q1/sparsity"]
    if has_model("q1", "mlp"):
        stems += ["q1/mlp_loss"]
    return stems + ["seed_comparisons"]


def figure_targets(ext=("png", "pdf")):
    return [f"results/figures/{DATASET}/{stem}.{e}" for stem in figure_stems() for e in ext]


def all_targets():
    return (
        run_outputs("summary.json")
        + TABLES
        + figure_targets()
        + THEORY_OUTPUTS
        + ["results/report.md"]
    )
