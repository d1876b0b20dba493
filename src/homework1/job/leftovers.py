"""What earlier Snakemakes left in this working directory, handled while the workflow plans: runs left
incomplete or damaged (checked with homework1.core.run_checks: kept where whole, trained again where
not), and a lock (its holder named in one line, homework1.job.locks). Used by workflow/rules/common.smk
with Snakemake's ``workflow`` object."""

from __future__ import annotations

import os
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

from homework1.core import run_checks, terminal
from homework1.core.files import atomic_write
from homework1.job import locks
from homework1.plan.study import RUNS_DIR

TRAINING_RULES = ("train_q1", "train_q2")
KEPT, RETRAINED = "whole and kept", "to train again"


def marked_incomplete(persistence, files: list[str]) -> list[str]:
    """Those of ``files`` Snakemake has marked incomplete (a job that started and never finished).
    Snakemake 9 has no public way to ask this synchronously while it plans; its persistence's
    ``_filter_incomplete_keys`` is what its own incomplete check calls, so the access stays here."""
    return list(persistence._filter_incomplete_keys(files))


def incomplete_summary(left: dict[str, list[str]]) -> str:
    """What the runs a stopped Snakemake left incomplete became, in words (empty: there were none)."""
    became = [f"{len(runs)} {what} ({', '.join(runs[:3])}{', ...' if len(runs) > 3 else ''})"
              for what, runs in left.items() if runs]
    return f"of the runs it left incomplete, {' and '.join(became)}" if became else ""


def write_unmeasured_benchmark(path) -> None:
    """A job's benchmark file that says nobody measured it: NA in every column, as Snakemake writes
    where it has no data (the job finished after its Snakemake was gone)."""
    from snakemake.benchmark import BenchmarkRecord

    header = BenchmarkRecord.get_header()
    text = "\t".join(header) + "\n" + "\t".join(["NA"] * len(header)) + "\n"
    atomic_write(path, lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))


