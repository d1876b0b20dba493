"""Bad input, each case built here: one clear line naming the key or the file, in bounded memory,
before any job where possible (issue: bounded reads, messages that lead with the cause)."""

from __future__ import annotations

import io
import resource
import subprocess
import sys
import textwrap
import zipfile

import numpy as np
import pandas as pd
import pytest
import yaml

from PIL import Image

from conftest import (REPO, SOURCE, TINY, image_arrays, nothing_to_do, output_of, png_pixel, tiny, write_archive,
                      write_homework_shaped_archive, write_homework_shaped_npz, write_run)
from homework1.config import configuration
from homework1.present import figures
from homework1 import sources
from homework1.present.plotting import read_metrics
from homework1.core.data import MAX_DATASET_BYTES, DataError, read_npz, validate_arrays
from homework1.sources import ARCHIVE_TOLERANCE, INTEL_SPLITS, digits, intel_landscapes
from homework1.sources.intel_landscapes import MAX_COMPRESSION_RATIO, MAX_IMAGE_FILE_BYTES

# The memory a check of a corrupt file may take, at most: its address space is limited to this.
MEMORY_LIMIT = 1_500_000_000



def in_limited_memory(code: str) -> str:
    """Run ``code`` in a Python whose address space is limited to MEMORY_LIMIT; what it printed
    (a DataError's message). A MemoryError, or any other error, fails the test."""
    def limit():
        resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))

    program = ("from homework1.core.data import DataError\ntry:\n" + textwrap.indent(textwrap.dedent(code), "    ")
               + "\nexcept DataError as err:\n    print(err)\n")
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, timeout=120,
                          preexec_fn=limit,
                          env={"PYTHONPATH": str(SOURCE), "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"})
    assert done.returncode == 0, done.stderr[-500:]
    return done.stdout


def zeros_member(archive: zipfile.ZipFile, name: str, n_bytes: int, header: bytes = b"") -> None:
    """A member of ``n_bytes`` zeros after ``header``, written in pieces: its file takes a few MB."""
    with archive.open(name, "w", force_zip64=True) as member:
        member.write(header)
        piece = bytes(64 << 20)
        for start in range(0, n_bytes, len(piece)):
            member.write(piece[:min(len(piece), n_bytes - start)])


HUGE_LABEL = """
import numpy as np
from homework1.core.data import validate_arrays
arrays = {f"{split}_images": np.zeros((5, 2, 2, 1), np.uint8) for split in ("train", "val", "test")}
arrays |= {f"{split}_labels": np.zeros((5, 1), np.int64) for split in ("train", "val", "test")}
arrays["train_labels"][0, 0] = 10**8
validate_arrays(arrays, "huge.npz")
"""


def test_a_huge_label_is_refused_in_bounded_memory():
    assert in_limited_memory(HUGE_LABEL).startswith(
        "huge.npz: array 'train_labels' has no example of 99999999 of its 100000001 classes (classes 0..100000000; "
        "first missing: [1, 2, 3,")


def test_a_file_that_is_no_npz_is_named_as_such(tmp_path):
    text = tmp_path / "data.npz"
    text.write_text("a text file with the wrong name")
    with pytest.raises(DataError, match=r"data.npz: not an npz file \(an npz is a zip archive") as caught:
        read_npz(text)
    assert "pickle" not in str(caught.value)


def test_images_without_pixels_are_refused(tmp_path):
    arrays = image_arrays()
    arrays = {name: (np.zeros((len(value), 0, 0, 3), np.uint8) if name.endswith("images") else value)
              for name, value in arrays.items()}
    with pytest.raises(DataError, match=r"'train_images' has images of shape \(0, 0, 3\): an image needs at least"):
        validate_arrays(arrays, "empty.npz")


@pytest.mark.parametrize("overrides, message", [
    ({"seed": [1, 2]}, "the configuration: unknown key 'seed'; allowed here: baseline, checkpoint_every, dataset,"),
    ({"q2": {"ffn_dropout": {"dropout": [0.25, 0.25]}}},
     "q2.ffn_dropout.dropout: [0.25, 0.25] has a duplicate value: a sweep lists each value once"),
    ({"dataset": "mnist"},
     "dataset: 'mnist' is not allowed; choose one of digits, intel_landscapes, synthetic_intel, npz"),
    ({"q1": {"perceptron": {"epochs": 0}}}, "q1.perceptron.epochs: 0 is below the minimum, 1"),
    ({"q1": {"perceptron": {"epochz": 3}}}, "q1.perceptron: unknown key 'epochz'; allowed here: epochs,"),
])
def test_a_schema_error_leads_with_the_key_and_the_rule(overrides, message):
    with pytest.raises(configuration.ConfigError) as caught:
        configuration.load(overrides=overrides)
    lines = str(caught.value).splitlines()
    assert any(line.strip().startswith(f"- {message}") for line in lines), lines
    assert len(lines) <= 3


