"""A data set that is a file of one's own (homework1.sources.npz): any image size, channels, classes
and split sizes, refused in one line naming the file and the cause, checked before any job; and
the real Snakemake training the study on such a file, and going back and forth between two."""

from __future__ import annotations

import io
import json
import zipfile

import numpy as np
import pandas as pd
import pytest

from conftest import TINY, image_arrays, nothing_to_do, output_of, planned_jobs, tiny
from homework1 import sources
from homework1.config import configuration, schema
from homework1.core.data import MAX_DATASET_BYTES, DataError, load_splits, write_npz
from homework1.core.files import sha256_file
from homework1.sources import npz

# The file of other shapes the tests train on: 16x16 grey images of 3 classes, 60/12/18 train/val/test.
SHAPE, CLASSES, SIZES = (16, 16, 1), 3, (60, 12, 18)


def arrays(**options) -> dict:
    return image_arrays(**({"sizes": SIZES, "shape": SHAPE, "n_classes": CLASSES, "spread": 20} | options))


def saved(path, arrays_) -> str:
    """``arrays_`` in an npz at ``path``, as they are (np.savez: no validation on the way)."""
    np.savez(path, **arrays_)
    return str(path)


def config_of(path, **options) -> dict:
    return configuration.load(overrides={"dataset": "npz", "npz": {"path": str(path)} | options})


# ---------------------------------------------------------------- refusals, each on the functions

def broken(change):
    """The file's arrays with one change made to them."""
    data = arrays()
    change(data)
    return data


def _set(data, name, value):
    data[name] = value


REFUSALS = {
    "bad shapes": (lambda d: _set(d, "val_images", d["val_images"][..., 0]),
                   "array 'val_images' has shape (12, 16, 16), expected (N, height, width, channels)"),
    "images of two sizes": (lambda d: _set(d, "test_images", np.zeros((18, 8, 8, 1), np.uint8)),
                            "array 'test_images' has images of shape (8, 8, 1), but train_images has (16, 16, 1)"),
    "labels out of range": (lambda d: d["val_labels"].__setitem__((0, 0), 3),
                            "array 'val_labels' has labels in 0..3, outside 0..2"),
    "negative labels": (lambda d: d["test_labels"].__setitem__((0, 0), -1),
                        "array 'test_labels' has labels in -1..2, outside 0..2"),
    "empty split": (lambda d: d.update(val_images=np.zeros((0, *SHAPE), np.uint8),
                                       val_labels=np.zeros((0, 1), np.int64)),
                    "array 'val_images' is empty: every split needs at least one example"),
    "a class missing from train": (lambda d: d["train_labels"].__setitem__(d["train_labels"] == 1, 0),
                                   "array 'train_labels' has no example of 1 of its 3 classes (classes 0..2; "
                                   "first missing: [1])"),
    "pixels that are no bytes": (lambda d: _set(d, "train_images", d["train_images"] / 255),
                                 "array 'train_images' has dtype float64, expected uint8"),
    "a missing array": (lambda d: d.pop("test_labels"), "missing array(s) test_labels; expected train_images, "
                                                        "train_labels, val_images, val_labels, test_images, "
                                                        "test_labels"),
}


@pytest.mark.parametrize("case", REFUSALS)
def test_a_file_that_breaks_the_layout_is_refused_naming_it_and_the_cause(tmp_path, case):
    change, cause = REFUSALS[case]
    path = saved(tmp_path / "mine.npz", broken(change))
    problem = sources.npz_problem(path)
    assert problem == f"npz: {path}: {cause}"
    assert "\n" not in problem
    # the job refuses it too, and leaves nothing behind
    out = tmp_path / "out.npz"
    with pytest.raises(DataError, match=f"npz: {path}: "):
        npz.build(out, path=path, log=lambda line: None)
    assert list(tmp_path.iterdir()) == [tmp_path / "mine.npz"]


def test_a_missing_file_is_named():
    assert sources.npz_problem("nowhere/mine.npz") == (
        "npz: path: nowhere/mine.npz does not exist; set it to your .npz in the course's layout")


def test_a_corrupt_file_is_named(tmp_path):
    text = tmp_path / "text.npz"
    text.write_text("not an archive")
    assert sources.npz_problem(str(text)) == (
        f"npz: {text}: not an npz file (an npz is a zip archive of .npy arrays; this file does not start like one)")
    good, truncated = tmp_path / "good.npz", tmp_path / "truncated.npz"
    saved(good, arrays())
    truncated.write_bytes(good.read_bytes()[:2000])
    assert sources.npz_problem(str(truncated)).startswith(f"npz: {truncated}: not a readable .npz file (")


