"""What every workflow entry script shares: a log file for the job and clear failures.

Only the job's log and terminal lines depend on this module, so it is left out of the rules' code
inputs (``ONLY_FORMATS_LOGS``): editing a log line reruns nothing.
"""

from __future__ import annotations

import errno
import logging
import sys
from contextlib import contextmanager
from pathlib import Path

from homework1.core.files import FileProblem
from homework1.core.stopping import STOPPED_EXIT_STATUS, StopRequested

ONLY_FORMATS_LOGS = True  # read by homework1.plan.imports

# Failures to write that a user fixes on their side: (the cause, what to do).
DISK_PROBLEMS = {
    errno.ENOSPC: ("no space left on device", "free some space there"),
    errno.EDQUOT: ("disk quota exceeded", "free some space there or raise the quota"),
    errno.EACCES: ("permission denied", "make it writable for you"),
    errno.EPERM: ("operation not permitted", "make it writable for you"),
    errno.EROFS: ("read-only file system", "make it writable, or run the workflow in a writable directory"),
}


def failure_message(err: BaseException) -> str | None:
    """One line for a failure the user can fix without a traceback (a FileProblem, a full or
    unwritable disk, naming its path), else None."""
    if isinstance(err, (FileProblem, StopRequested)):
        return str(err)
    if isinstance(err, MemoryError):  # a training job names the settings that set its size
        return f"out of memory: {err}" if str(err) else "out of memory"
    if isinstance(err, OSError) and err.errno in DISK_PROBLEMS:
        cause, remedy = DISK_PROBLEMS[err.errno]
        where = err.filename or "an output of this job"
        return (f"cannot write {where}: {cause}. To fix: {remedy}, then rerun the workflow; "
                f"earlier results and checkpoints are unchanged")
    return None


def _terminal_lines(record: logging.LogRecord) -> bool:
    return record.levelno >= logging.ERROR or getattr(record, "terminal", False)


def attempts_log(path) -> Path:
    """Beside a job's log, the log of every attempt: ``seed1.log`` -> ``seed1.attempts.log``."""
    path = Path(path)
    return path.with_name(f"{path.stem}.attempts{path.suffix}")


@contextmanager
def job_log(path, name: str = "homework1", header: str | None = None):
    """Log to ``path``; yield ``log(*parts, terminal=False)``, a print-like function.

    The log file gets every line; the terminal only errors and lines logged with ``terminal=True``.
    With a ``header`` (the job's attempt), every line also goes to ``attempts_log(path)``, which
    Snakemake does not empty between attempts. A failure the user can fix is one line, others
    their traceback; either names the log and re-raises, so Snakemake marks the job failed.
    """
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    logger = logging.getLogger(name)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    files = [logging.FileHandler(path, mode="w")]
    if header is not None:
        files.append(logging.FileHandler(attempts_log(path), mode="a"))
    for handler in files:
        handler.setFormatter(logging.Formatter("%(asctime)s %(message)s", datefmt="%H:%M:%S"))
    to_terminal = logging.StreamHandler(sys.stderr)
    to_terminal.addFilter(_terminal_lines)
    handlers = [*files, to_terminal]
    for handler in handlers:
        logger.addHandler(handler)
    # a library's warnings (a figure without a legend, say) go to the file too, not to the terminal
    logging.captureWarnings(True)
    warnings_logger = logging.getLogger("py.warnings")
    warnings_logger.propagate = False
    for handler in files:
        warnings_logger.addHandler(handler)
    if header is not None:
        logger.info("==== %s", header)

    def log(*parts, terminal: bool = False) -> None:
        logger.info(" ".join(str(part) for part in parts), extra={"terminal": terminal})

    try:
        yield log
    except Exception as err:
        message = failure_message(err)
        if message is None:
            logger.exception("ERROR: the job failed (log: %s)", path)
            raise
        logger.error("ERROR: %s (log: %s)", message, path)
        raise SystemExit(STOPPED_EXIT_STATUS if isinstance(err, StopRequested) else 1) from err
    finally:
        logging.captureWarnings(False)
        for handler in files:
            warnings_logger.removeHandler(handler)
        for handler in handlers:
            logger.removeHandler(handler)
            handler.close()