class Leftovers:
    """The runs checked while Snakemake plans, what became of those left incomplete, and the lines
    saying so, held back while a lock is left that may stop this run in one line of its own.
    ``benchmark_of(run)``: the benchmark file of a run's training job."""

    def __init__(self, workflow, benchmark_of: Callable[[str], str]):
        self.workflow, self.benchmark_of = workflow, benchmark_of
        self.checked: set[str] = set()
        self.left_incomplete: dict[str, list[str]] = {KEPT: [], RETRAINED: []}
        self.held_back: list[str] = []

    def planning_to_run(self) -> bool:
        """Whether this is the Snakemake that runs (or dry-runs) the workflow: not the Snakemake of a job
        on a cluster node, nor --report, --touch or --unlock."""
        workflow = self.workflow
        return workflow.is_main_process and workflow.executor_plugin is not None and not workflow.touch

    def lock_dir(self) -> Path:
        """Where Snakemake keeps this working directory's lock (and homework1.job.locks its holder)."""
        return Path(self.workflow.persistence.path) / "locks"

    def say(self, line: str) -> None:
        """Said now or, while a lock is left here, once this Snakemake holds it."""
        if self.workflow.dryrun or not locks.lock_files(self.lock_dir()):
            terminal.say(line)
        else:
            self.held_back.append(line)

    def name_the_lock_holder(self) -> None:
        """Snakemake refuses a locked directory in a block that names no process. Instead, one line: who
        holds the lock (still running: wait; killed: --unlock, and what it left incomplete); and, once this
        Snakemake holds it, this process recorded as its holder. Wraps Snakemake's lock."""
        workflow = self.workflow
        persistence = workflow.persistence
        if (getattr(persistence.lock, "names_its_holder", False) or workflow.dryrun
                or not workflow.execution_settings.lock):
            return
        snakemake_lock = persistence.lock

        @contextmanager
        def lock_naming_its_holder():
            if persistence.locked:
                self.settle_left_incomplete(refused=True)
                incomplete = incomplete_summary(self.left_incomplete)
                terminal.say(f"ERROR: {locks.refusal(self.lock_dir(), incomplete=incomplete)}")
                raise SystemExit(1)
            with snakemake_lock():
                holder = locks.record_owner(self.lock_dir())
                self.settle_left_incomplete(refused=False)
                for line in self.held_back:
                    terminal.say(line)
                try:
                    yield
                finally:
                    holder.unlink(missing_ok=True)

        lock_naming_its_holder.names_its_holder = True
        persistence.lock = lock_naming_its_holder

    def check(self, run: str, configured_settings: Callable[[], dict]) -> None:
        """A run's existing outputs, checked while Snakemake plans it, before it looks for incomplete
        ones. Damaged ones are trained again, in one line each (Snakemake's forced files). Those a stopped
        Snakemake left marked incomplete are kept where whole, agreeing with their checksums and made by the
        settings configured now (``configured_settings()``), and trained again where not; either way their
        mark is cleared, as --cleanup-metadata does. Runs are left alone unless the lock is free or held
        only by Snakemakes that have ended."""
        workflow = self.workflow
        if run in self.checked or not self.planning_to_run():
            return
        self.checked.add(run)
        self.name_the_lock_holder()
        if not locks.held_by_the_dead(self.lock_dir()):
            return
        files = [f"{RUNS_DIR}/{run}/{name}" for name in run_checks.RUN_FILES]
        marked = marked_incomplete(workflow.persistence, files)
        if not marked and not any(os.path.exists(path) for path in files):
            return
        try:
            outputs = run_checks.read_run(*files)
            problem = None
            if marked:
                problem = ("its files differ from the checksums its job recorded" if outputs.edited
                           else run_checks.settings_differ(outputs.summary, configured_settings()))
        except run_checks.DamagedRun as err:
            problem = str(err)
        if marked:
            self.kept_or_retrained(run, files, problem)
        elif problem:
            self.say(f"{problem}; the run is trained again")
        if problem:
            workflow.dag.forcefiles.update(files)

    def kept_or_retrained(self, run: str, files: list[str], problem: str | None) -> None:
        """A run left incomplete: said, its mark and earlier record cleared, an NA benchmark where kept
        without one (else Snakemake would retrain it for its missing benchmark file)."""
        workflow = self.workflow
        self.left_incomplete[RETRAINED if problem else KEPT].append(run)
        unmeasured = not problem and not os.path.exists(self.benchmark_of(run))
        self.say(f"{run}: left incomplete by a Snakemake that was stopped; " + (
            f"trained again: {problem}" if problem else "its files are whole and record the settings configured "
            "now: kept"
            + (" (its time and memory were not measured: NA in the runtime table)" if unmeasured else "")
            + (" (this dry run changes nothing: Snakemake lists it as incomplete)" if workflow.dryrun else "")))
        if not workflow.dryrun:
            from snakemake.io import IOFile

            for path in files:
                workflow.persistence.cleanup_metadata(IOFile(path))
            if unmeasured:
                write_unmeasured_benchmark(self.benchmark_of(run))

    def settle_left_incomplete(self, refused: bool) -> None:
        """Once Snakemake has planned and met its lock: each run kept gets the record Snakemake writes when
        it sees a job end (persistence.finished; without it a later change of its settings would go
        unnoticed); each to train again, where this Snakemake stops at a refused lock, gets its incomplete
        mark back (persistence.started), so that the next run finds it as this one did."""
        workflow = self.workflow
        jobs = {str(job.output.summary): job for job in workflow.dag.jobs if job.rule.name in TRAINING_RULES}
        for run in self.left_incomplete[KEPT]:
            if job := jobs.get(f"{RUNS_DIR}/{run}/{run_checks.SUMMARY_FILE}"):
                workflow.async_run(workflow.persistence.finished(job))
        for run in self.left_incomplete[RETRAINED] if refused else []:
            if job := jobs.get(f"{RUNS_DIR}/{run}/{run_checks.SUMMARY_FILE}"):
                workflow.persistence.started(job)

    def runs_not_being_written(self, run_files: list[str]) -> list:
        """Nothing, once no other Snakemake holds a lock on any of ``run_files`` (Snakemake's own lock would
        not stop a snapshot: it writes other files). Else one line naming the holder, and a stop: a
        snapshot taken beside a rebuild would mix runs of both."""
        if self.planning_to_run():
            self.name_the_lock_holder()
            if written := sorted(locks.locked_outputs(self.lock_dir()) & set(run_files)):
                writes = f"{len(written)} file(s) of this study's runs (first: {written[0]})"
                terminal.say(f"ERROR: no snapshot taken: {locks.refusal(self.lock_dir(), writes=writes)}")
                raise SystemExit(1)
        return []
