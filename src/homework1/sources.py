"""Where the data sets come from: every source ends as one validated npz.

- ``make_digits``: scikit-learn's bundled 8x8 digits (no network), the default.
- ``make_synthetic_intel``: random pixels with exactly the Intel shapes, a
  stand-in for timing only (its accuracies mean nothing).
- ``fetch_intel_landscapes``: the real Intel landscapes file, from a local copy,
  a download (URL + sha256) or the public Intel Image Classification archive.

Every function writes through ``data.write_npz`` or an atomic rename, so a
failure never leaves a partial file behind.
"""

from __future__ import annotations

import http.client
import io
import math
import os
import shutil
import sys
import tempfile
import time
import urllib.error
import urllib.request
import zipfile
from pathlib import Path

import numpy as np

from homework1.data import DataError, atomic_write, read_npz, sha256_file, write_npz

INTEL_CLASSES = ("buildings", "forest", "glacier", "mountain", "sea", "street")
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png")


# ---------------------------------------------------------------------------
# embedded and generated data sets

DIGITS_IMAGES, DIGITS_CLASSES = 1797, 10  # scikit-learn's digits: 174-183 images per class


def _held_out(n: int, fraction: float) -> tuple[int, int]:
    """(kept, held out) of n by a fraction, rounded as scikit-learn's train_test_split does."""
    held_out = math.ceil(fraction * n)
    return n - held_out, held_out


def _fraction_range(fewest: int, most: int, n: int) -> str:
    """The fractions of n that hold out ``fewest``..``most`` items (4 decimals, rounded inwards)."""
    low = math.floor((fewest - 1) / n * 1e4 + 1) / 1e4
    high = math.floor(most / n * 1e4) / 1e4
    return f"from {low:.4f} to {high:.4f}"


def digits_split_problem(test_fraction: float, val_fraction: float) -> str | None:
    """Why these fractions cannot split the digits (None if they can): a stratified
    split needs at least one image per class on each side, in train, val and test."""
    rest, test = _held_out(DIGITS_IMAGES, test_fraction)
    train, val = _held_out(rest, val_fraction)
    if min(train, val, test) >= DIGITS_CLASSES:
        return None
    fewest = DIGITS_CLASSES
    problem = (f"digits: test_fraction = {test_fraction} and val_fraction = {val_fraction} split the "
               f"{DIGITS_IMAGES} images into {train} train, {val} val and {test} test, but a stratified "
               f"split needs at least {fewest} in each (one per class): ")
    if test < fewest or rest < 2 * fewest:
        return problem + f"test_fraction must be {_fraction_range(fewest, DIGITS_IMAGES - 2 * fewest, DIGITS_IMAGES)}"
    return problem + f"with this test_fraction, val_fraction must be {_fraction_range(fewest, rest - fewest, rest)}"


