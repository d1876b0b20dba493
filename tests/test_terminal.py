"""Snakemake's terminal lines reach the terminal whole, so a job's line cannot split them."""

import io
import logging

import pytest
from snakemake.logging import ColorizingTextHandler

from homework1.core.terminal import WholeLines, say, write_whole_lines


class Writes(io.RawIOBase):
    """A terminal that records each write reaching it (each a system call on a real one)."""

    def __init__(self):
        self.writes = []

    def writable(self):
        return True

    def write(self, data):
        self.writes.append(bytes(data))
        return len(data)


def terminal() -> tuple[Writes, io.TextIOWrapper]:
    raw = Writes()  # as Python's stderr: text written through to the file at once
    return raw, io.TextIOWrapper(raw, encoding="utf-8", write_through=True)


def record(message: str) -> logging.LogRecord:
    return logging.LogRecord("snakemake.logging", logging.INFO, __file__, 1, message, None, None)


@pytest.mark.parametrize("whole", [False, True], ids=["Snakemake's own handler", "with whole lines"])
def test_snakemakes_terminal_handler_writes_each_line_in_one_write_once_made_to(whole):
    raw, stream = terminal()
    handler = ColorizingTextHandler(nocolor=True, stream=stream)
    if whole:
        handler.setStream(WholeLines(stream))
    handler.emit(record("3 of 51 steps (6%) done"))
    handler.emit(record("Job stats:\njob  count\ntotal  3"))
    if whole:  # a job's line written between any two writes starts a line of its own
        assert raw.writes == [b"3 of 51 steps (6%) done\n", b"Job stats:\njob  count\ntotal  3\n"]
    else:  # the flaw this guards against: a job's line written in between is glued to the message
        assert raw.writes[:2] == [b"3 of 51 steps (6%) done", b"\n"]


def test_whole_lines_passes_a_line_on_when_it_ends_or_is_flushed_and_answers_as_the_terminal():
    raw, stream = terminal()
    lines = WholeLines(stream)
    lines.write("half ")
    assert raw.writes == []
    lines.write("a line\nand a start")  # kept until its last line ends too
    assert raw.writes == []
    lines.write(" ended\n")
    assert raw.writes == [b"half a line\nand a start ended\n"]
    lines.write("no newline")
    lines.flush()  # flushing shows what is there
    assert raw.writes[-1] == b"no newline"
    assert lines.encoding == "utf-8" and lines.writable()


def test_the_workflow_wraps_only_the_handlers_that_write_to_the_terminal_once(monkeypatch):
    raw, stream = terminal()
    monkeypatch.setattr("sys.stderr", stream)
    logger = logging.getLogger("test_terminal.snakemake")
    to_terminal, to_elsewhere = logging.StreamHandler(stream), logging.StreamHandler(io.StringIO())
    for handler in (to_terminal, to_elsewhere):
        logger.addHandler(handler)
    try:
        write_whole_lines(logger.name)
        write_whole_lines(logger.name)  # twice: still one wrapper
        assert isinstance(to_terminal.stream, WholeLines) and to_terminal.stream.stream is stream
        assert isinstance(to_elsewhere.stream, io.StringIO)
    finally:
        for handler in (to_terminal, to_elsewhere):
            logger.removeHandler(handler)


def test_a_line_said_in_snakemakes_process_is_one_write():
    raw, stream = terminal()
    say("Interrupted: 1 running job process(es) asked to stop", stream)
    assert raw.writes == [b"Interrupted: 1 running job process(es) asked to stop\n"]
