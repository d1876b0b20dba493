"""Shared fixtures: tiny data sets in the course's layout and a real Snakemake runner."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]


def make_arrays(n_train=60, n_val=12, n_test=18, shape=(4, 4, 3), n_classes=3, seed=0):
    """Random images in the course's npz layout, every class in every split."""
    rng = np.random.default_rng(seed)
    arrays = {}
    for split, n in (("train", n_train), ("val", n_val), ("test", n_test)):
        arrays[f"{split}_images"] = rng.integers(0, 256, size=(n, *shape), dtype=np.uint8)
        arrays[f"{split}_labels"] = (np.arange(n) % n_classes).reshape(n, 1).astype(np.int64)
    return arrays


@pytest.fixture
def tiny_arrays():
    return make_arrays()


def snakemake_command(workdir: Path, config: dict, *args: str, repo: Path = REPO) -> list[str]:
    """The command running the real workflow of ``repo`` in ``workdir`` with ``config``."""
    workdir.mkdir(parents=True, exist_ok=True)
    config_path = workdir / "config.yaml"
    config_path.write_text(yaml.safe_dump(config))
    # As a module of this interpreter: works wherever snakemake is importable, script on PATH or not.
    return [sys.executable, "-m", "snakemake", "-s", str(repo / "Snakefile"), "-d", str(workdir),
            "--configfile", str(config_path), "--cores", "2", *args]


def run_snakemake(workdir: Path, config: dict, *args: str, repo: Path = REPO,
                  check: bool = True) -> subprocess.CompletedProcess:
    """Run the real workflow of ``repo`` in ``workdir`` with ``config`` (and extra CLI args)."""
    command = snakemake_command(workdir, config, *args, repo=repo)
    # run from the work directory: Snakemake then finds the default profile beside the Snakefile
    result = subprocess.run(command, capture_output=True, text=True, timeout=900, cwd=workdir)
    if check and result.returncode != 0:
        raise AssertionError(f"snakemake failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    return result


# The default profile (profiles/default) hides Snakemake's block per job; tests that read it ask for it.
JOB_DETAILS = ("--workflow-profile", "none")


def nothing_to_do(result: subprocess.CompletedProcess) -> bool:
    return "Nothing to be done" in result.stdout + result.stderr
