"""The body of a training rule: load the data, train, write the run's metrics and summary."""

from __future__ import annotations

import numpy as np

from homework1.data import load_splits
from homework1.files import sha256_file
from homework1.joblog import job_log
from homework1.runs import STATUS_OK, code_provenance, summarize, write_run_outputs


def run_training_job(snakemake, question: str, train, add_bias, features_dtype=np.float64,
                     **train_options) -> None:
    """Train the run a training job's wildcards and params name, and write its outputs.

    ``train(model, splits, seed=..., log=..., **hparams, **train_options)`` is the
    question's trainer; ``add_bias(model)`` says whether its features get the bias 1,
    ``features_dtype`` what they are computed in (torch trains on float32).
    The job's one line on the terminal says how the run ended.
    """
    wildcards = snakemake.wildcards
    with job_log(snakemake.log[0]) as log:
        hparams = dict(snakemake.params.hparams)
        model = hparams.pop("model")
        seed = snakemake.params.seed
        run = f"{question}/{wildcards.experiment}/{wildcards.variant} seed {seed}"
        log(f"{run}: {model} {hparams} on {wildcards.dataset}")
        splits = load_splits(snakemake.input.data, add_bias=add_bias(model), dtype=features_dtype)
        result = train(model, splits, seed=seed, log=log, **hparams, **train_options)
        dataset = snakemake.params.dataset | {"sha256": sha256_file(snakemake.input.data)}
        identity = {"question": question, "experiment": wildcards.experiment,
                    "variant": wildcards.variant, "seed": seed, "model": model}
        # the checkout the entry script lives in: the code that ran
        summary = summarize(result, identity, hparams, dataset) | code_provenance(snakemake.scriptdir)
        write_run_outputs(result, summary, snakemake.output.metrics, snakemake.output.summary)
        outcome = f"test acc {result.test_acc:.4f}" if result.status == STATUS_OK else result.message
        log(f"{run}: {result.status}, {outcome}, {result.wall_time_s:.1f} s on {result.device}", terminal=True)