def test_a_path_in_the_home_folder_may_start_with_a_tilde(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    write_homework_shaped_npz(tmp_path / "intel.npz")
    config = configuration.load(overrides={"dataset": "intel_landscapes", "intel_landscapes": {"path": "~/intel.npz"}})
    assert config["intel_landscapes"]["path"] == str(tmp_path / "intel.npz")


def test_a_run_the_last_stop_left_incomplete_is_redone_not_refused():
    profile = yaml.safe_load((REPO / "profiles/default/config.yaml").read_text())
    assert profile["rerun-incomplete"] is True


def test_the_forest_plot_says_what_was_tested():
    one_seed = pd.DataFrame({"p": [np.nan, np.nan]})
    assert figures.forest_method(one_seed, 0.05) == "no claim tested: each needs two seeds or more on both sides"
    assert (figures.forest_method(pd.DataFrame({"p": [0.01, np.nan]}), 0.05)
            == "95%, Holm-adjusted over the 1 claim tested")


def test_curves_that_lie_on_one_another_stay_told_apart(monkeypatch):
    # plain and L2 logistic regression with the very same sparsity: both lines must be seen
    drawn = []
    monkeypatch.setattr(figures, "save", lambda fig, *paths: drawn.append(fig))
    runs = pd.DataFrame([{"experiment": experiment, "variant": "default", "seed": 1, "epoch": epoch,
                          "zero_weight_fraction": 0.1} for experiment in ("logreg", "logreg_l2")
                         for epoch in range(1, 21)])
    figures.sparsity(runs, "digits")
    lines = drawn[0].axes[0].get_lines()
    assert len(lines) == 2 and len({(line.get_linestyle(), line.get_marker()) for line in lines}) == 2


def test_an_archive_image_larger_than_an_image_may_be_is_refused_unread(tmp_path):
    # a zip bomb where a training image would be: 8 MB on disk, 1.6 GB once inflated
    archive = tmp_path / "bomb.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as bomb:
        zeros_member(bomb, "seg_train/forest/00000.jpg", 1600 << 20)
        for split in ("seg_train", "seg_test"):
            bomb.writestr(f"{split}/forest/00001.png", png_pixel())
    printed = in_limited_memory(f"""
        from homework1.sources.intel_landscapes import build_from_archive
        build_from_archive({str(archive)!r}, {str(tmp_path / "out.npz")!r}, seed=0)
    """)
    assert printed == (f"{archive}: seg_train/forest/00000.jpg is 1600 MiB, more than an image may be "
                       f"({MAX_IMAGE_FILE_BYTES >> 20} MiB); it was not read\n")
    assert not (tmp_path / "out.npz").exists()


def test_an_archive_image_that_inflates_a_thousandfold_is_refused_unread(tmp_path):
    archive = tmp_path / "bomb.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as bomb:
        zeros_member(bomb, "seg_train/forest/00000.jpg", 8 << 20)
    source = intel_landscapes._Archive(archive)
    with pytest.raises(DataError, match=r"seg_train/forest/00000.jpg would inflate \d+-fold to 8 MiB, more than "
                                        rf"the {MAX_COMPRESSION_RATIO}-fold an image may; it was not read"):
        source.read("seg_train/forest/00000.jpg")


def test_an_image_of_too_many_pixels_is_refused_before_it_is_decoded(tmp_path):
    root = tmp_path / "archive"
    (root / "seg_train/forest").mkdir(parents=True)
    Image.new("L", (5000, 5000)).save(root / "seg_train/forest/00000.png")
    with pytest.raises(DataError, match=r"00000.png has 5000x5000 pixels, more than an image may have "
                                        r"\(16,777,216\); it was not decoded"):
        intel_landscapes._load_image(intel_landscapes._Archive(root), "seg_train/forest/00000.png", 48)


def test_a_data_set_larger_than_its_memory_limit_is_refused_from_its_headers(tmp_path):
    path = tmp_path / "big.npz"
    n = MAX_DATASET_BYTES // (48 * 48 * 3) + 1  # one image more than the limit holds
    header = io.BytesIO()
    np.lib.format.write_array_header_2_0(header, {"descr": "|u1", "fortran_order": False, "shape": (n, 48, 48, 3)})
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as npz:
        # the header alone: a reader that loaded the array before it read the header would fail on the
        # missing 2 GiB, with another message (and in bounded memory the whole array would not fit either)
        npz.writestr("train_images.npy", header.getvalue())
        for name, array in image_arrays(shape=(48, 48, 3)).items():
            if name != "train_images":
                with npz.open(f"{name}.npy", "w") as member:
                    np.lib.format.write_array(member, array)
    printed = in_limited_memory(f"""
        from homework1.core.data import read_npz
        read_npz({str(path)!r})
    """)
    assert printed.startswith(f"{path}: its arrays would take 2.0 GiB once loaded (array 'train_images' of shape "
                              f"({n}, 48, 48, 3), uint8, alone 2.0 GiB), more than the 2 GiB a data set may take")


def test_only_the_homeworks_shapes_are_the_homeworks_data():
    homework = {f"{split}_images": (n, 48, 48, 3) for split, n in INTEL_SPLITS.items()}
    assert sources.intel_shapes_problem(homework, 6) is None
    digits_shapes = {"train_images": (1257, 8, 8, 1), "val_images": (180, 8, 8, 1), "test_images": (360, 8, 8, 1)}
    assert sources.intel_shapes_problem(digits_shapes, 10) == (
        "not the homework's data: images of 8x8x1 (expected 48x48x3); 10 classes (expected 6); 1257/180/360 "
        "train/val/test images (expected 12630/1404/3000). A file of other shapes trains as it is with "
        "--config dataset=npz 'npz={path: FILE}'")
    one_percent_fewer = {name: (round(shape[0] * 0.99), *shape[1:]) for name, shape in homework.items()}
    assert "12504/1390/2970 train/val/test images" in sources.intel_shapes_problem(one_percent_fewer, 6)
    assert sources.intel_shapes_problem(one_percent_fewer, 6, tolerance=ARCHIVE_TOLERANCE) is None
    two_percent_fewer = {name: (round(shape[0] * 0.98), *shape[1:]) for name, shape in homework.items()}
    assert "(expected 12630/1404/3000 within 1%)" in sources.intel_shapes_problem(two_percent_fewer, 6,
                                                                                    ARCHIVE_TOLERANCE)


def test_the_digits_given_as_the_homeworks_file_are_refused_before_any_job(tmp_path):
    digits_file = tmp_path / "digits.npz"
    digits.build(digits_file, seed=0, test_fraction=0.2, val_fraction=0.1, log=lambda _: None)
    with pytest.raises(configuration.ConfigError) as caught:
        configuration.load(overrides=tiny(dataset="intel_landscapes", intel_landscapes={"path": str(digits_file)}))
    assert f"intel_landscapes: {digits_file}: not the homework's data: images of 8x8x1" in str(caught.value)


def test_a_bad_source_never_costs_the_good_data(workspace, tmp_path):
    good = write_homework_shaped_archive(tmp_path / "archive")
    config = tiny(dataset="intel_landscapes", intel_landscapes={"archive": str(good)},
                  q1={"perceptron": TINY["q1"]["perceptron"]}, q2={})
    run = "results/runs/intel_landscapes/q1/perceptron/default/seed1/summary.json"
    workspace.run(config, run)
    installed, run = workspace.work / "resources/datasets/intel_landscapes.npz", workspace.work / run
    kept = {path: path.stat().st_mtime_ns for path in (installed, run)}

    # an archive of other shapes: refused in its own job, which deletes nothing of the good build
    small = write_archive(tmp_path / "small", nested=False)
    failed = workspace.run(tiny(**(config | {"intel_landscapes": {"archive": str(small)}})),
                           str(run.relative_to(workspace.work)), check=False)
    assert failed.returncode != 0
    assert (f"intel_landscapes: {small}: not the homework's data: 57/7/18 train/val/test images (expected "
            f"12630/1404/3000 within 1%)") in output_of(failed)
    # every job's shell keeps bash's strict mode and ignores a terminal's SIGINT and SIGHUP (homework1.job.interrupts)
    assert "Command 'set -euo pipefail; trap '' INT HUP; " in output_of(failed)
    assert {path: path.stat().st_mtime_ns for path in kept} == kept

    # back to the good source: nothing to rebuild, nothing to retrain
    assert nothing_to_do(workspace.run(config, str(run.relative_to(workspace.work)), "--dry-run"))


def test_a_sweep_with_a_diverged_variant_over_several_seeds_is_drawn(tmp_path, monkeypatch):
    # a diverged run's metrics.csv holds its header only
    epochs = [{"epoch": 1, "train_acc_running": 0.5, "val_acc": 0.6, "train_loss": 1.2, "val_loss": 1.1},
              {"epoch": 2, "train_acc_running": 0.6, "val_acc": 0.7, "train_loss": 1.0, "val_loss": 0.9}]
    paths = []
    for variant, history, status in (("learning_rate~0.05", epochs, "ok"), ("learning_rate~1e10", [], "diverged")):
        for seed in (1, 2):
            folder = tmp_path / f"digits/q2/ffn_lr/{variant}/seed{seed}"
            write_run(folder, history, status, epochs=2)
            paths.append(folder / "metrics.csv")
    drawn = []
    monkeypatch.setattr(figures, "save", lambda fig, *paths: drawn.append(fig))
    figures.sweep_overlay(read_metrics(paths), "q2/ffn_lr", "digits")
    assert len(drawn[0].axes[0].get_lines()) == 1  # the diverged variant has no epoch to draw
