"""The rules' input functions and params that need the prepared configuration only, no Snakemake object:
the files, settings and resources a job's wildcards name (workflow/rules/*.smk binds them by name)."""

from __future__ import annotations

import os
from functools import cache

from homework1 import sources
from homework1.config.schema import dataset_descriptions, dataset_name
from homework1.core.files import sha256_file
from homework1.core.run_checks import METRICS_FILE, RUN_FILES, SUMMARY_FILE, beside
from homework1.plan.study import HOMEWORK_DATASET, RUNS_DIR, SYNTHETIC_DATASET, may_use_cuda, run_files
from homework1.plan.targets import Study


def summaries_beside(metrics: list[str]) -> list[str]:
    """The summaries of the runs whose metrics files are given (a reader checks each pair together)."""
    return [str(beside(path, SUMMARY_FILE)) for path in metrics]


def dataset_info(wildcards) -> dict:
    return {"name": wildcards.dataset, "synthetic": wildcards.dataset == SYNTHETIC_DATASET}


def attempt_resources(runtime: int, mem_mb: int) -> dict:
    """Time (minutes) and memory that grow with Snakemake's attempt, so that the retry of a job that ran
    out of either asks for more; and the attempt, which the job names in its log."""
    return {"runtime": lambda wildcards, attempt: runtime * attempt,
            "mem_mb": lambda wildcards, attempt: mem_mb * attempt,
            "attempt": lambda wildcards, attempt: attempt}


@cache
def installed_sha256(path: str) -> str | None:
    """The checksum of an installed data set (None: not installed), read once."""
    return sha256_file(path) if os.path.exists(path) else None


class Inputs(Study):
    """The study's plan with the files and settings its jobs take. Its data set goes by the name its
    files, tables and figures take (a file of one's own: the file's), built by its source: the
    config's ``dataset``, whose module of homework1.sources and config block build it."""

    def __init__(self, config: dict, *args, **kwargs):
        super().__init__(config, *args, **kwargs)
        self.dataset, self.dataset_source_name = dataset_name(config), config["dataset"]

    def dataset_source(self, dataset: str) -> str:
        """The source (module and config block) of the data set by this name."""
        return self.dataset_source_name if dataset == self.dataset else dataset

    def dataset_description(self, wildcards) -> str:
        """How figures and reports name the data set (its description in the config schema)."""
        return dataset_descriptions(self.config)[wildcards.dataset]

    def run_hparams(self, question: str):
        """Input function: the hyper-parameters of the run a job's wildcards name."""
        return lambda wildcards: self.hparams(question, wildcards.experiment, wildcards.variant)

    def configured_settings(self, question: str, wildcards, installed: str) -> dict:
        """What the summary of the run a training job's wildcards name must record to be this run as
        configured now: its settings and the checksum of its installed data set (the file ``installed``)."""
        return self.run_settings(question, wildcards.experiment, wildcards.variant, wildcards.seed,
                                 wildcards.dataset) | {"dataset_sha256": installed_sha256(installed)}

    def run_summaries(self, wildcards=None) -> list[str]:
        return run_files(self.study_runs(), SUMMARY_FILE)

    def built_run_files(self, wildcards=None) -> list[str]:
        """Every file of every run of the study (a snapshot copies them)."""
        return [f"{RUNS_DIR}/{run}/{name}" for run in self.study_runs() for name in RUN_FILES]

    def study_metrics(self, wildcards=None) -> list[str]:
        return run_files(self.study_runs(), METRICS_FILE)

    def run_metrics(self, dataset: str, question: str, experiment: str, variant: str | None = None) -> list[str]:
        return run_files(self.configuration_runs(dataset, question, experiment, variant), METRICS_FILE)

    def figure_metrics(self, wildcards) -> list[str]:
        return run_files(self.figure_runs(wildcards), METRICS_FILE)

    def q2_resources(self) -> dict:
        """Ask the cluster for a GPU only where the configured device may be CUDA."""
        return {"gpu": 1} if may_use_cuda(self.config["device"]) else {}

    def source_options(self, dataset: str) -> dict:
        """The config block of a data set, with unset ("") sources left out."""
        return {key: value for key, value in self.config[self.dataset_source(dataset)].items() if value != ""}

    def dataset_options(self, wildcards) -> dict:
        return self.source_options(wildcards.dataset)

    def source_file(self, pattern: str, dataset: str) -> str:
        """A file of rule dataset (its output or benchmark ``pattern``) for the data set's configured source."""
        return pattern.format(dataset=dataset, source=sources.source_key(self.source_options(dataset)))

    def dataset_local_inputs(self, wildcards) -> list[str]:
        """A user's own copy (npz or archive) is an input: replacing it rebuilds the data."""
        source, options = self.dataset_source(wildcards.dataset), self.dataset_options(wildcards)
        if source == sources.FILE_SOURCE:
            return [options["path"]] if "path" in options else []
        return sources.intel_local_inputs(options) if source == HOMEWORK_DATASET else []