def test_a_file_over_the_cap_is_refused_from_its_headers(tmp_path):
    # a header that declares one image more than the cap holds, and no pixels: only headers are read
    path = tmp_path / "huge.npz"
    n = MAX_DATASET_BYTES // (16 * 16) + 1
    with zipfile.ZipFile(path, "w") as archive:
        header = io.BytesIO()
        np.lib.format.write_array_header_2_0(header, {"descr": "|u1", "fortran_order": False, "shape": (n, 16, 16, 1)})
        archive.writestr("train_images.npy", header.getvalue())
        for name, array in arrays().items():
            if name != "train_images":
                with archive.open(f"{name}.npy", "w") as member:
                    np.lib.format.write_array(member, array)
    assert sources.npz_problem(str(path)).startswith(
        f"npz: {path}: its arrays would take 2.0 GiB once loaded (array 'train_images' of shape ({n}, 16, 16, 1)")


def test_its_name_must_suit_a_folder_and_be_no_other_data_sets(tmp_path):
    taken = ["digits", "intel_landscapes", "synthetic_intel"]
    mine = saved(tmp_path / "digits.npz", arrays())
    assert sources.npz_problem(mine, taken=taken) == (
        "npz: the file's name 'digits' is the name of the data set digits, whose results it would mix with; "
        "set npz.name: to another name")
    assert sources.npz_problem(mine, name="mine", taken=taken) is None
    assert sources.npz_problem(mine, name="intel_landscapes", taken=taken).startswith(
        "npz: name: intel_landscapes is the name of the data set intel_landscapes")
    assert sources.npz_problem(mine, name="a/b", taken=taken) == (
        "npz: name: a/b cannot name a data set's folders; set npz.name: to letters, digits, '.', '_' or '-'")
    assert sources.npz_problem(url="https://example.org/data/mine.npz") == (
        "npz: 'url:' is set but 'sha256:' is not; set npz.sha256: to the file's SHA-256 (e.g. from sha256sum)")
    assert sources.npz_problem().startswith("npz: no file configured; set npz.path:")


def test_its_name_is_the_files_or_the_one_given():
    assert sources.dataset_name("npz", {"path": "data/my.photos.npz"}) == "my.photos"
    assert sources.dataset_name("npz", {"url": "https://example.org/get/subset.npz?raw=1"}) == "subset"
    assert sources.dataset_name("npz", {"path": "data/my.npz", "name": "mine"}) == "mine"
    assert sources.dataset_name("digits", {"seed": 42}) == "digits"


def test_the_configuration_refuses_a_bad_file_before_any_job(tmp_path):
    path = saved(tmp_path / "mine.npz", broken(REFUSALS["labels out of range"][0]))
    with pytest.raises(configuration.ConfigError) as caught:
        config_of(path)
    assert str(caught.value).splitlines()[1:] == [
        f"  - npz: {path}: array 'val_labels' has labels in 0..3, outside 0..2"]
    with pytest.raises(configuration.ConfigError, match="npz: the file's name 'intel_landscapes' is the name of"):
        config_of(saved(tmp_path / "intel_landscapes.npz", arrays()))


