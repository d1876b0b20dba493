"""The body of a training rule: load the data, train, write the run's metrics and summary."""

from __future__ import annotations

import os
import socket

import numpy as np

from homework1.data import load_splits
from homework1.files import sha256_file
from homework1.joblog import job_log
from homework1.runs import STATUS_OK, code_provenance, summarize, write_run_outputs
from homework1.specs import model_spec
from homework1.stopping import StopSignals

# What an attempt's header shows of the resources Snakemake gave it (they grow with the attempt).
SHOWN_RESOURCES = ("mem_mb", "runtime")


def attempt_header(snakemake, run: str) -> str:
    """The line that opens an attempt's log: which attempt of which run, where, with what."""
    resources = snakemake.resources
    given = ", ".join(f"{name} {resources.get(name)}" for name in SHOWN_RESOURCES if resources.get(name) is not None)
    return (f"{run}: attempt {resources.get('attempt', 1)} on {socket.gethostname()}, process {os.getpid()}"
            + (f"; {given}" if given else ""))


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


def run_training_job(snakemake, question: str, train, features_dtype=np.float64, **train_options) -> None:
    """Train the run a training job's wildcards and params name, and write its outputs.

    ``train(model, splits, seed=..., log=..., stop=..., **hparams, **train_options)`` is the
    question's trainer; the model's spec says how its examples look (flat, with or
    without the bias 1, or images), ``features_dtype`` what they are computed in (torch
    trains on float32). SIGTERM
    and SIGUSR1 stop the run at the end of an epoch (``homework1.stopping``).
    The job's one line on the terminal says how the run ended.
    """
    wildcards = snakemake.wildcards
    seed = snakemake.params.seed
    run = f"{question}/{wildcards.experiment}/{wildcards.variant} seed {seed}"
    # the stop signals are caught until the job's last line is written: from a terminal's Ctrl-C a job has
    # SIGINT and, later under load, Snakemake's SIGTERM, which would otherwise end it before its line
    with StopSignals() as signals, job_log(snakemake.log[0], header=attempt_header(snakemake, run)) as log:
        hparams = dict(snakemake.params.hparams)
        model = hparams.pop("model")
        log(f"{run}: {model} {hparams} on {wildcards.dataset}")
        spec = model_spec(question, model)
        splits = load_splits(snakemake.input.data, add_bias=spec.bias, dtype=features_dtype, inputs=spec.inputs)
        try:
            result = train(model, splits, seed=seed, log=log, stop=signals.requested, **hparams, **train_options)
        except (MemoryError, RuntimeError) as err:
            if not out_of_memory(err):
                raise
            raise MemoryError(memory_advice(err, spec, hparams)) from err
        dataset = snakemake.params.dataset | {"sha256": sha256_file(snakemake.input.data)}
        identity = {"question": question, "experiment": wildcards.experiment,
                    "variant": wildcards.variant, "seed": seed, "model": model}
        # the checkout the entry script lives in: the code that ran
        summary = summarize(result, identity, hparams, dataset) | code_provenance(snakemake.scriptdir)
        write_run_outputs(result, summary, snakemake.output.metrics, snakemake.output.summary)
        outcome = f"test acc {result.test_acc:.4f}" if result.status == STATUS_OK else result.message
        log(f"{run}: {result.status}, {outcome}, {result.wall_time_s:.1f} s on {result.device}", terminal=True)
