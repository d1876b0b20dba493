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

from collections import Counter
from functools import cache

from homework1 import claims, configuration, imports, interrupts, slurm, snapshots, sources, specs, terminal
from homework1.runs import code_provenance
from homework1.study import HOMEWORK_DATASET, QUESTIONS, SYNTHETIC_DATASET, expand_runs, may_use_cuda, run_path

# Typed, validated against workflow/schemas/config.schema.yaml (defaults filled in), settled.
configuration.prepare(config)

SLURM_WATCH = None  # on a SLURM cluster, what looks after this run's jobs (homework1.slurm)


onstart:
    # jobs on this machine share Snakemake's terminal: its lines must not be split by theirs
    terminal.write_whole_lines()
    # Checked here, not while the workflow is read: only now is it known whether jobs
    # run on this machine, or go to a cluster whose nodes may have the device.
    if workflow.local_exec and (problem := configuration.device_problem(config["device"])):
        raise configuration.ConfigError(f"{problem}; nothing was started")
    if workflow.local_exec:
        interrupts.stop_jobs_on_interrupt(resume="Run the same command again to resume.")
    else:
        cluster_jobs = [job for job in workflow.dag.needrun_jobs() if not job.is_local]
        array_rules = getattr(workflow.executor_settings, "array_jobs", None)
        if problem := configuration.array_stall_problem(array_rules, Counter(job.rule.name for job in cluster_jobs),
                                                        workflow.resource_settings.nodes):
            raise configuration.ConfigError(f"{problem}; nothing was submitted")
        # the SLURM plugin's executor names every job of this run by its run id
        executor = workflow.scheduler.get_executor(cluster_jobs[0]) if cluster_jobs else None
        if hasattr(executor, "run_uuid"):
            # what is submitted: a job, or the group it belongs to
            submissions = dict.fromkeys(workflow.dag.get_job_group(job) or job for job in cluster_jobs)
            partitions = slurm.cluster_partitions()
            if partitions and (problem := slurm.too_large_for_the_cluster(submissions, partitions)):
                raise configuration.ConfigError(f"{problem}; nothing was submitted")
            global SLURM_WATCH
            SLURM_WATCH = slurm.watch(executor, workflow.scheduler, config["slurm_watch_every"])


onerror:
    if SLURM_WATCH:
        SLURM_WATCH.end()


shell.prefix(interrupts.SHELL_PREFIX)


# The report we compare against, shipped with the workflow: its numbers and
# its "A beats B" conclusions.
REPORT_NUMBERS = str(Path(workflow.basedir) / "config" / "report_numbers.csv")
REPORT_COMPARISONS = str(Path(workflow.basedir) / "config" / "report_comparisons.csv")

DATASET = config["dataset"]
SEEDS = config["seeds"]
RUNS_DIR = "results/runs"  # where every run's metrics.csv and summary.json live (study.RUN_PATH below it)

# What `snakemake snapshot` writes, and the snapshot this build is compared with (if any),
# checked before any job runs.
SNAPSHOTS = "results/snapshots"
CHECKOUT = code_provenance(workflow.basedir)
SNAPSHOT_NAME = config["snapshot_name"] or snapshots.snapshot_name(CHECKOUT["git_commit"], CHECKOUT["git_dirty"])
BASELINE = snapshots.resolve_baseline(config["baseline"], SNAPSHOTS) if config["baseline"] else None
if BASELINE:
    if problem := snapshots.baseline_problem(BASELINE, DATASET):
        configuration.stop_if("the baseline cannot be compared with", [problem])
    BASELINE_RUNS = snapshots.read_manifest(BASELINE)["runs"]
    # the comparison's inputs, so that a snapshot edited by hand is noticed
    BASELINE_FILES = [str(path) for path in snapshots.run_files(BASELINE / "runs", BASELINE_RUNS)]
ENV = "../../envs/homework1.yaml"


wildcard_constraints:
    dataset="|".join(configuration.choices("dataset")),
    figure="|".join(specs.FIGURES),
    question="q[123]",
    experiment="[a-z][a-z0-9_]*",
    variant="[^/]+",
    seed=r"\d+",
    look=r"[1-9]\d*",
    source="[0-9a-f]{12}",


@cache
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


def training_code(question):
    """Input function: a training job's code, its entry script's and its model's module's (the
    trainer loads the model by name): editing one model reruns its runs only."""

    def lookup(wildcards):
        model = run_hparams(question)(wildcards)["model"]
        return code_of(f"train_{question}.py", specs.module_name(question, model))

    return lookup


def configured_runs(questions=QUESTIONS):
    return [
        run_path(dataset=DATASET, question=question, experiment=experiment, variant=variant, seed=seed)
        for question in questions
        for experiment, variants in RUNS[question].items()
        for variant in variants
        for seed in SEEDS
    ]


# ---------------------------------------------------------------- settling the claims (settle.smk)

CLAIMS = claims.read_claims(REPORT_COMPARISONS)
TESTABLE = [claims.testable(claim, RUNS) for claim in CLAIMS]
LOOKS = config["settle"]["looks"]


def look_claims(look):
    """The claims look ``look`` compares: every testable one at the first look; after it, those the
    previous look left undecided (read once that look's checkpoint has run)."""
    testable = [claim for claim, can_test in zip(CLAIMS, TESTABLE) if can_test]
    if look == 1:
        return testable
    previous = checkpoints.settle_look.get(dataset=DATASET, look=look - 1).output.decisions
    return claims.undecided(previous, testable)


