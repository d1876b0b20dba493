"""What the tests share: tiny data sets in the course's layout, the real workflow run by the real
Snakemake in a temporary directory, and one numba cache for the whole suite."""

from __future__ import annotations

import atexit
import copy
import io
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
import yaml
from PIL import Image

from homework1.config.schema import choices
from homework1.core.data import flatten_features, write_npz
from homework1.plan.study import RUNS_DIR
from homework1.sources import INTEL_CLASSES, INTEL_IMAGE_SHAPE, INTEL_SPLITS

REPO = Path(__file__).resolve().parents[1]
SOURCE = REPO / "src"

# numba's caches of the kernels never go into the checkout: the tests' own processes, and what they
# start with this checkout's src/, keep theirs in a temporary folder; a copy of the workflow carries
# caches compiled for it (``numba_cache``), which its jobs find beside the code (so they run without it).
NUMBA_CACHE = tempfile.mkdtemp(prefix="homework1-numba-")
atexit.register(shutil.rmtree, NUMBA_CACHE, ignore_errors=True)
os.environ["NUMBA_CACHE_DIR"] = NUMBA_CACHE


def workflow_environment(**changes) -> dict[str, str]:
    """The environment a copy of the workflow runs in: this one, with ``changes``, but without the
    tests' numba cache folder (its jobs read the caches the copy carries)."""
    return {name: value for name, value in os.environ.items() if name != "NUMBA_CACHE_DIR"} | changes


# Every implementation of the training loops (the config schema's), and the mark of tests that need a GPU.
IMPLEMENTATIONS = choices("implementation")
needs_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="this machine has no CUDA device")


# ---------------------------------------------------------------- tiny data sets

def image_arrays(sizes=(60, 12, 18), shape=(4, 4, 3), n_classes=3, spread=None, seed=0) -> dict:
    """uint8 images in the course's npz layout (train, val, test of ``sizes``), every class in
    every split. ``spread`` None: random pixels, for tests where content does not matter. Else
    class c's pixels scatter (std ``spread``) around a mean of its own, never 0: the models
    learn, and make mistakes."""
    rng = np.random.default_rng(seed)
    means = rng.uniform(60, 200, size=(n_classes, int(np.prod(shape))))
    arrays = {}
    for split, n in zip(("train", "val", "test"), sizes):
        labels = rng.permutation(np.arange(n) % n_classes)
        if spread is None:
            pixels = rng.integers(0, 256, size=(n, int(np.prod(shape))))
        else:
            pixels = np.clip(rng.normal(means[labels], spread), 1, 255)
        arrays[f"{split}_images"] = pixels.astype(np.uint8).reshape(n, *shape)
        arrays[f"{split}_labels"] = labels.reshape(-1, 1).astype(np.int64)
    return arrays


def image_splits(add_bias: bool, dtype=np.float64, **options) -> dict:
    """``image_arrays(**options)`` as a trainer reads them: {split: (features, labels)}."""
    arrays = image_arrays(**options)
    return {split: (flatten_features(arrays[f"{split}_images"], add_bias, dtype), arrays[f"{split}_labels"].ravel())
            for split in ("train", "val", "test")}


# The data of Question 2's tests: float features of 20 pixels, 3 classes, easy to learn.
N_FEATURES, N_CLASSES = 20, 3


def torch_splits(seed=0) -> dict:
    """{split: (float32 features, labels)}: 200 / 60 / 60 examples, a partial last batch of 32."""
    return image_splits(False, np.float32, sizes=(200, 60, 60), shape=(5, 4, 1), n_classes=N_CLASSES, spread=25,
                        seed=seed)


def quiet(_line):
    """A log that drops every line."""


@pytest.fixture(scope="session")
def digits_npz(tmp_path_factory) -> Path:
    """The workflow's default data set, built with its default settings."""
    from homework1.config.configuration import load
    from homework1.sources import digits

    path = tmp_path_factory.mktemp("digits") / "digits.npz"
    digits.build(path, **load()["digits"], log=quiet)
    return path


