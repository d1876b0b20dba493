"""The body of a training rule: load the data, train, write the run's metrics and summary."""

from __future__ import annotations

import os
import socket
import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from homework1.core.data import load_splits
from homework1.core.environment import core_sharing
from homework1.core.files import LockHeld, exclusive_lock, sha256_file, sha256_files
from homework1.job.joblog import job_log
from homework1.core.runs import STATUS_OK, code_provenance, summarize, write_run_outputs
from homework1.plan.specs import model_spec
from homework1.core.stopping import StopSignals

# What an attempt's header shows of the resources Snakemake gave it (they grow with the attempt).
SHOWN_RESOURCES = ("mem_mb", "runtime")


def attempt_header(snakemake, run: str) -> str:
    """The line that opens an attempt's log: which attempt of which run, where, with what."""
    resources = snakemake.resources
    given = ", ".join(f"{name} {resources.get(name)}" for name in SHOWN_RESOURCES if resources.get(name) is not None)
    return (f"{run}: attempt {resources.get('attempt', 1)} on {socket.gethostname()}, process {os.getpid()}"
            + (f"; {given}" if given else ""))


def run_lock_path(log) -> Path:
    """The lock a run's trainer holds: beside its log (``seed1.log`` -> ``seed1.lock``)."""
    return Path(log).with_suffix(".lock")


@contextmanager
def one_trainer(run: str, log):
    """Hold the run's lock while it trains (``files.exclusive_lock``): a second trainer of the same run
    (a rerun while the first still trains, orphaned by a Snakemake that was killed) ends at once,
    naming the first, instead of writing the same checkpoint and outputs beside it."""
    holder = f"host {socket.gethostname()}, process {os.getpid()}, since {time.strftime('%Y-%m-%d %H:%M:%S')}"
    try:
        with exclusive_lock(run_lock_path(log), holder):
            yield
    except LockHeld as err:
        raise LockHeld(f"{run}: another trainer of this run is running ({err.holder}); two would write the same "
                       f"checkpoint and outputs, so this one stops. Let that one end (it stops at the end of its "
                       f"epoch once its Snakemake has ended) or stop it, then rerun", err.holder) from None


def out_of_memory(err: BaseException) -> bool:
    """Whether a failure is an allocation that failed (numpy's MemoryError, torch's CPU or CUDA allocator)."""
    text = str(err)
    return isinstance(err, MemoryError) or "can't allocate memory" in text or "out of memory" in text


def memory_advice(err: BaseException, spec, hparams: dict) -> str:
    """What ran out, in one line, and the settings that set the size of the run's arrays."""
    sizes = [f"{name} {hparams[name]}" for name in (*spec.architecture, "batch_size")
             if name in hparams and isinstance(hparams[name], int)]
    first_line = " ".join(str(err).split())[:200] or type(err).__name__
    return (f"{spec.name} could not allocate its arrays ({first_line}); "
            + (f"its sizes, {', '.join(sizes)}, set how large they are: lower them, or " if sizes else "")
            + "give the job more memory (the rule's mem_mb)")


def run_training_job(snakemake, question: str, train, features_dtype=np.float64, checkpoint=None,
                     **train_options) -> None:
    """Train the run a training job's wildcards and params name, and write its outputs.

    ``train(model, splits, seed=..., log=..., stop=..., **hparams, **train_options)`` is the
    question's trainer; the model's spec says how its examples look, ``features_dtype`` what they
    are computed in. A ``checkpoint`` is bound to the run's data and code checksums, so that no
    other run resumes it. The job's one line on the terminal says how the run ended.
    """
    wildcards = snakemake.wildcards
    seed = snakemake.params.seed
    run = f"{question}/{wildcards.experiment}/{wildcards.variant} seed {seed}"
    # the stop signals are caught until the job's last line is written: from a terminal's Ctrl-C a job has
    # SIGINT and, later under load, Snakemake's SIGTERM, which would otherwise end it before its line
    with (StopSignals() as signals, job_log(snakemake.log[0], header=attempt_header(snakemake, run)) as log,
          one_trainer(run, snakemake.log[0])):
        hparams = dict(snakemake.params.hparams)
        model = hparams.pop("model")
        log(f"{run}: {model} {hparams} on {wildcards.dataset}")
        spec = model_spec(question, model)
        origin = {"dataset_sha256": sha256_file(snakemake.input.data),
                  "code_sha256": sha256_files(getattr(snakemake.input, "code", ()))}
        if checkpoint is not None:
            train_options["checkpoint"] = checkpoint.bound_to(origin)
        splits = load_splits(snakemake.input.data, add_bias=spec.bias, dtype=features_dtype, inputs=spec.inputs)
        try:
            result = train(model, splits, seed=seed, log=log, stop=signals.requested, **hparams, **train_options)
        except (MemoryError, RuntimeError) as err:
            if not out_of_memory(err):
                raise
            raise MemoryError(memory_advice(err, spec, hparams)) from err
        dataset = snakemake.params.dataset | {"sha256": origin["dataset_sha256"]}
        identity = {"question": question, "experiment": wildcards.experiment,
                    "variant": wildcards.variant, "seed": seed, "model": model}
        # the checkout the entry script lives in: the code that ran
        summary = (summarize(result, identity, hparams, dataset) | code_provenance(snakemake.scriptdir)
                   | {"code_sha256": origin["code_sha256"]} | core_sharing(snakemake.threads))
        write_run_outputs(result, summary, snakemake.output.metrics, snakemake.output.summary)
        outcome = f"test acc {result.test_acc:.4f}" if result.status == STATUS_OK else result.message
        log(f"{run}: {result.status}, {outcome}, {result.wall_time_s:.1f} s on {result.device}", terminal=True)
