"""What the workflow needs of the machine: UTF-8 whatever the locale, an interpreter path with a
space, and a working directory outside the checkout (homework1.core.environment)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import TINY, output_of, snakemake_command, workflow_environment
from homework1.core import environment

DATASET = "resources/datasets/digits.npz"  # one quick job


def test_jobs_import_this_checkouts_package_and_read_text_as_utf8(tmp_path):
    assert environment.job_environment(tmp_path / "src", "/elsewhere") == {
        "PYTHONPATH": f"{tmp_path / 'src'}{os.pathsep}/elsewhere", "PYTHONUTF8": "1"}
    assert environment.job_environment(tmp_path / "src")["PYTHONPATH"] == str(tmp_path / "src")


def test_an_interpreter_path_with_a_space_is_quoted_once(tmp_path):
    spaced = tmp_path / "my envs" / "python"
    spaced.parent.mkdir()
    spaced.touch()
    quoted = environment.shell_safe(str(spaced))
    assert quoted == f"'{spaced}'" and environment.shell_safe(quoted) == quoted
    assert environment.shell_safe(sys.executable) == sys.executable or " " in sys.executable


def test_a_working_directory_inside_the_checkout_is_named(tmp_path):
    (tmp_path / "results").mkdir()
    problem = environment.working_directory_problem(tmp_path / "results", tmp_path)
    # as `cd results && snakemake -s ../Snakefile --configfile ../my.yaml`: config.yaml would be dropped
    assert problem.startswith("snakemake runs in results/, a folder inside the workflow's checkout: "
                              "config/config.yaml would not be read")
    assert f"run it from {tmp_path}" in problem
    assert environment.working_directory_problem(tmp_path, tmp_path) is None
    assert environment.working_directory_problem(tmp_path.parent, tmp_path) is None  # -d elsewhere


def run(command, cwd, **env) -> subprocess.CompletedProcess:
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=600,
                          env=workflow_environment(**env))


def test_under_a_locale_without_utf8_the_workflow_and_its_jobs_run(workspace):
    # Python in ASCII mode: no locale coercion, no UTF-8 mode (sources hold non-ASCII characters)
    ascii_locale = {"LC_ALL": "C", "LANG": "C", "PYTHONCOERCECLOCALE": "0", "PYTHONUTF8": "0"}
    result = run(snakemake_command(workspace.work, TINY, DATASET, repo=workspace.repo), workspace.work,
                 **ascii_locale)
    assert result.returncode == 0, output_of(result)
    assert (workspace.work / DATASET).exists()


def test_an_interpreter_under_a_path_with_a_space_runs_the_jobs(workspace, tmp_path):
    if sys.prefix == sys.base_prefix:
        pytest.skip("the tests do not run in a virtual environment to reach under another path")
    spaced = tmp_path / "with space" / "venv"
    spaced.parent.mkdir()
    spaced.symlink_to(sys.prefix)  # the same environment, reached through a path with a space
    command = snakemake_command(workspace.work, TINY, DATASET, repo=workspace.repo)
    command[0] = str(spaced / "bin" / Path(sys.executable).name)
    result = run(command, workspace.work)
    assert result.returncode == 0, output_of(result)
    assert (workspace.work / DATASET).exists()
