"""What every workflow entry script shares: a log file for the job and clear failures."""

from __future__ import annotations

import logging
import sys
from contextlib import contextmanager
from pathlib import Path

from homework1.data import DataError


@contextmanager
def job_log(path, name: str = "homework1"):
    """Log to ``path`` and to stderr; yield a print-like ``log`` function.

    A data error is logged as one clear line (no traceback: the message says
    what is wrong and where); anything else with its traceback. Both re-raise,
    so Snakemake marks the job failed and removes its partial outputs.
    """
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    logger = logging.getLogger(name)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    formatter = logging.Formatter("%(asctime)s %(message)s", datefmt="%H:%M:%S")
    handlers = [logging.FileHandler(path, mode="w"), logging.StreamHandler(sys.stderr)]
    for handler in handlers:
        handler.setFormatter(formatter)
        logger.addHandler(handler)

    def log(*parts) -> None:
        logger.info(" ".join(str(part) for part in parts))

    try:
        yield log
    except DataError as err:
        logger.error("ERROR: %s", err)
        raise SystemExit(1) from err
    except Exception:
        logger.exception("ERROR: the job failed")
        raise
    finally:
        for handler in handlers:
            logger.removeHandler(handler)
            handler.close()


def run_training_job(snakemake, question: str, train, add_bias, **train_options) -> None:
    """The body of a training rule: load the data, train, write metrics and summary.

    ``train(model, splits, seed=..., log=..., **hparams, **train_options)`` is the
    question's trainer; ``add_bias(model)`` says whether its features get the bias 1.
    """
    # imported here, not at the top: the many jobs that only log need no runs.py
    from homework1.data import load_splits, sha256_file
    from homework1.runs import summarize, write_run_outputs

    wildcards = snakemake.wildcards
    with job_log(snakemake.log[0]) as log:
        hparams = dict(snakemake.params.hparams)
        model = hparams.pop("model")
        seed = snakemake.params.seed
        log(f"{question}/{wildcards.experiment}/{wildcards.variant} seed {seed}: "
            f"{model} {hparams} on {wildcards.dataset}")
        splits = load_splits(snakemake.input.data, add_bias=add_bias(model))
        result = train(model, splits, seed=seed, log=log, **hparams, **train_options)
        dataset = snakemake.params.dataset | {"sha256": sha256_file(snakemake.input.data)}
        identity = {"question": question, "experiment": wildcards.experiment,
                    "variant": wildcards.variant, "seed": seed, "model": model}
        summary = summarize(result, identity, hparams, dataset)
        write_run_outputs(result, summary, snakemake.output.metrics, snakemake.output.summary)
        log(f"status {result.status}: test accuracy {result.test_acc} on {result.device}"
            + (f" ({result.message})" if result.message else ""))
