# Glue between Snakemake and the package: the config prepared, the hooks, and the input functions
# the rules call. What the study builds is planned by homework1.plan.targets.

import os
import sys
from pathlib import Path

# The one way the package is imported: from this checkout's src/, here and in every job (homework1.core.environment).
SOURCE_DIR = Path(workflow.basedir) / "src"
sys.path.insert(0, str(SOURCE_DIR))

from homework1.core import environment

environment.set_up_workflow_process(SOURCE_DIR)
from functools import cache

from homework1.analysis import snapshots
from homework1.config import configuration, problems, schema
from homework1.config.inputs import Inputs, attempt_resources, dataset_info, summaries_beside
from homework1.core import files, run_checks, terminal
from homework1.core.runs import code_provenance
from homework1.job import interrupts, launch
from homework1.job.leftovers import Leftovers
from homework1.plan import claims, imports, specs
from homework1.plan.study import QUESTIONS, RUNS_DIR, run_path
from homework1.plan.targets import run_benchmark

if problem := environment.working_directory_problem(os.getcwd(), workflow.basedir):
    configuration.stop_if("the workflow cannot run here", [problem])
configuration.prepare(config)  # typed, validated against the schema (defaults filled in), checked

SLURM_WATCH = None  # on a SLURM cluster, what looks after this run's jobs (homework1.job.slurm)


onstart:
    terminal.write_whole_lines()  # jobs here share Snakemake's terminal
    if workflow.local_exec:  # known only now: whether jobs run here or on a cluster's nodes
        if problem := problems.device_problem(config["device"]):
            raise configuration.ConfigError(f"{problem}; nothing was started")
        interrupts.stop_jobs_on_interrupt(resume="Run the same command again to resume.")
        environment.announce_cores(workflow.cores, terminal.say)  # the jobs record how they shared the cores
    else:
        global SLURM_WATCH
        if problem := launch.cluster_problem(workflow):
            raise configuration.ConfigError(f"{problem}; nothing was submitted")
        SLURM_WATCH = launch.watch_slurm(workflow, config["slurm_watch_every"])


onerror:
    if SLURM_WATCH:
        SLURM_WATCH.end()


onsuccess:
    # a run's checkpoint is removed when the run ends; the folders it emptied go once no job runs
    files.remove_empty_folders(CHECKPOINTS)


shell.prefix(interrupts.SHELL_PREFIX)

REPORT_NUMBERS = str(Path(workflow.basedir) / "config" / "report_numbers.csv")  # the report we compare against
REPORT_COMPARISONS = str(Path(workflow.basedir) / claims.REPORT_COMPARISONS)
DATASET, SEEDS, LOOKS = schema.dataset_name(config), config["seeds"], config["settle"]["looks"]  # a file: its name
ENV = "../../envs/homework1.yaml"

# What `snakemake snapshot` writes, and the snapshot this build is compared with, checked before any job.
SNAPSHOTS = "results/snapshots"
CHECKOUT = code_provenance(workflow.basedir)
SNAPSHOT_NAME = config["snapshot_name"] or snapshots.snapshot_name(CHECKOUT["git_commit"], CHECKOUT["git_dirty"])
BASELINE = snapshots.resolve_baseline(config["baseline"], SNAPSHOTS) if config["baseline"] else None
if BASELINE and (problem := snapshots.baseline_problem(BASELINE, DATASET)):
    configuration.stop_if("the baseline cannot be compared with", [problem])
BASELINE_RUNS, BASELINE_FILES = snapshots.baseline_runs(BASELINE) if BASELINE else ([], [])


wildcard_constraints:
    dataset=schema.dataset_pattern(config),
    figure="|".join(specs.FIGURES),
    question="q[123]",
    experiment="[a-z][a-z0-9_]*",
    variant="[^/]+",
    seed=r"\d+",
    look=r"[1-9]\d*",
    source="[0-9a-f]{12}",


@cache
def code_of(script, *modules):
    """A rule's code inputs: the package modules its entry script (and ``modules``) import, directly or
    not (homework1.plan.imports): an edit to one reruns exactly the jobs that run it."""
    return [str(file) for file in imports.closure(Path(workflow.basedir) / "scripts" / script, modules, SOURCE_DIR)]


# The study's plan (homework1.plan.targets) and its jobs' inputs; a look's decisions are read once it has run.
STUDY = Inputs(config, claims.read_claims(REPORT_COMPARISONS),
               decisions=lambda look: checkpoints.settle_look.get(dataset=DATASET, look=look).output.decisions)
RUNS, CLAIMS, TESTABLE = STUDY.runs, STUDY.claims, STUDY.testable
run_outputs, runs_so_far, study_runs, run_benchmarks = (STUDY.run_outputs, STUDY.runs_so_far, STUDY.study_runs,
                                                        STUDY.run_benchmarks)
run_summaries, study_metrics, run_metrics = STUDY.run_summaries, STUDY.study_metrics, STUDY.run_metrics
figure_metrics, figure_stems, figure_targets = STUDY.figure_metrics, STUDY.figure_stems, STUDY.figure_targets
runs_at_last_look, swept_experiments, run_hparams = STUDY.runs_at_last_look, STUDY.swept_experiments, STUDY.run_hparams
dataset_options, dataset_local_inputs, source_file = (STUDY.dataset_options, STUDY.dataset_local_inputs,
                                                      STUDY.source_file)
q2_resources, dataset_source, dataset_description = STUDY.q2_resources, STUDY.dataset_source, STUDY.dataset_description
built_run_files = STUDY.built_run_files
LEFTOVERS = Leftovers(workflow, run_benchmark)  # what earlier Snakemakes left here: runs, a lock


def training_code(question):
    """Input function: a training job's entry script and the modules it and its model's module import."""
    def lookup(w):
        script, model = f"train_{question}.py", STUDY.hparams(question, w.experiment, w.variant)["model"]
        return [str(Path(workflow.basedir) / "scripts" / script), *code_of(script, specs.module_name(question, model))]
    return lookup


def installed_dataset(question):
    """Input function: the installed data set (a checkpoint), once the run's earlier outputs are checked."""
    def lookup(w):
        installed = rules.install_dataset.output[0].format(dataset=w.dataset)
        LEFTOVERS.check(STUDY.run(question, w.experiment, w.variant, w.seed, w.dataset),
                        lambda: STUDY.configured_settings(question, w, installed))
        return checkpoints.install_dataset.get(dataset=w.dataset).output[0]
    return lookup


def last_look():
    return [rules.settle_look.output.decisions.format(dataset=DATASET, look=len(LOOKS))] if LOOKS else []


def dataset_code(w):
    """The entry script imports the data set's own source module by name: that one's code too."""
    return code_of("prepare_dataset.py", f"homework1.sources.{dataset_source(w.dataset)}")


def selection_tables(ext):
    return [rules.select_best.output[ext].format(question=q, experiment=e) for q, e in swept_experiments()]


def all_targets():
    """Everything the study makes; what one rule makes is named by that rule (rules.<name>.output)."""
    return (run_outputs(run_checks.SUMMARY_FILE)
            + [*rules.summary_tables.output, *rules.reproduction_tables.output, *rules.runtime_table.output]
            + selection_tables("csv") + selection_tables("md") + figure_targets()
            + [*rules.q3_checks.output, *rules.q3_figures.output, *rules.report_md.output, *rules.explorer.output]
            + last_look()
            + ([*rules.compare_to_baseline.output, *rules.changes_figures.output] if BASELINE else []))
