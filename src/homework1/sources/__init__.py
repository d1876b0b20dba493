"""Where the data sets come from: one module per data set (``digits``, ``intel_landscapes``,
``synthetic_intel``), each writing one validated npz through ``build(out_path, **options, log=...)``.

This module holds what is known of them without loading any: the Intel shapes, the order of the
homework's sources, and the checks the workflow makes before any job. Standard library only (checking
a local file loads numpy), since the workflow imports it while it reads its configuration.

``npz`` is a file of the user's own in the course's layout, of any image size, channels, classes and
split sizes; its files, tables and figures go by the file's name (or the ``name`` given)."""

from __future__ import annotations

import hashlib
import json
import math
import re
from pathlib import Path, PurePosixPath
from urllib.parse import urlsplit

# The homework's data set: square RGB photographs of landscapes, its classes, split sizes and image shape.
INTEL_CLASSES = ("buildings", "forest", "glacier", "mountain", "sea", "street")
INTEL_SPLITS = {"train": 12630, "val": 1404, "test": 3000}
INTEL_IMAGE_SIZE = 48
INTEL_IMAGE_SHAPE = (INTEL_IMAGE_SIZE, INTEL_IMAGE_SIZE, 3)
# A build from the public archive may differ from the course's split sizes by this fraction of
# each split (a copy with a few images more or fewer); the course's file, given as path or url,
# must match them exactly.
ARCHIVE_TOLERANCE = 0.01

# Where the homework's data set may come from, in the order the first one set is used; those that are
# local files (an input of its build: replacing one rebuilds the data).
INTEL_SOURCES = ("path", "url", "archive")
INTEL_LOCAL_SOURCES = ("path", "archive")
FILE_SOURCE = "npz"  # the data set that is a file in the course's layout, of any shapes
# What a data set's name may be: it names folders (results/runs/NAME/...) and a file.
NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")

DIGITS_IMAGES, DIGITS_CLASSES = 1797, 10  # scikit-learn's digits: 174-183 images per class


def source_key(options: dict) -> str:
    """A short name for a data set's source settings: their build is kept under it, beside the
    builds of other settings."""
    return hashlib.sha256(json.dumps(options, sort_keys=True).encode()).hexdigest()[:12]


def held_out(n: int, fraction: float) -> tuple[int, int]:
    """(kept, held out) of n by a fraction, rounded as scikit-learn's train_test_split does."""
    held = math.ceil(fraction * n)
    return n - held, held


def _fraction_range(fewest: int, most: int, n: int) -> str:
    """The fractions of n that hold out ``fewest``..``most`` items (4 decimals, rounded inwards)."""
    low = math.floor((fewest - 1) / n * 1e4 + 1) / 1e4
    high = math.floor(most / n * 1e4) / 1e4
    return f"from {low:.4f} to {high:.4f}"


def intel_source(options: dict) -> str | None:
    """The source the homework's data set is built from: the first of INTEL_SOURCES set in ``options``."""
    return next((key for key in INTEL_SOURCES if options.get(key)), None)


def intel_local_inputs(options: dict) -> list[str]:
    """The user's own file the homework's data set is built from (its local copy or archive, where that
    is the source used), given its config block ``options``: replacing it rebuilds the data."""
    source = intel_source(options)
    return [options[source]] if source in INTEL_LOCAL_SOURCES else []


def digits_split_problem(test_fraction: float, val_fraction: float) -> str | None:
    """Why these fractions cannot split the digits (None if they can): a stratified
    split needs at least one image per class on each side, in train, val and test."""
    rest, test = held_out(DIGITS_IMAGES, test_fraction)
    train, val = held_out(rest, val_fraction)
    if min(train, val, test) >= DIGITS_CLASSES:
        return None
    fewest = DIGITS_CLASSES
    problem = (f"digits: test_fraction = {test_fraction} and val_fraction = {val_fraction} split the "
               f"{DIGITS_IMAGES} images into {train} train, {val} val and {test} test, but a stratified "
               f"split needs at least {fewest} in each (one per class): ")
    if test < fewest or rest < 2 * fewest:
        return problem + f"test_fraction must be {_fraction_range(fewest, DIGITS_IMAGES - 2 * fewest, DIGITS_IMAGES)}"
    return problem + f"with this test_fraction, val_fraction must be {_fraction_range(fewest, rest - fewest, rest)}"


def intel_shapes_problem(shapes: dict[str, tuple], n_classes: int, tolerance: float = 0.0,
                         file: str = "FILE") -> str | None:
    """Why arrays of these shapes ({name: shape}) and classes are not the homework's data (None if
    they are): images of INTEL_IMAGE_SHAPE, the INTEL_CLASSES, and INTEL_SPLITS's train/val/test
    sizes, each within ``tolerance`` (a fraction) of its own. The message points ``file`` to the data set
    that takes any shapes."""
    found = []
    image = tuple(shapes["train_images"][1:])
    if image != INTEL_IMAGE_SHAPE:
        found.append(f"images of {'x'.join(map(str, image))} (expected {'x'.join(map(str, INTEL_IMAGE_SHAPE))})")
    if n_classes != len(INTEL_CLASSES):
        found.append(f"{n_classes} classes (expected {len(INTEL_CLASSES)})")
    sizes = {split: shapes[f"{split}_images"][0] for split in INTEL_SPLITS}
    if any(abs(n - INTEL_SPLITS[split]) > tolerance * INTEL_SPLITS[split] for split, n in sizes.items()):
        margin = f" within {tolerance:.0%}" if tolerance else ""
        found.append(f"{'/'.join(map(str, sizes.values()))} train/val/test images "
                     f"(expected {'/'.join(map(str, INTEL_SPLITS.values()))}{margin})")
    if not found:
        return None
    return (f"not the homework's data: {'; '.join(found)}. A file of other shapes trains as it is with "
            f"--config dataset={FILE_SOURCE} '{FILE_SOURCE}={{path: {file}}}'")


