"""Whole lines on the terminal that Snakemake shares with the jobs it runs on this machine.

Snakemake 9's terminal handler (``ColorizingTextHandler.emit``), like ``print``, writes a message
and its newline in two writes, so a job's line can land between them. Snakemake's handlers, and the
workflow's own lines in its process, therefore write each line in one write, as the jobs do.
"""

from __future__ import annotations

import logging
import sys

SNAKEMAKE_LOGGER = "snakemake.logging"


class WholeLines:
    """A text stream that passes text on in one write once it ends a line (or is flushed)."""

    def __init__(self, stream):
        self.stream = stream
        self.pending = ""

    def write(self, text: str) -> int:
        self.pending += text
        if self.pending.endswith("\n"):
            self.flush()
        return len(text)

    def flush(self) -> None:
        if self.pending:
            text, self.pending = self.pending, ""
            self.stream.write(text)
        self.stream.flush()

    def __getattr__(self, name):  # isatty, fileno, encoding: the terminal's own
        return getattr(self.stream, name)


def write_whole_lines(logger_name: str = SNAKEMAKE_LOGGER) -> None:
    """Make the logger's handlers that write to the terminal write whole lines (see the module)."""
    for handler in logging.getLogger(logger_name).handlers:
        stream = getattr(handler, "stream", None)
        if isinstance(handler, logging.StreamHandler) and stream in (sys.stderr, sys.stdout):
            handler.setStream(WholeLines(stream))


def say(line: str, out=None) -> None:
    """One line on the terminal (stderr by default), in one write; none where the terminal has gone
    (closed: the write fails), so that saying it never stops what follows."""
    out = out if out is not None else sys.stderr
    try:
        out.write(line + "\n")
        out.flush()
    except (OSError, ValueError):  # EIO from a closed terminal, or a closed stream
        pass