# ---------------------------------------------------------------- what runs leave behind

def run_file(run: str, kind: str = "summary.json") -> str:
    """A run's file below study.RUNS_DIR: ``run`` is dataset/question/experiment/variant/seedN."""
    return f"{RUNS_DIR}/{run}/{kind}"


def summary_row(question, experiment, variant, seed, dataset="intel_landscapes", **fields) -> dict:
    """One row of a run summary, as tables.read_summaries gives it: every statistic over seeds
    NaN unless given in ``fields`` (which may set any other column too)."""
    from homework1.analysis.tables import SEED_STATISTICS

    row = {"question": question, "experiment": experiment, "variant": variant, "model": "m", "seed": seed,
           "dataset": dataset, "status": "ok"}
    return row | dict.fromkeys(SEED_STATISTICS, math.nan) | fields


def flag(value):
    """A nullable boolean cell as True, False or None (NA)."""
    return None if pd.isna(value) else bool(value)


def write_run(folder: Path, history: list[dict], status: str = "ok", epochs: int | None = None, **fields) -> Path:
    """A run's metrics.csv and summary.json in ``folder``, written as a training job writes them
    (homework1.core.runs, with their checksums): ``history`` one dict per epoch; the settings ask for
    ``epochs`` (all of ``history`` by default); ``fields`` any other summary entries. Returns the summary."""
    from homework1.core.runs import TrainResult, write_run_outputs

    summary = {"status": status, "epochs_completed": len(history),
               "hparams": {"epochs": len(history) if epochs is None else epochs}} | fields
    write_run_outputs(TrainResult(history=history, test_acc=None, status=status), summary,
                      folder / "metrics.csv", folder / "summary.json")
    return folder / "summary.json"


# The public Intel Image Classification archive in miniature: seg_train/ and seg_test/ with a
# folder of JPEGs per class.
TRAIN_COUNTS = [10, 10, 10, 10, 10, 14]  # the 14 gives one class an extra val image
TEST_COUNT = 3


def colour(label: int, index: int) -> tuple[int, int, int]:
    """A solid colour per file, so each output image can be traced back to its file."""
    return (40 * label, 15 * index, 200)


def write_archive(root: Path, nested: bool) -> Path:
    for split, counts in (("seg_train", TRAIN_COUNTS), ("seg_test", [TEST_COUNT] * 6)):
        for label, (name, n) in enumerate(zip(INTEL_CLASSES, counts)):
            folder = root / split / (split if nested else "") / name
            folder.mkdir(parents=True)
            for index in range(n):
                size = (140, 150) if (label, index) == (2, 1) else (150, 150)
                Image.new("RGB", size, colour(label, index)).save(folder / f"{index:05d}.jpg")
    return root


def png_pixel() -> bytes:
    """A PNG of one pixel."""
    pixel = io.BytesIO()
    Image.new("RGB", (1, 1), (30, 60, 90)).save(pixel, "PNG")
    return pixel.getvalue()


def write_homework_shaped_archive(root: Path, train_per_class: int = 2339, test_per_class: int = 500) -> Path:
    """The archive at the homework's scale (6 x 2339 = 14034 training and 6 x 500 = 3000 test images,
    the public archive's totals) but of 1x1 PNGs: its build is the homework's shapes in seconds."""
    pixel = png_pixel()
    for split, count in (("seg_train", train_per_class), ("seg_test", test_per_class)):
        for name in INTEL_CLASSES:
            folder = root / split / name
            folder.mkdir(parents=True)
            for index in range(count):
                (folder / f"{index:05d}.png").write_bytes(pixel)
    return root


