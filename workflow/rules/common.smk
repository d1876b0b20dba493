# Helpers shared by the rules: config validation, the table of runs, target
# lists, code inputs and input functions. The other .smk files hold rules only.

import os
import sys
from pathlib import Path

SOURCE_DIR = Path(workflow.basedir) / "src"
# The one way the package is imported: from this checkout's src/, here and in every job (homework1.core.environment).
sys.path.insert(0, str(SOURCE_DIR))

from homework1.core import environment, stopping

os.environ.update(environment.job_environment(SOURCE_DIR, os.environ.get("PYTHONPATH", "")))
os.environ[stopping.WORKFLOW_PROCESS] = stopping.process_identity(os.getpid())  # a job stops once it has ended
sys.executable = environment.shell_safe(sys.executable)  # Snakemake writes it into each job's command unquoted

from collections import Counter
from contextlib import contextmanager
from functools import cache

from snakemake.benchmark import BenchmarkRecord
from snakemake.io import IOFile

from homework1.plan import claims, imports, specs
from homework1.config import configuration
from homework1.job import interrupts, locks, slurm
from homework1.core import run_checks, terminal
from homework1.analysis import snapshots
from homework1 import sources
from homework1.core.files import atomic_write, remove_empty_folders, sha256_file
from homework1.core.runs import code_provenance
from homework1.plan.study import (
    HOMEWORK_DATASET, QUESTIONS, RUNS_DIR, SYNTHETIC_DATASET, expand_runs, may_use_cuda, run_path,
)

if problem := environment.working_directory_problem(os.getcwd(), workflow.basedir):
    configuration.stop_if("the workflow cannot run here", [problem])
# Typed, validated against workflow/schemas/config.schema.yaml (defaults filled in), settled.
configuration.prepare(config)

SLURM_WATCH = None  # on a SLURM cluster, what looks after this run's jobs (homework1.job.slurm)


onstart:
    # jobs on this machine share Snakemake's terminal: its lines must not be split by theirs
    terminal.write_whole_lines()
    # Checked here, not while the workflow is read: only now is it known whether jobs
    # run on this machine, or go to a cluster whose nodes may have the device.
    if workflow.local_exec and (problem := configuration.device_problem(config["device"])):
        raise configuration.ConfigError(f"{problem}; nothing was started")
    if workflow.local_exec:
        interrupts.stop_jobs_on_interrupt(resume="Run the same command again to resume.")
        environment.announce_cores(workflow.cores, terminal.say)  # the jobs record how they shared the cores
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


onsuccess:
    # a run's checkpoint is removed when the run ends; the folders it emptied go once no job runs
    remove_empty_folders(CHECKPOINTS)


shell.prefix(interrupts.SHELL_PREFIX)


# The report we compare against, shipped with the workflow: its numbers and
# its "A beats B" conclusions.
REPORT_NUMBERS = str(Path(workflow.basedir) / "config" / "report_numbers.csv")
REPORT_COMPARISONS = str(Path(workflow.basedir) / "config" / "report_comparisons.csv")

DATASET = config["dataset"]
SEEDS = config["seeds"]

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
    import, directly or through others, read from the source (homework1.plan.imports). An edit
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
    """Input function: a training job's code, its entry script and the modules it and its model's
    module import (the trainer loads the model by name): editing one model reruns its runs only.
    The job binds its checkpoint to their checksum."""

    def lookup(wildcards):
        model = run_hparams(question)(wildcards)["model"]
        script = f"train_{question}.py"
        return [str(Path(workflow.basedir) / "scripts" / script), *code_of(script, specs.module_name(question, model))]

    return lookup


def configured_runs(questions=QUESTIONS):
    return [
        run_path(dataset=DATASET, question=question, experiment=experiment, variant=variant, seed=seed)
        for question in questions
        for experiment, variants in RUNS[question].items()
        for variant in variants
        for seed in SEEDS
    ]


# ---------------------------------------------------------------- what earlier runs left (run_checks, locks)

# Runs whose outputs were checked while Snakemake planned; of those a stopped Snakemake left marked
# incomplete, which were kept and which are trained again (the line of a refused lock names them); and
# the lines saying so, held back while a lock is left that may stop this run in one line of its own.
TRAINING_RULES = ("train_q1", "train_q2")
CHECKED_RUNS = set()
LEFT_INCOMPLETE = {"whole and kept": [], "to train again": []}
HELD_BACK = []


def planning_to_run():
    """Whether this is the Snakemake that runs (or dry-runs) the workflow: not the Snakemake of a job on a
    cluster node, nor --report, --touch or --unlock."""
    return workflow.is_main_process and workflow.executor_plugin is not None and not workflow.touch


def lock_dir():
    """Where Snakemake keeps this working directory's lock (and homework1.job.locks its holder)."""
    return Path(workflow.persistence.path) / "locks"


def say_while_planning(line):
    """A line about the runs found while planning: said now, or, while a lock is left here, once this
    Snakemake holds it (if it is refused, its one line says what became of them)."""
    if workflow.dryrun or not locks.lock_files(lock_dir()):
        terminal.say(line)
    else:
        HELD_BACK.append(line)


