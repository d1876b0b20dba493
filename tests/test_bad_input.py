"""Bad input, each case built here: one clear line naming the key or the file, in bounded memory,
before any job where possible (issue: bounded reads, messages that lead with the cause)."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import yaml

from conftest import REPO, SOURCE, TINY, image_arrays, output_of
from homework1 import configuration, figures
from homework1.data import DataError, read_npz, validate_arrays, write_npz

# The memory a check of a corrupt file may take, at most: its address space is limited to this.
MEMORY_LIMIT = 1_500_000_000

HUGE_LABEL = f"""
import resource
resource.setrlimit(resource.RLIMIT_AS, ({MEMORY_LIMIT}, {MEMORY_LIMIT}))
import numpy as np
from homework1.data import DataError, validate_arrays
arrays = {{f"{{split}}_images": np.zeros((5, 2, 2, 1), np.uint8) for split in ("train", "val", "test")}}
arrays |= {{f"{{split}}_labels": np.zeros((5, 1), np.int64) for split in ("train", "val", "test")}}
arrays["train_labels"][0, 0] = 10**8
try:
    validate_arrays(arrays, "huge.npz")
except DataError as err:
    print(err)
"""


def test_a_huge_label_is_refused_in_bounded_memory():
    done = subprocess.run([sys.executable, "-c", HUGE_LABEL], capture_output=True, text=True, timeout=120,
                          env={"PYTHONPATH": str(SOURCE), "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"})
    assert done.returncode == 0, done.stderr[-500:]  # a MemoryError would end it otherwise
    assert done.stdout.startswith("huge.npz: array 'train_labels' has no example of 99999999 of its 100000001 "
                                  "classes (classes 0..100000000; first missing: [1, 2, 3,")


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
    ({"seed": [1, 2]}, "the configuration: unknown key 'seed'; allowed here: checkpoint_every, dataset,"),
    ({"q2": {"ffn_dropout": {"dropout": [0.25, 0.25]}}},
     "q2.ffn_dropout.dropout: [0.25, 0.25] has a duplicate value: a sweep lists each value once"),
    ({"dataset": "mnist"}, "dataset: 'mnist' is not allowed; choose one of digits, intel_landscapes, synthetic_intel"),
    ({"q1": {"perceptron": {"epochs": 0}}}, "q1.perceptron.epochs: 0 is below the minimum, 1"),
    ({"q1": {"perceptron": {"epochz": 3}}}, "q1.perceptron: unknown key 'epochz'; allowed here: epochs,"),
])
def test_a_schema_error_leads_with_the_key_and_the_rule(overrides, message):
    with pytest.raises(configuration.ConfigError) as caught:
        configuration.load(overrides=overrides)
    lines = str(caught.value).splitlines()
    assert any(line.strip().startswith(f"- {message}") for line in lines), lines
    assert len(lines) <= 3


def test_a_top_level_typo_is_a_few_lines_on_the_terminal(workspace):
    result = workspace.run(dict(TINY, seed=[1, 2]), "--dry-run", check=False)
    assert result.returncode != 0
    assert "unknown key 'seed'; allowed here:" in output_of(result)
    assert len(result.stderr.splitlines()) <= 12, result.stderr  # no dump of the configuration


def test_a_path_in_the_home_folder_may_start_with_a_tilde(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    write_npz(tmp_path / "intel.npz", image_arrays())
    config = configuration.load(overrides={"dataset": "intel_landscapes", "intel_landscapes": {"path": "~/intel.npz"}})
    assert config["intel_landscapes"]["path"] == str(tmp_path / "intel.npz")


def test_a_run_the_last_stop_left_incomplete_is_redone_not_refused():
    profile = yaml.safe_load((REPO / "profiles/default/config.yaml").read_text())
    assert profile["rerun-incomplete"] is True


def test_the_forest_plot_says_what_was_tested():
    one_seed = pd.DataFrame({"p_t": [np.nan, np.nan]})
    assert figures.forest_method(one_seed) == "no claim tested: each needs two seeds or more on both sides"
    assert figures.forest_method(pd.DataFrame({"p_t": [0.01, np.nan]})) == "95%, Holm-adjusted over the 1 claim tested"


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