def write_homework_shaped_npz(path: Path) -> Path:
    """A file with exactly the homework's shapes (48x48 RGB, 6 classes, 12630/1404/3000), all pixels 0."""
    arrays = {}
    for split, n in INTEL_SPLITS.items():
        arrays[f"{split}_images"] = np.zeros((n, *INTEL_IMAGE_SHAPE), np.uint8)
        arrays[f"{split}_labels"] = (np.arange(n) % len(INTEL_CLASSES)).reshape(-1, 1)
    write_npz(path, arrays)
    return path


def zip_folder(folder: Path, out: Path) -> Path:
    with zipfile.ZipFile(out, "w") as archive:
        for path in sorted(folder.rglob("*")):
            archive.write(path, path.relative_to(folder).as_posix())
        archive.writestr("seg_pred/seg_pred/99999.jpg", b"unlabelled images are ignored")
    return out


# ---------------------------------------------------------------- two tiers

# The fixtures that run the real Snakemake (numba_cache: for a copy of the workflow): a test that uses
# one is in the slow tier (pytest -m slow), and so is a test marked slow by hand; `pytest -m "not slow"`
# runs the unit tests alone.
SNAKEMAKE_FIXTURES = {"workspace", "own_workspace", "shared_workflow", "numba_cache"}
RUNNING = {}  # {"test": the test being set up, run or torn down}


def pytest_itemcollected(item):
    if SNAKEMAKE_FIXTURES & set(getattr(item, "fixturenames", ())):
        item.add_marker(pytest.mark.slow)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    RUNNING["test"] = item


# ---------------------------------------------------------------- the real workflow

# A study every rule of the workflow runs for, in seconds (CI runs it after the Quickstart too).
TINY = yaml.safe_load((REPO / "tests" / "tiny_study.yaml").read_text())
# The training runs of the shipped study (config/config.yaml), one seed: 1.1a, 1.2a, 1.2b, 1.2d, 1.3a;
# 2.1 (3 learning rates), 2.2a (2 batch sizes), 2.2b (3 dropouts), 2.2c (2 momenta).
SHIPPED_RUNS = {"q1": 5, "q2": 10}
# The default profile (profiles/default) hides Snakemake's block per job; tests that read it ask for it.
JOB_DETAILS = ("--workflow-profile", "none")
# What a copy of the workflow needs.
WORKFLOW_FILES = ["Snakefile", "workflow", "profiles", "scripts", "src", "config", "envs"]


def tiny(**changes) -> dict:
    """TINY with top-level keys replaced (a deep copy: change it freely)."""
    return copy.deepcopy(TINY) | copy.deepcopy(changes)


def copy_workflow(target: Path) -> Path:
    """The workflow's files copied to ``target``, with numba's caches of the kernels compiled for a
    copy of the package (valid in every copy: numba checks the source's modification time, which
    the copies keep)."""
    target.mkdir(parents=True)
    for name in WORKFLOW_FILES:
        source = REPO / name
        if source.is_dir():
            shutil.copytree(source, target / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, target / name)
    for cache in COMPILED_SOURCE.rglob("__pycache__/*.nb[ic]"):
        destination = target / "src" / cache.relative_to(COMPILED_SOURCE)
        destination.parent.mkdir(exist_ok=True)
        shutil.copy2(cache, destination)
    return target