def intel_file_problem(path) -> str | None:
    """Why the file at ``path`` is not a valid copy of the homework's data (None if it is), from its
    headers and labels only: cheap enough to check before any job."""
    from homework1.core.data import DataError, check_npz  # numpy: only when there is a file to check

    try:
        headers, n_classes = check_npz(path)
    except DataError as err:
        return f"intel_landscapes: {err}"
    problem = intel_shapes_problem({name: header.shape for name, header in headers.items()}, n_classes, file=path)
    return problem and f"intel_landscapes: {path}: {problem}"


def intel_landscapes_problem(path=None, url=None, sha256=None, archive=None) -> str | None:
    """Why these settings cannot give the Intel landscapes file (None if they can): the source used
    (``intel_source``) must be a local file that is the homework's data, a url with its sha256, or an
    archive that exists."""
    source = intel_source({"path": path, "url": url, "archive": archive})
    if source == "path":
        return intel_file_problem(path) if Path(path).exists() else (
            f"intel_landscapes: path: {path} does not exist; set it to your copy of the course's "
            f"intel_landscapes.npz")
    if source == "url":
        return None if sha256 else (
            "intel_landscapes: 'url:' is set but 'sha256:' is not; set sha256: in config/config.yaml "
            "to the file's SHA-256 (e.g. from sha256sum)")
    if source == "archive":
        return None if Path(archive).exists() else (
            f"intel_landscapes: archive: {archive} does not exist; set it to the Intel Image "
            f"Classification .zip or its extracted folder with seg_train/ and seg_test/")
    return ("intel_landscapes: no source configured. In config/config.yaml set one of, under "
            "intel_landscapes:, 'path:' (a local copy of the course's .npz), 'url:' together "
            "with 'sha256:' (a download), or 'archive:' (the Intel Image Classification .zip "
            "or its extracted folder with seg_train/ and seg_test/)")


# ---------------------------------------------------------------- a file of one's own

def file_dataset_name(path: str = "", url: str = "", name: str = "") -> str:
    """The name a file of one's own goes by in paths, tables and figures: ``name`` if given, else the
    file's name (of ``path``, or the last part of ``url``) without ``.npz``."""
    if name:
        return name
    location = Path(path).name if path else PurePosixPath(urlsplit(url).path).name
    return location.removesuffix(".npz")


def dataset_name(source: str, options: dict) -> str:
    """The name the data set built by ``source`` with its config block ``options`` goes by."""
    if source != FILE_SOURCE:
        return source
    return file_dataset_name(options.get("path", ""), options.get("url", ""), options.get("name", ""))


def npz_file_problem(path) -> str | None:
    """Why the file at ``path`` is no data set in the course's layout (None if it is), from its headers
    and labels only: cheap enough to check before any job."""
    from homework1.core.data import DataError, check_npz  # numpy: only when there is a file to check

    try:
        check_npz(path)
    except DataError as err:
        return f"{FILE_SOURCE}: {err}"
    return None


def npz_problem(path: str = "", url: str = "", sha256: str = "", name: str = "", taken=()) -> str | None:
    """Why these settings cannot give a data set file (None if they can): a local ``path`` (used
    first) must exist and be in the course's layout, a ``url`` needs its ``sha256``; the data set's
    name must suit a folder and be none of ``taken`` (the other data sets' names)."""
    if not path and not url:
        return (f"{FILE_SOURCE}: no file configured; set {FILE_SOURCE}.path: to your .npz in the course's "
                f"layout, or {FILE_SOURCE}.url: with {FILE_SOURCE}.sha256:")
    if path and not Path(path).exists():
        return f"{FILE_SOURCE}: path: {path} does not exist; set it to your .npz in the course's layout"
    if path and (problem := npz_file_problem(path)):
        return problem
    if not path and not sha256:
        return (f"{FILE_SOURCE}: 'url:' is set but 'sha256:' is not; set {FILE_SOURCE}.sha256: to the file's "
                f"SHA-256 (e.g. from sha256sum)")
    called = file_dataset_name(path, url, name)
    given = f"name: {name}" if name else f"the file's name {called!r}"
    if not NAME_PATTERN.fullmatch(called):
        return (f"{FILE_SOURCE}: {given} cannot name a data set's folders; set {FILE_SOURCE}.name: to letters, "
                f"digits, '.', '_' or '-'")
    if called in taken:
        return (f"{FILE_SOURCE}: {given} is the name of the data set {called}, whose results it would mix "
                f"with; set {FILE_SOURCE}.name: to another name")
    return None
