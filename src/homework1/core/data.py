"""The one data layout every data set is written in, its validator and its loader.

Layout (the course's): an ``.npz`` with ``{split}_images`` uint8 of shape
(N, H, W, C) and ``{split}_labels`` integer of shape (N, 1) for the splits
train, val and test. The loader hands each model the examples its spec asks for
(``homework1.plan.specs``): flat, each image flattened and divided by 256 as the
course's starter code does, optionally with a constant 1 feature (bias)
appended; or as images, pixels / 256 of shape (channels, height, width).
"""

from __future__ import annotations

import math
import os
import shutil
import zipfile
from pathlib import Path
from typing import NamedTuple

import numpy as np

from homework1.core.files import FileProblem, atomic_write

SPLITS = ("train", "val", "test")
ZIP_MAGIC = b"PK\x03\x04"  # how every npz (a zip archive) begins


class DataError(FileProblem):
    """A data set file is missing, unreadable or breaks the layout."""


def array_names() -> list[str]:
    return [f"{split}_{kind}" for split in SPLITS for kind in ("images", "labels")]


def validate_arrays(arrays: dict[str, np.ndarray], source: str, n_classes: int | None = None) -> int:
    """Check the layout; return the number of classes (max train label + 1 unless given).

    Every message names ``source`` (the file), the array and what is wrong.
    """

    def fail(name: str, problem: str) -> None:
        raise DataError(f"{source}: array '{name}' {problem}")

    missing = [name for name in array_names() if name not in arrays]
    if missing:
        raise DataError(f"{source}: missing array(s) {', '.join(missing)}; "
                        f"expected {', '.join(array_names())}")
    image_shape = None
    for split in SPLITS:
        images, labels = arrays[f"{split}_images"], arrays[f"{split}_labels"]
        name = f"{split}_images"
        if images.dtype != np.uint8:
            fail(name, f"has dtype {images.dtype}, expected uint8")
        if images.ndim != 4:
            fail(name, f"has shape {images.shape}, expected (N, height, width, channels)")
        if 0 in images.shape[1:]:
            fail(name, f"has images of shape {images.shape[1:]}: an image needs at least one pixel and channel")
        if images.shape[0] == 0:
            fail(name, "is empty: every split needs at least one example")
        if image_shape is None:
            image_shape = images.shape[1:]
        elif images.shape[1:] != image_shape:
            fail(name, f"has images of shape {images.shape[1:]}, but train_images has {image_shape}")
        name = f"{split}_labels"
        if labels.ndim != 2 or labels.shape[1] != 1:
            fail(name, f"has shape {labels.shape}, expected ({images.shape[0]}, 1)")
        if labels.shape[0] != images.shape[0]:
            fail(name, f"has {labels.shape[0]} labels for {images.shape[0]} images")
        if not np.issubdtype(labels.dtype, np.integer):
            fail(name, f"has dtype {labels.dtype}, expected integers")
    train_labels = arrays["train_labels"].ravel()
    if n_classes is None:
        n_classes = int(train_labels.max()) + 1
    for split in SPLITS:
        labels = arrays[f"{split}_labels"]
        low, high = int(labels.min()), int(labels.max())
        if low < 0 or high >= n_classes:
            fail(f"{split}_labels", f"has labels in {low}..{high}, outside 0..{n_classes - 1}")
    # every class needs a training example: checked on the labels present (never on a structure as
    # large as the largest label, which a corrupt file can make huge)
    present = np.unique(train_labels)
    if present.size < n_classes:
        absent = _first_absent(present, n_classes)
        fail("train_labels", f"has no example of {n_classes - present.size} of its {n_classes} classes "
                             f"(classes 0..{n_classes - 1}; first missing: {absent})")
    return n_classes


def _first_absent(present: np.ndarray, n_classes: int, most: int = 10) -> list[int]:
    """The first ``most`` of 0..n_classes-1 missing from ``present``: all lie below len(present) + most,
    so only that many candidates are looked at, however many classes there are."""
    candidates = np.arange(min(n_classes, present.size + most))
    return np.setdiff1d(candidates, present)[:most].tolist()


# The most memory a data set file may take once loaded, read from its headers before any array
# is: 16x the homework's file (118 MB). A larger file of your own: raise it here.
MAX_DATASET_BYTES = 2 << 30


class ArrayHeader(NamedTuple):
    """What an .npy header says of its array: enough to check the layout without reading it."""
    shape: tuple
    dtype: np.dtype

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def nbytes(self) -> int:
        return math.prod(self.shape) * self.dtype.itemsize