def make_digits(out_path, *, seed=42, test_fraction=0.2, val_fraction=0.1) -> None:
    """scikit-learn's 8x8 digits in the npz layout, split stratified with a fixed seed."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    problem = digits_split_problem(test_fraction, val_fraction)
    if problem:
        raise DataError(problem)
    digits = load_digits()
    # pixels are 0..16; stretch to the 0..255 of a uint8 image like the Intel file
    images = np.round(digits.images * 255 / 16).astype(np.uint8)[..., None]
    labels = digits.target.astype(np.int64)
    index = np.arange(len(labels))
    rest, test = train_test_split(index, test_size=test_fraction, stratify=labels,
                                  random_state=seed)
    train, val = train_test_split(rest, test_size=val_fraction, stratify=labels[rest],
                                  random_state=seed)
    arrays = {}
    for split, rows in (("train", train), ("val", val), ("test", test)):
        arrays[f"{split}_images"] = images[rows]
        arrays[f"{split}_labels"] = labels[rows].reshape(-1, 1)
    write_npz(out_path, arrays)


def synthetic_intel_arrays(*, seed=0, n_train=12630, n_val=1404, n_test=3000, size=48,
                           n_classes=6) -> dict[str, np.ndarray]:
    """The arrays of ``make_synthetic_intel`` (kept apart so their shapes are cheap to check)."""
    if n_train < n_classes:
        raise DataError(f"synthetic data: n_train={n_train} cannot hold all {n_classes} classes")
    rng = np.random.default_rng(seed)
    arrays = {}
    for split, n in (("train", n_train), ("val", n_val), ("test", n_test)):
        arrays[f"{split}_images"] = rng.integers(0, 256, size=(n, size, size, 3), dtype=np.uint8)
        labels = rng.integers(0, n_classes, size=n, dtype=np.int64)
        if split == "train":
            # every class must appear in train; plant one of each, then shuffle them in
            labels[:n_classes] = np.arange(n_classes)
            labels = rng.permutation(labels)
        arrays[f"{split}_labels"] = labels.reshape(-1, 1)
    arrays["description"] = np.array("synthetic stand-in: random pixels, for timing only")
    return arrays


def make_synthetic_intel(out_path, *, seed=0, n_train=12630, n_val=1404, n_test=3000, size=48,
                         n_classes=6) -> None:
    """Random pixels and labels with exactly the Intel shapes: for timing, never for accuracy."""
    write_npz(out_path, synthetic_intel_arrays(seed=seed, n_train=n_train, n_val=n_val,
                                               n_test=n_test, size=size, n_classes=n_classes))


# ---------------------------------------------------------------------------
# download

class _Transient(Exception):
    """A failure worth another try (network trouble, truncated body, server error)."""


def _fetch_once(url: str, tmp: Path, timeout: float, progress: bool) -> None:
    from tqdm import tqdm

    try:
        response = urllib.request.urlopen(url, timeout=timeout)
    except urllib.error.HTTPError as err:
        if 400 <= err.code < 500:  # the request itself is wrong: retrying cannot help
            raise DataError(f"{url}: HTTP {err.code} {err.reason}; check the URL") from err
        raise _Transient(f"HTTP {err.code} {err.reason}") from err
    except (urllib.error.URLError, OSError, http.client.HTTPException) as err:
        raise _Transient(str(err)) from err
    with response:
        length = response.headers.get("Content-Length")
        expected = int(length) if length and length.isdigit() else None
        received = 0
        bar = tqdm(total=expected, unit="B", unit_scale=True, unit_divisor=1024,
                   desc=url.rsplit("/", 1)[-1] or url, file=sys.stderr, disable=not progress)
        try:
            with open(tmp, "wb") as handle:
                while chunk := response.read(1 << 16):
                    handle.write(chunk)
                    received += len(chunk)
                    bar.update(len(chunk))
        except (OSError, http.client.HTTPException) as err:
            raise _Transient(f"connection lost after {received} bytes ({err})") from err
        finally:
            bar.close()
    # http.client returns a short body without complaint when the server hangs up early
    if expected is not None and received != expected:
        raise _Transient(f"truncated body: got {received} of {expected} bytes")


def download(url, out_path, *, sha256, retries=3, timeout=60, progress=True, backoff_s=1.0) -> None:
    """Download a data set file, check its sha256 and layout, then move it into place.

    Network errors, server errors (5xx) and truncated bodies are retried ``retries``
    more times with exponential backoff; client errors (4xx) and a checksum
    mismatch fail at once. Nothing is left at ``out_path`` (nor a temporary file)
    unless everything succeeded.
    """
    if not sha256:
        raise DataError(f"{url}: a sha256 checksum is required to download a data set")
    sha256 = sha256.strip().lower()
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=out_path.parent, prefix=f".{out_path.name}.",
                                    suffix=".part")
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        for attempt in range(retries + 1):
            try:
                _fetch_once(url, tmp, timeout, progress)
                break
            except _Transient as err:
                if attempt == retries:
                    raise DataError(f"{url}: download failed after {retries + 1} attempt(s): "
                                    f"{err}") from err
                print(f"{url}: attempt {attempt + 1} failed ({err}); retrying", file=sys.stderr)
                time.sleep(backoff_s * 2 ** attempt)
        got = sha256_file(tmp)
        if got != sha256:
            raise DataError(f"{url}: checksum mismatch: expected sha256 {sha256}, got {got}; "
                            f"the downloaded file was removed")
        try:
            read_npz(tmp)
        except DataError as err:
            raise DataError(f"{url}: the downloaded file is not a valid data set "
                            f"({err}); it was removed") from err
        os.replace(tmp, out_path)
    finally:
        tmp.unlink(missing_ok=True)


# ---------------------------------------------------------------------------
# the public archive (seg_train/ and seg_test/ of JPEGs, one folder per class)

class _Archive:
    """Read-only view of a folder or a .zip as relative file names -> bytes."""

    def __init__(self, archive: Path):
        self.name = str(archive)
        self.zip = None
        if archive.is_dir():
            self.files = sorted(
                Path(root, file).relative_to(archive).as_posix()
                for root, _, files in os.walk(archive, followlinks=True) for file in files)
            self.root = archive
        elif archive.is_file():
            try:
                self.zip = zipfile.ZipFile(archive)
            except zipfile.BadZipFile as err:
                raise DataError(f"{archive}: neither a folder nor a readable .zip ({err})") from err
            self.files = sorted(name for name in self.zip.namelist() if not name.endswith("/"))
        else:
            raise DataError(f"{archive}: archive not found (expected a .zip or a folder)")

    def read(self, name: str) -> bytes:
        if self.zip is not None:
            return self.zip.read(name)
        return (self.root / name).read_bytes()

    def close(self) -> None:
        if self.zip is not None:
            self.zip.close()


def _class_files(archive: _Archive, split: str) -> dict[str, list[str]]:
    """{class folder: sorted image names} for files laid out as .../<split>/<class>/<image>.

    Accepts seg_train/<class>/ as well as the Kaggle zip's seg_train/seg_train/<class>/.
    """
    found: dict[str, list[str]] = {}
    roots = set()
    for name in archive.files:
        parts = name.split("/")
        if (parts[0] == "__MACOSX" or parts[-1].startswith(".")
                or not parts[-1].lower().endswith(IMAGE_SUFFIXES)):
            continue
        if len(parts) >= 3 and parts[-3] == split:
            roots.add("/".join(parts[:-2]))
            found.setdefault(parts[-2], []).append(name)
    if not found:
        raise DataError(f"{archive.name}: no images in a {split}/<class>/ folder; expected "
                        f"seg_train/ and seg_test/ each with one subfolder per class "
                        f"({', '.join(INTEL_CLASSES)})")
    if len(roots) > 1:
        raise DataError(f"{archive.name}: several {split} folders hold images "
                        f"({', '.join(sorted(roots))}); keep only one")
    return {label: sorted(names) for label, names in sorted(found.items())}


def _load_image(archive: _Archive, name: str, size: int) -> np.ndarray:
    from PIL import Image

    try:
        with Image.open(io.BytesIO(archive.read(name))) as image:
            image = image.convert("RGB").resize((size, size), Image.BILINEAR)
            return np.asarray(image, dtype=np.uint8)
    except (OSError, ValueError, SyntaxError, zipfile.BadZipFile,
            Image.DecompressionBombError) as err:
        raise DataError(f"{archive.name}: cannot decode image {name} ({err})") from err


def _val_counts(counts: list[int], val_fraction: float) -> list[int]:
    """Per-class validation sizes summing to ceil(val_fraction * total).

    Each class gets floor(val_fraction * n) and the leftover goes to the largest
    remainders: the same total as scikit-learn's train_test_split, which is
    what turns the archive's 14034 training images into 12630 + 1404.
    """
    exact = [round(val_fraction * n, 9) for n in counts]  # round off float dust like 6.0000001
    sizes = [math.floor(x) for x in exact]
    leftover = math.ceil(round(val_fraction * sum(counts), 9)) - sum(sizes)
    by_remainder = sorted(range(len(counts)), key=lambda c: (-(exact[c] - sizes[c]), c))
    for c in by_remainder[:leftover]:
        sizes[c] += 1
    return sizes


def build_from_archive(archive, out_path, *, seed=42, size=48, val_fraction=0.1) -> None:
    """The Intel landscapes npz from the public archive (a .zip or its extracted folder).

    Images are converted to RGB and resized to size x size with Pillow's BILINEAR
    filter. Class index = sorted class folder name. Validation = a seeded random
    ``val_fraction`` of each training class; test = seg_test. Files are sorted by
    name before anything random, so the result depends only on the seed.
    """
    source = _Archive(Path(archive))
    try:
        train_files = _class_files(source, "seg_train")
        test_files = _class_files(source, "seg_test")
        if list(train_files) != list(test_files):
            raise DataError(f"{source.name}: class folders differ between seg_train "
                            f"({', '.join(train_files)}) and seg_test ({', '.join(test_files)})")
        rng = np.random.default_rng(seed)
        n_val = _val_counts([len(names) for names in train_files.values()], val_fraction)
        chosen = {"train": [], "val": [], "test": []}
        for label, (names, k) in enumerate(zip(train_files.values(), n_val)):
            order = rng.permutation(len(names))
            val_rows = set(order[:k].tolist())
            for row, name in enumerate(names):  # keep name order inside each split
                chosen["val" if row in val_rows else "train"].append((name, label))
        for label, names in enumerate(test_files.values()):
            chosen["test"] += [(name, label) for name in names]
        arrays = {}
        for split, items in chosen.items():
            images = np.empty((len(items), size, size, 3), dtype=np.uint8)
            for row, (name, _) in enumerate(items):
                images[row] = _load_image(source, name, size)
            arrays[f"{split}_images"] = images
            arrays[f"{split}_labels"] = np.array([label for _, label in items],
                                                 dtype=np.int64).reshape(-1, 1)
    finally:
        source.close()
    write_npz(out_path, arrays)


# ---------------------------------------------------------------------------
# the dispatcher the workflow calls

def fetch_intel_landscapes(out_path, *, path=None, url=None, sha256=None, archive=None, seed=42,
                           log=print) -> None:
    """Produce the Intel landscapes npz from the first configured source: path, url, archive."""
    out_path = Path(out_path)
    problem = intel_landscapes_problem(path, url, sha256, archive)
    if problem:
        raise DataError(problem)
    configured = [key for key, value in (("path", path), ("url", url), ("archive", archive))
                  if value]
    if len(configured) > 1:
        log(f"intel_landscapes: several sources set ({', '.join(configured)}); "
            f"using '{configured[0]}'")
    if path:
        log(f"intel_landscapes: copying local file {path}")
        read_npz(path)  # stops on a corrupt or malformed file, naming it
        if out_path.exists() and os.path.samefile(path, out_path):
            return
        atomic_write(out_path, lambda tmp: shutil.copyfile(path, tmp))
    elif url:
        log(f"intel_landscapes: downloading {url}")
        download(url, out_path, sha256=sha256)
    else:
        log(f"intel_landscapes: building from archive {archive}")
        build_from_archive(archive, out_path, seed=seed)


def intel_landscapes_problem(path=None, url=None, sha256=None, archive=None) -> str | None:
    """Why these settings cannot give the Intel landscapes file (None if they can).

    The first source set is used, in the order path, url, archive; a local file
    or archive must exist, a url needs its sha256. The workflow asks this before
    any job runs.
    """
    if path:
        return None if Path(path).exists() else (
            f"intel_landscapes: path: {path} does not exist; set it to your copy of the course's "
            f"intel_landscapes.npz")
    if url:
        return None if sha256 else (
            "intel_landscapes: 'url:' is set but 'sha256:' is not; set sha256: in config/config.yaml "
            "to the file's SHA-256 (e.g. from sha256sum)")
    if archive:
        return None if Path(archive).exists() else (
            f"intel_landscapes: archive: {archive} does not exist; set it to the Intel Image "
            f"Classification .zip or its extracted folder with seg_train/ and seg_test/")
    return ("intel_landscapes: no source configured. In config/config.yaml set one of, under "
            "intel_landscapes:, 'path:' (a local copy of the course's .npz), 'url:' together "
            "with 'sha256:' (a download), or 'archive:' (the Intel Image Classification .zip "
            "or its extracted folder with seg_train/ and seg_test/)")
