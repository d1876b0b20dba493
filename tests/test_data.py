"""The npz layout's validator, writer and loader, on real files."""

import numpy as np
import pytest

from homework1.core.data import DataError, flatten_features, load_splits, read_npz, write_npz
from conftest import image_arrays


@pytest.fixture
def tiny_arrays():
    return image_arrays()


def test_round_trip_and_course_features(tmp_path, tiny_arrays):
    path = tmp_path / "d.npz"
    write_npz(path, tiny_arrays)
    splits = load_splits(path, add_bias=True)
    X, y = splits["train"]
    assert X.dtype == np.float64 and X.shape == (60, 4 * 4 * 3 + 1)
    assert np.all(X[:, -1] == 1.0)
    np.testing.assert_array_equal(X[:, :-1], tiny_arrays["train_images"].reshape(60, -1) / 256)
    assert X[:, :-1].max() < 1.0
    assert y.shape == (60,) and y.dtype == np.int64
    X_no_bias, _ = load_splits(path, add_bias=False)["test"]
    assert X_no_bias.shape == (18, 48)


def test_flatten_keeps_row_order():
    images = np.arange(2 * 2 * 2 * 1, dtype=np.uint8).reshape(2, 2, 2, 1)
    np.testing.assert_array_equal(flatten_features(images, add_bias=False),
                                  np.array([[0, 1, 2, 3], [4, 5, 6, 7]]) / 256)


@pytest.mark.parametrize("change, message", [
    (lambda a: a.pop("val_labels"), "missing array(s) val_labels"),
    (lambda a: a.update(train_images=a["train_images"].astype(np.float32)), "'train_images' has dtype float32"),
    (lambda a: a.update(test_images=a["test_images"][:, :, :2]), "'test_images' has images of shape (4, 2, 3)"),
    (lambda a: a.update(val_labels=a["val_labels"][:5]), "'val_labels' has 5 labels for 12 images"),
    (lambda a: a.update(train_labels=a["train_labels"].ravel()), "'train_labels' has shape (60,)"),
    (lambda a: a.update(test_labels=a["test_labels"] + 7), "'test_labels' has labels in 7..9, outside 0..2"),
    (lambda a: a.update(val_labels=a["val_labels"] - 1), "'val_labels' has labels in -1..1"),
    (lambda a: a.update(val_images=a["val_images"][:0], val_labels=a["val_labels"][:0]), "'val_images' is empty"),
    (lambda a: a.update(train_labels=np.where(a["train_labels"] == 1, 0, a["train_labels"])),
     "'train_labels' has no example of 1 of its 3 classes (classes 0..2; first missing: [1])"),
    (lambda a: a.update(train_labels=a["train_labels"].astype(np.float64)), "'train_labels' has dtype float64"),
])
def test_violations_name_file_array_and_problem(tmp_path, change, message):
    arrays = image_arrays()
    change(arrays)
    path = tmp_path / "bad.npz"
    np.savez(path, **arrays)
    with pytest.raises(DataError) as error:
        read_npz(path)
    assert str(path) in str(error.value)
    assert message in str(error.value)
    # the writer refuses the same arrays and leaves nothing behind
    target = tmp_path / "out" / "bad.npz"
    with pytest.raises(DataError):
        write_npz(target, arrays)
    assert not (tmp_path / "out").exists()


def test_missing_and_corrupt_files(tmp_path, tiny_arrays):
    with pytest.raises(DataError, match="data set file not found"):
        read_npz(tmp_path / "nope.npz")
    good = tmp_path / "good.npz"
    write_npz(good, tiny_arrays)
    corrupt = tmp_path / "corrupt.npz"
    corrupt.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    with pytest.raises(DataError, match=r"corrupt\.npz: not a readable \.npz file"):
        read_npz(corrupt)
    (tmp_path / "text.npz").write_text("not a zip")
    with pytest.raises(DataError, match="text.npz: not an npz file"):
        read_npz(tmp_path / "text.npz")


def test_failed_write_keeps_the_previous_file(tmp_path, tiny_arrays):
    path = tmp_path / "d.npz"
    write_npz(path, tiny_arrays)
    before = path.read_bytes()
    broken = dict(tiny_arrays, train_labels=tiny_arrays["train_labels"] + 10)
    with pytest.raises(DataError):
        write_npz(path, broken)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d.npz"]


def test_float32_features_are_the_float64_ones_exactly(tmp_path, tiny_arrays):
    path = tmp_path / "data.npz"
    write_npz(path, tiny_arrays)
    wide = load_splits(path, add_bias=True)
    narrow = load_splits(path, add_bias=True, dtype=np.float32)
    for split, (X, y) in wide.items():
        assert narrow[split][0].dtype == np.float32
        assert np.array_equal(narrow[split][0].astype(np.float64), X)  # pixel / 256 is exact in float32
        assert np.array_equal(narrow[split][1], y)


def test_images_keep_their_shape_for_a_model_that_asks(tmp_path, tiny_arrays):
    path = tmp_path / "d.npz"
    write_npz(path, tiny_arrays)
    images = tiny_arrays["val_images"]  # (12, 4, 4, 3): N, height, width, channels
    X, y = load_splits(path, inputs="image", dtype=np.float32)["val"]
    assert X.shape == (12, 3, 4, 4) and X.dtype == np.float32 and X.flags.c_contiguous
    np.testing.assert_array_equal(X, images.transpose(0, 3, 1, 2) / np.float32(256))
    assert X[5, 2, 1, 3] == images[5, 1, 3, 2] / 256  # channel 2 of the pixel at row 1, column 3
    # the same pixels as the flat features, in another order
    flat, _ = load_splits(path, dtype=np.float32)["val"]
    np.testing.assert_array_equal(np.sort(flat, axis=1), np.sort(X.reshape(12, -1), axis=1))
    with pytest.raises(ValueError, match="only flat features take a bias"):
        load_splits(path, inputs="image", add_bias=True)