def read_headers(path: str | os.PathLike, max_bytes: int = MAX_DATASET_BYTES) -> dict[str, ArrayHeader]:
    """The header of every array in an npz, read without inflating any array; raise DataError naming
    the file if it is none, or the largest array if together they would take more than ``max_bytes``."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: data set file not found")
    with open(path, "rb") as handle:
        if handle.read(4) != ZIP_MAGIC:  # np.load would try it as a pickle, and say so
            raise DataError(f"{path}: not an npz file (an npz is a zip archive of .npy arrays; this file does "
                            f"not start like one)")
    headers = {}
    try:
        with zipfile.ZipFile(path) as archive:
            for member in archive.namelist():
                if not member.endswith(".npy"):
                    continue
                with archive.open(member) as npy:
                    version = np.lib.format.read_magic(npy)
                    read = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                            else np.lib.format.read_array_header_2_0)
                    shape, _, dtype = read(npy)
                headers[member.removesuffix(".npy")] = ArrayHeader(tuple(shape), np.dtype(dtype))
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as err:
        raise DataError(f"{path}: not a readable .npz file ({err})") from err
    total = sum(header.nbytes for header in headers.values())
    if total > max_bytes:
        name, largest = max(headers.items(), key=lambda item: item[1].nbytes)
        raise DataError(f"{path}: its arrays would take {total / 2**30:.1f} GiB once loaded (array '{name}' "
                        f"of shape {largest.shape}, {largest.dtype}, alone {largest.nbytes / 2**30:.1f} GiB), "
                        f"more than the {max_bytes / 2**30:g} GiB a data set may take "
                        f"(homework1.core.data.MAX_DATASET_BYTES); nothing was loaded")
    return headers


def check_npz(path: str | os.PathLike, n_classes: int | None = None) -> tuple[dict, int]:
    """Check a data set file as ``read_npz`` does, reading only its headers and labels (no image):
    return ({name: header}, number of classes). Cheap enough to run before any job."""
    headers = read_headers(path)
    arrays = {name: header for name, header in headers.items() if not name.endswith("_labels")}
    arrays |= _load(path, [name for name in headers if name.endswith("_labels")])
    return headers, validate_arrays(arrays, str(path), n_classes)


def _load(path: Path, names: list[str]) -> dict[str, np.ndarray]:
    try:
        with np.load(path, allow_pickle=False) as npz:
            return {name: npz[name] for name in names}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as err:
        raise DataError(f"{path}: not a readable .npz file ({err})") from err


def read_npz(path: str | os.PathLike, n_classes: int | None = None) -> dict[str, np.ndarray]:
    """Read and validate a data set file; raise DataError naming the file on any problem.
    Its headers are checked first: a file too large for ``MAX_DATASET_BYTES`` is never loaded."""
    arrays = _load(Path(path), list(read_headers(path)))
    validate_arrays(arrays, str(path), n_classes)
    return arrays


def write_npz(path: str | os.PathLike, arrays: dict[str, np.ndarray], compress: bool = True) -> None:
    """Validate, then write atomically: a reader never sees a half-written file.

    ``compress=False`` for content that does not compress (random pixels): it
    only costs time, to write and to read."""
    arrays = {name: arrays[name] for name in array_names() if name in arrays} | arrays
    validate_arrays(arrays, str(path))
    save = np.savez_compressed if compress else np.savez
    atomic_write(path, lambda tmp: save(tmp, **arrays), suffix=".tmp.npz")


def copy_npz(path: str | os.PathLike, out_path: str | os.PathLike) -> None:
    """Check a data set file as ``read_npz`` does, then copy it to ``out_path`` atomically (nothing if
    they are the same file)."""
    read_npz(path)
    if Path(out_path).exists() and os.path.samefile(path, out_path):
        return
    atomic_write(out_path, lambda tmp: shutil.copyfile(path, tmp))


def flatten_features(images: np.ndarray, add_bias: bool, dtype=np.float64) -> np.ndarray:
    """The course's features: flattened pixels / 256 (float64 by default), bias 1 appended last.

    pixel / 256 is exact in float32 too, so float32 features (what torch trains
    on) are the float64 ones rounded, without the float64 copy in between."""
    features = images.reshape(images.shape[0], -1).astype(dtype) / dtype(256)
    if add_bias:
        features = np.hstack((features, np.ones((features.shape[0], 1), dtype=dtype)))
    return features


def image_features(images: np.ndarray, dtype=np.float64) -> np.ndarray:
    """Images (N, H, W, C) as a convolution takes them: (N, C, H, W), pixel / 256 (exact in float32 too)."""
    return images.transpose(0, 3, 1, 2).astype(dtype, order="C") / dtype(256)


def load_splits(path: str | os.PathLike, add_bias: bool = False, dtype=np.float64,
                inputs: str = "flat") -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Validated data as ``{split: (X of dtype, y int64 (N,))}``: X is (N, F) for ``inputs``
    "flat" (with the bias feature last if ``add_bias``), (N, C, H, W) for "image"."""
    if inputs not in ("flat", "image"):
        raise ValueError(f"inputs must be 'flat' or 'image', got {inputs!r}")
    if add_bias and inputs != "flat":
        raise ValueError("only flat features take a bias feature")
    arrays = read_npz(path)
    features = ((lambda images: image_features(images, dtype)) if inputs == "image"
                else (lambda images: flatten_features(images, add_bias, dtype)))
    return {
        split: (features(arrays[f"{split}_images"]), arrays[f"{split}_labels"].reshape(-1).astype(np.int64))
        for split in SPLITS
    }