def snakemake_command(workdir: Path, config: dict, *args: str, repo: Path = REPO) -> list[str]:
    """The command running the real workflow of ``repo`` in ``workdir`` with ``config`` (only a test
    of the slow tier may run it)."""
    test = RUNNING.get("test")
    if test is not None and test.get_closest_marker("slow") is None:
        raise AssertionError(f"{test.nodeid} runs Snakemake: mark it slow (pytest.mark.slow)")
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
    result = subprocess.run(command, capture_output=True, text=True, timeout=900, cwd=workdir,
                            env=workflow_environment())
    if check and result.returncode != 0:
        raise AssertionError(f"snakemake failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    return result


def output_of(result: subprocess.CompletedProcess) -> str:
    return result.stdout + result.stderr


def nothing_to_do(result: subprocess.CompletedProcess) -> bool:
    return "Nothing to be done" in output_of(result)


def planned_jobs(result: subprocess.CompletedProcess) -> dict[str, int]:
    """{rule: count} from a dry run's job table."""
    text = output_of(result)
    table = text.split("Job stats:", 1)[1].split("total", 1)[0] if "Job stats:" in text else ""
    return {rule: int(count) for rule, count in re.findall(r"^(\w+)\s+(\d+)\s*$", table, re.M)}


class Workspace:
    """A work directory for the real workflow of ``repo`` (the suite's shared copy, or one of its own)."""

    def __init__(self, work: Path, repo: Path):
        self.work, self.repo = work, repo

    def run(self, config=TINY, *args, check=True) -> subprocess.CompletedProcess:
        return run_snakemake(self.work, config, *args, repo=self.repo, check=check)

    def edited(self, relative_path: str, text: str = "\n# an edit\n"):
        """A context in which ``text`` is appended to a file of the workflow; the file and its
        modification time are put back afterwards."""
        return _Edited(self.repo / relative_path, text)


class _Edited:
    def __init__(self, path: Path, text: str):
        self.path, self.text = path, text

    def __enter__(self):
        self.original, self.stat = self.path.read_text(), self.path.stat()
        self.path.write_text(self.original + self.text)

    def __exit__(self, *exc):
        self.path.write_text(self.original)
        os.utime(self.path, ns=(self.stat.st_atime_ns, self.stat.st_mtime_ns))


COMPILE_KERNELS = """
import numpy as np
from homework1 import q1
from homework1.core.data import flatten_features
from homework1.sources import INTEL_CLASSES
images = np.random.default_rng(0).integers(0, 256, size=(6, 2, 2, 1), dtype=np.uint8)
for model, hparams in (("perceptron", {}), ("logreg", dict(learning_rate=0.1, l2_penalty=0.0, l1_penalty=0.0)),
                       ("mlp", dict(learning_rate=0.1, hidden_size=3))):
    X = flatten_features(images, q1.uses_bias(model))
    q1.fit(model, {split: (X, np.arange(6) % 2) for split in ("train", "val", "test")}, seed=0,
           implementation="fast", epochs=1, log=lambda line: None, **hparams)
"""


COMPILED_SOURCE = SOURCE  # until numba_cache has compiled the kernels for the copies


@pytest.fixture(scope="session")
def numba_cache(tmp_path_factory):
    """numba compiles the kernels once per test process that copies the workflow, into a copy of
    the package, whose caches every copy of the workflow then carries (tests that run the kernels
    in their own process compile them there, into the tests' cache folder)."""
    global COMPILED_SOURCE
    compiled = tmp_path_factory.mktemp("compiled") / "src"
    shutil.copytree(SOURCE, compiled, ignore=shutil.ignore_patterns("__pycache__"))
    subprocess.run([sys.executable, "-c", COMPILE_KERNELS], env=workflow_environment(PYTHONPATH=str(compiled)),
                   check=True)
    COMPILED_SOURCE = compiled
    return compiled


@pytest.fixture(scope="session")
def shared_workflow(tmp_path_factory, numba_cache) -> Path:
    """One copy of the workflow for every test that does not change it lastingly (tests that
    edit one of its files put it back), so that every workflow the suite runs loads the kernels
    from one cache: the checkout's, copied along."""
    return copy_workflow(tmp_path_factory.mktemp("workflow") / "repo")


@pytest.fixture
def workspace(tmp_path, shared_workflow) -> Workspace:
    """A fresh work directory for the suite's shared copy of the workflow."""
    return Workspace(tmp_path / "work", shared_workflow)


@pytest.fixture
def own_workspace(tmp_path, numba_cache) -> Workspace:
    """A fresh work directory for a copy of the workflow of its own (for tests that change it)."""
    return Workspace(tmp_path / "work", copy_workflow(tmp_path / "repo"))