def left_incomplete():
    """What the runs a stopped Snakemake left incomplete became, in words (empty: there were none)."""
    became = [f"{len(runs)} {what} ({', '.join(runs[:3])}{', ...' if len(runs) > 3 else ''})"
              for what, runs in LEFT_INCOMPLETE.items() if runs]
    return f"of the runs it left incomplete, {' and '.join(became)}" if became else ""


def name_the_lock_holder():
    """Snakemake refuses a locked directory in a block that names no process. Instead, one line: who holds
    the lock (still running: wait; killed: --unlock, and what it left incomplete); and, once this
    Snakemake holds it, this process recorded as its holder (homework1.job.locks). Wraps Snakemake's lock."""
    persistence = workflow.persistence
    if getattr(persistence.lock, "names_its_holder", False) or workflow.dryrun or not workflow.execution_settings.lock:
        return
    snakemake_lock = persistence.lock

    @contextmanager
    def lock_naming_its_holder():
        if persistence.locked:
            settle_left_incomplete(refused=True)
            terminal.say(f"ERROR: {locks.refusal(lock_dir(), incomplete=left_incomplete())}")
            raise SystemExit(1)
        with snakemake_lock():
            holder = locks.record_owner(lock_dir())
            settle_left_incomplete(refused=False)
            for line in HELD_BACK:
                terminal.say(line)
            try:
                yield
            finally:
                holder.unlink(missing_ok=True)

    lock_naming_its_holder.names_its_holder = True
    persistence.lock = lock_naming_its_holder


@cache
def installed_sha256(dataset):
    path = rules.install_dataset.output[0].format(dataset=dataset)
    return sha256_file(path) if os.path.exists(path) else None


def configured_settings(question, wildcards):
    """What a run's summary must record to be this run as configured now: every setting that reaches its
    job and names what it computes."""
    hparams = dict(run_hparams(question)(wildcards))
    return {"model": hparams.pop("model"), "hparams": hparams, "seed": int(wildcards.seed),
            "dataset": wildcards.dataset, "dataset_sha256": installed_sha256(wildcards.dataset),
            "implementation": config["implementation"]}


def check_run_outputs(question, wildcards):
    """A run's existing outputs, checked while Snakemake plans it (homework1.core.run_checks), before it looks
    for incomplete ones. Damaged ones are trained again, in one line each (Snakemake's own way to rerun a
    job: its forced files). Those a stopped Snakemake left marked incomplete are kept where they are whole,
    agree with their checksums and were made by the settings configured now, and trained again where not;
    either way their mark is cleared through Snakemake's persistence (as its --cleanup-metadata does; the
    mark is read with _filter_incomplete_keys, its one synchronous way). Runs are left alone unless the
    lock is free or held only by Snakemakes that have ended (homework1.job.locks)."""
    run = run_path(dataset=wildcards.dataset, question=question, experiment=wildcards.experiment,
                   variant=wildcards.variant, seed=wildcards.seed)
    if run in CHECKED_RUNS or not planning_to_run():
        return
    CHECKED_RUNS.add(run)
    name_the_lock_holder()
    if not locks.held_by_the_dead(lock_dir()):
        return
    files = [f"{RUNS_DIR}/{run}/{name}" for name in snapshots.RUN_FILES]
    marked = workflow.persistence._filter_incomplete_keys(files)
    if not marked and not any(os.path.exists(path) for path in files):
        return
    try:
        outputs = run_checks.read_run(*files)
        problem = None
        if marked:
            problem = ("its files differ from the checksums its job recorded" if outputs.edited
                       else run_checks.settings_differ(outputs.summary, configured_settings(question, wildcards)))
    except run_checks.DamagedRun as err:
        problem = str(err)
    if marked:
        LEFT_INCOMPLETE["to train again" if problem else "whole and kept"].append(run)
        unmeasured = not problem and not os.path.exists(run_benchmark(run))
        say_while_planning(f"{run}: left incomplete by a Snakemake that was stopped; " + (
            f"trained again: {problem}" if problem else "its files are whole and record the settings configured "
            "now: kept"
            + (" (its time and memory were not measured: NA in the runtime table)" if unmeasured else "")
            + (" (this dry run changes nothing: Snakemake lists it as incomplete)" if workflow.dryrun else "")))
        if not workflow.dryrun:
            # the mark, and the record of an earlier build (Snakemake would compare the settings with it)
            for path in files:
                workflow.persistence.cleanup_metadata(IOFile(path))
            if unmeasured:  # else Snakemake would retrain it for its missing benchmark file
                write_unmeasured_benchmark(run_benchmark(run))
    elif problem:
        say_while_planning(f"{problem}; the run is trained again")
    if problem:
        workflow.dag.forcefiles.update(files)