def look_runs(look):
    """The runs look ``look`` pairs: its seeds (cumulative) of every configuration its claims compare."""
    return [
        run_path(dataset=DATASET, question=question, experiment=experiment, variant=variant, seed=seed)
        for question, experiment, variant in claims.configurations(look_claims(look))
        for seed in claims.look_seeds(SEEDS, LOOKS[look - 1])
    ]


def previous_look(dataset, look):
    """The previous look's decisions (none before the first)."""
    return [rules.settle_look.output.decisions.format(dataset=dataset, look=look - 1)] if look > 1 else []


def runs_at_last_look():
    """How many runs the study would train with every configuration at the last look's seeds (0: off)."""
    return sum(len(variants) for experiments in RUNS.values() for variants in experiments.values()) * (
        LOOKS[-1] if LOOKS else 0
    )


def last_look():
    """The last look's decisions, with ``settle`` on."""
    return [rules.settle_look.output.decisions.format(dataset=DATASET, look=len(LOOKS))] if LOOKS else []


def study_runs(wildcards=None):
    """Every run of the study: the configured ones and, with ``settle`` on, those its looks train
    (found look by look, as the looks decide)."""
    runs = configured_runs()
    for look in range(1, len(LOOKS) + 1):
        runs += look_runs(look)
    return list(dict.fromkeys(runs))


def run_outputs(kind, questions=QUESTIONS):
    """One kind of per-run output (metrics.csv, summary.json) of every configured run."""
    return [f"{RUNS_DIR}/{run}/{kind}" for run in configured_runs(questions)]


def run_benchmarks(wildcards=None):
    """Benchmark files of every training job (Snakemake writes them beside each job)."""
    return [f"benchmarks/runs/{run}.tsv" for run in study_runs()]


def run_summaries(wildcards=None):
    """The summary of every training job."""
    return [f"{RUNS_DIR}/{run}/summary.json" for run in study_runs()]


def run_metrics(dataset, question, experiment, variant=None):
    """Metrics files of every seed of one configuration (or of every variant of a sweep)."""
    variants = [variant] if variant else RUNS[question][experiment]
    runs = [
        run_path(dataset=dataset, question=question, experiment=experiment, variant=name, seed=seed)
        for name in variants
        for seed in SEEDS
    ]
    return [f"{RUNS_DIR}/{run}/metrics.csv" for run in runs]


def figure_experiments(question, figure):
    """The experiments whose model's spec draws its runs in one of the question's figures."""
    return [
        experiment
        for experiment, settings in config[question].items()
        if figure in specs.model_spec(question, settings["model"]).figures
    ]


def figure_metrics(wildcards):
    """Input function: metrics of every run drawn in a question's figure (homework1.specs.FIGURES)."""
    return [
        path
        for experiment in figure_experiments(wildcards.question, wildcards.figure)
        for path in run_metrics(wildcards.dataset, wildcards.question, experiment)
    ]


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


def source_options(dataset):
    """The config block of a data set, with unset ("") sources left out."""
    return {key: value for key, value in config[dataset].items() if value != ""}


def dataset_options(wildcards):
    return source_options(wildcards.dataset)


def source_file(pattern, dataset):
    """A file of rule dataset (its output or benchmark ``pattern``) for the data set's configured source."""
    return pattern.format(dataset=dataset, source=sources.source_key(source_options(dataset)))


def dataset_build(wildcards):
    """The build of the data set from its configured source, which install_dataset copies to the
    file the runs read."""
    return source_file(rules.dataset.output[0], wildcards.dataset)


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


def selection_tables(ext):
    """The selection table of every sweep (rule select_best), in one format."""
    return [
        rules.select_best.output[ext].format(question=question, experiment=experiment)
        for question, experiment in swept_experiments()
    ]


def question_figures():
    """The questions' figures (homework1.specs.FIGURES) that a configured model's runs are drawn in."""
    return [
        f"{figure.question}/{name}"
        for name, figure in specs.FIGURES.items()
        if figure_experiments(figure.question, name)
    ]


def figure_stems():
    """Every figure of the runs, by its path below results/figures/{dataset}/ without extension."""
    stems = [
        f"{question}/{experiment}/{variant}"
        for question, experiments in RUNS.items()
        for experiment, variants in experiments.items()
        for variant in variants
    ]
    stems += [f"{question}/{experiment}_overlay" for question, experiment in swept_experiments()]
    return stems + question_figures() + ["seed_comparisons"]


def figure_targets(ext=("png", "pdf")):
    return [f"results/figures/{DATASET}/{stem}.{e}" for stem in figure_stems() for e in ext]


def built_run_files(wildcards=None):
    """Every file of every run of the study, where a build leaves it."""
    return [str(path) for path in snapshots.run_files(RUNS_DIR, study_runs())]


def changes_targets():
    """With a baseline: the comparison's tables and figures."""
    return [*rules.compare_to_baseline.output, *rules.changes_figures.output] if BASELINE else []


def all_targets():
    """Everything the study makes; what one rule makes is named by that rule (rules.<name>.output)."""
    return (
        run_outputs("summary.json")
        + [*rules.summary_tables.output, *rules.reproduction_tables.output, *rules.runtime_table.output]
        + selection_tables("csv")
        + selection_tables("md")
        + figure_targets()
        + [*rules.q3_checks.output, *rules.q3_figures.output]
        + [*rules.report_md.output]
        + last_look()
        + changes_targets()
    )
