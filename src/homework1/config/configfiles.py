"""The ``--configfile`` files of a command line, checked before Snakemake reads them.

Snakemake 9 reads them before it reads the workflow, and says of a missing one a traceback,
of an empty or list-shaped one "Config file must be given as JSON or YAML with keys at top
level", of broken YAML "Config file is not valid JSON or YAML": naming neither the file nor
the line. The workflow's profiles call ``stop_on_bad_configfiles`` while Snakemake reads them,
which is before: each bad file gets one line naming it (and the line at fault), and Snakemake
stops there.

Standard library and PyYAML only (Snakemake's own dependency): it runs inside Snakemake's
command-line parsing.
"""

from __future__ import annotations

import sys
from pathlib import Path

import yaml

OPTIONS = ("--configfile", "--configfiles")


def configfile_arguments(argv: list[str]) -> list[str]:
    """The files a Snakemake command line gives ``--configfile`` (or ``--configfiles``): each option
    takes the arguments after it up to the next option, or one after ``=``."""
    files, taking = [], False
    for argument in argv:
        option, equals, value = argument.partition("=")
        if option in OPTIONS:
            taking = not equals
            files += [value] if equals else []
        elif argument.startswith("-"):
            taking = False
        elif taking:
            files.append(argument)
    return files


def configfile_problem(path: str) -> str | None:
    """What keeps ``path`` from being a config file (a YAML mapping of settings), in a few words; None
    if nothing does."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        return "no such file"
    except (OSError, UnicodeDecodeError) as err:
        return f"cannot be read ({err.strerror if isinstance(err, OSError) else 'not UTF-8 text'})"
    try:
        content = yaml.safe_load(text)
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        return f"{where}not valid YAML ({err.problem or err.context})"
    except yaml.YAMLError as err:
        return f"not valid YAML ({err})"
    if content is None:
        return "it is empty: a config file maps settings to values, as config/config.yaml does"
    if not isinstance(content, dict):
        return (f"it holds a {type(content).__name__}, not a mapping of settings to values as "
                f"config/config.yaml does")
    return None


def stop_on_bad_configfiles(argv: list[str], out=sys.stderr) -> None:
    """One line for each bad ``--configfile`` of ``argv``, then exit (see the module)."""
    problems = [(path, problem) for path in configfile_arguments(argv) if (problem := configfile_problem(path))]
    for path, problem in problems:
        out.write(f"ERROR: --configfile {path}: {problem}\n")
    if problems:
        out.flush()
        raise SystemExit(1)