def settle_left_incomplete(refused):
    """Once Snakemake has planned and met its lock: each run left incomplete that is kept gets the record
    Snakemake writes when it sees a job end (persistence.finished: its code, inputs and their checksums,
    params; without it a later change of the run's settings would go unnoticed); each to train again,
    where this Snakemake stops at a refused lock, gets its incomplete mark back (persistence.started),
    so that the next run finds it as this one did."""
    jobs = {str(job.output.summary): job for job in workflow.dag.jobs if job.rule.name in TRAINING_RULES}
    for run in LEFT_INCOMPLETE["whole and kept"]:
        if job := jobs.get(f"{RUNS_DIR}/{run}/{run_checks.SUMMARY_FILE}"):
            workflow.async_run(workflow.persistence.finished(job))
    for run in LEFT_INCOMPLETE["to train again"] if refused else []:
        if job := jobs.get(f"{RUNS_DIR}/{run}/{run_checks.SUMMARY_FILE}"):
            workflow.persistence.started(job)


def write_unmeasured_benchmark(path):
    """A job's benchmark file that says nobody measured it: NA in every column, as Snakemake writes
    where it has no data (the job finished after its Snakemake was gone)."""
    header = BenchmarkRecord.get_header()
    text = "\t".join(header) + "\n" + "\t".join(["NA"] * len(header)) + "\n"
    atomic_write(path, lambda tmp: Path(tmp).write_text(text))


def installed_dataset(question):
    """Input function of a training run: the installed data set, through checkpoint install_dataset.
    Snakemake reruns every job after one that runs; a checkpoint's are planned again once it has run,
    so a data set installed again with the same content (Snakemake compares its checksum) reruns
    nothing. Input functions run while Snakemake plans: the run's outputs are checked first."""

    def lookup(wildcards):
        check_run_outputs(question, wildcards)
        return checkpoints.install_dataset.get(dataset=wildcards.dataset).output[0]

    return lookup


# ---------------------------------------------------------------- settling the claims (settle.smk)

CLAIMS = claims.read_claims(REPORT_COMPARISONS)
TESTABLE = [claims.testable(claim, RUNS) for claim in CLAIMS]
LOOKS = config["settle"]["looks"]


def look_claims(look):
    """The claims whose configurations look ``look`` trains: every testable one at the first look;
    after it, those the previous look left open (read once that look's checkpoint has run)."""
    testable = [claim for claim, can_test in zip(CLAIMS, TESTABLE) if can_test]
    if look == 1:
        return testable
    previous = checkpoints.settle_look.get(dataset=DATASET, look=look - 1).output.decisions
    return claims.open_claims(previous, testable)


def look_runs(look):
    """The runs look ``look`` trains: its seeds (cumulative) of every configuration its claims compare."""
    return [
        run_path(dataset=DATASET, question=question, experiment=experiment, variant=variant, seed=seed)
        for question, experiment, variant in claims.configurations(look_claims(look))
        for seed in claims.look_seeds(SEEDS, LOOKS[look - 1])
    ]


def runs_so_far(look):
    """Every run the looks up to ``look`` train, each once: the runs of the claims' configurations."""
    return list(dict.fromkeys(run for earlier in range(1, look + 1) for run in look_runs(earlier)))


def runs_at_last_look():
    """How many runs the configurations the claims compare would take, every one at the last look's
    seeds: what settling saves runs against (0: off)."""
    testable = [claim for claim, can_test in zip(CLAIMS, TESTABLE) if can_test]
    return len(claims.configurations(testable)) * (LOOKS[-1] if LOOKS else 0)


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


def run_benchmark(run):
    """The benchmark file Snakemake writes for a training job (the rules' benchmark:)."""
    return f"benchmarks/runs/{run}.tsv"


def run_benchmarks(wildcards=None):
    """Benchmark files of every training job."""
    return [run_benchmark(run) for run in study_runs()]


def run_summaries(wildcards=None):
    """The summary of every training job."""
    return [f"{RUNS_DIR}/{run}/summary.json" for run in study_runs()]


def study_metrics(wildcards=None):
    """The metrics of every training job."""
    return [f"{RUNS_DIR}/{run}/metrics.csv" for run in study_runs()]


def summaries_beside(metrics):
    """The summaries of the runs whose metrics files are given (a reader checks each pair together)."""
    return [str(run_checks.beside(path, run_checks.SUMMARY_FILE)) for path in metrics]


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
    """Input function: metrics of every run drawn in a question's figure (homework1.plan.specs.FIGURES)."""
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
    """The questions' figures (homework1.plan.specs.FIGURES) that a configured model's runs are drawn in."""
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


def runs_not_being_written():
    """Nothing, once no other Snakemake holds a lock on files of this study's runs (Snakemake's own lock
    would not stop a snapshot: it writes other files; while it plans, every lock is another's). Else one
    line naming the holder, and a stop: a snapshot taken beside a rebuild would mix runs of both."""
    if planning_to_run():
        name_the_lock_holder()
        if written := sorted(locks.locked_outputs(lock_dir()) & set(built_run_files())):
            writes = f"{len(written)} file(s) of this study's runs (first: {written[0]})"
            terminal.say(f"ERROR: no snapshot taken: {locks.refusal(lock_dir(), writes=writes)}")
            raise SystemExit(1)
    return []


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