def test_a_good_file_is_configured_under_its_name(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    saved(tmp_path / "mine.npz", arrays())
    config = config_of("~/mine.npz")
    assert config["npz"]["path"] == str(tmp_path / "mine.npz")
    assert schema.dataset_name(config) == "mine"
    assert schema.dataset_descriptions(config)["mine"] == (
        "mine: a file of your own in the course's layout, not the homework's data")


def test_the_intel_refusal_points_to_it(tmp_path):
    path = saved(tmp_path / "mine.npz", arrays())
    assert sources.intel_file_problem(path).endswith(
        f"A file of other shapes trains as it is with --config dataset=npz 'npz={{path: {path}}}'")


# ---------------------------------------------------------------- the models take it unchanged

def test_it_loads_as_the_models_ask_whatever_its_shapes(tmp_path):
    path = tmp_path / "mine.npz"
    write_npz(path, arrays())
    flat = load_splits(path, add_bias=True)
    images = load_splits(path, inputs="image")
    assert flat["train"][0].shape == (60, 16 * 16 + 1) and images["val"][0].shape == (12, 1, 16, 16)
    out = tmp_path / "installed.npz"
    lines = []
    npz.build(out, path=str(path), log=lines.append)
    assert out.read_bytes() == path.read_bytes()
    assert lines[-1] == "npz: images of 16x16x1, 3 classes, 60/12/18 train/val/test"


def test_a_download_is_checked_against_its_sha256_then_installed(tmp_path):
    path = tmp_path / "served.npz"
    write_npz(path, arrays())
    url = path.as_uri()  # urllib fetches file: URLs as it does http: ones
    assert sources.dataset_name("npz", {"url": url}) == "served"
    out = tmp_path / "out" / "installed.npz"
    with pytest.raises(DataError, match="checksum mismatch"):
        npz.build(out, url=url, sha256="0" * 64, log=lambda line: None)
    assert not out.exists()
    npz.build(out, url=url, sha256=sha256_file(path), log=lambda line: None)
    assert out.read_bytes() == path.read_bytes()


# ---------------------------------------------------------------- through the real Snakemake

def test_snakemake_stops_on_a_bad_file_before_any_job_in_one_line(workspace, tmp_path):
    bad = saved(tmp_path / "mine.npz", broken(REFUSALS["a class missing from train"][0]))
    refused = workspace.run(tiny(dataset="npz", npz={"path": bad}), "--dry-run", check=False)
    assert refused.returncode != 0 and "Building DAG" not in output_of(refused)
    cause = f"  - npz: {bad}: array 'train_labels' has no example of 1 of its 3 classes"
    assert [line for line in output_of(refused).splitlines() if line.startswith("  - ")] == [
        cause + " (classes 0..2; first missing: [1])"]


@pytest.mark.slow
def test_the_study_trains_on_a_file_of_other_shapes(workspace, tmp_path):
    mine = tmp_path / "mine.npz"
    write_npz(mine, arrays())
    workspace.run(tiny(dataset="npz", npz={"path": str(mine)}))

    work = workspace.work
    summary = pd.read_csv(work / "results/tables/summary.csv")
    runs = len(TINY["q1"]) + sum(len(value["batch_size"]) if isinstance(value.get("batch_size"), list)
                                 else len(value.get("learning_rate", [0])) for value in TINY["q2"].values())
    assert set(summary["dataset"]) == {"mine"} and len(summary) == runs
    # each model took the file's shapes: 16x16 pixels (and Q1's bias feature), 3 classes
    def trained(run):
        return json.loads((work / f"results/runs/mine/{run}/seed1/summary.json").read_text())

    assert (trained("q1/perceptron/default")["n_features"], trained("q1/perceptron/default")["n_classes"]) == (
        16 * 16 + 1, CLASSES)
    hidden = TINY["q2"]["ffn_batch"]["hidden_size"]
    assert trained("q2/ffn_batch/batch_size~64")["n_parameters"] == (
        (16 * 16 + 1) * hidden + (hidden + 1) * hidden + (hidden + 1) * CLASSES)
    assert summary.set_index("experiment").loc["perceptron", "test_acc"] > 0.9  # it learns the 3 classes
    assert (work / "resources/datasets/mine.npz").read_bytes() == mine.read_bytes()
    assert (work / "results/figures/mine/q1/perceptron/default.png").stat().st_size > 0
    reproduction = pd.read_csv(work / "results/tables/reproduction.csv")
    assert set(reproduction["verdict"]) <= {"other data set (mine)", "not run"}
    report = (work / "results/report.md").read_text()
    assert "Data set: **mine: a file of your own in the course's layout, not the homework's data**" in report


@pytest.mark.slow
def test_switching_files_reruns_the_runs_and_switching_back_finds_them(workspace, tmp_path):
    first, second = tmp_path / "first.npz", tmp_path / "second.npz"
    write_npz(first, arrays())
    write_npz(second, arrays(shape=(6, 5, 3), n_classes=4, sizes=(40, 8, 8), seed=1))
    study = {"q1": {"perceptron": TINY["q1"]["perceptron"]}, "q2": {}}
    on_first = tiny(dataset="npz", npz={"path": str(first)}, **study)
    on_second = tiny(dataset="npz", npz={"path": str(second)}, **study)
    workspace.run(on_first, "results/tables/summary.csv")
    trained = workspace.work / "results/runs/first/q1/perceptron/default/seed1/summary.json"
    kept = trained.stat().st_mtime_ns

    workspace.run(on_second, "results/tables/summary.csv")
    summary = pd.read_csv(workspace.work / "results/tables/summary.csv")
    assert summary["dataset"].tolist() == ["second"]
    assert (workspace.work / "results/runs/second/q1/perceptron/default/seed1/summary.json").exists()

    # back to the first file: its runs are up to date, only what sums them up is made again
    back = workspace.run(on_first, "results/tables/summary.csv", "--dry-run")
    assert "train_q1" not in planned_jobs(back) and "dataset" not in planned_jobs(back), output_of(back)
    assert nothing_to_do(workspace.run(on_first, str(trained.relative_to(workspace.work)), "--dry-run"))
    assert trained.stat().st_mtime_ns == kept

    # the same file with other content: built and trained again
    write_npz(first, arrays(seed=2))
    changed = workspace.run(on_first, str(trained.relative_to(workspace.work)), "--dry-run")
    assert planned_jobs(changed)["dataset"] == 1 and planned_jobs(changed)["train_q1"] == 1
