"""The homework's data set, Intel landscapes, from the first source configured.

- ``path``: a copy of the course's ``intel_landscapes.npz`` the user has;
- ``url`` + ``sha256``: a download, retried, renamed into place only once verified;
- ``archive``: the public Intel Image Classification archive (``seg_train/``,
  ``seg_test/`` of 150x150 JPEGs): resized to 48x48, 10% of each training
  class held out for validation with a fixed seed, written in the same layout.
"""

from __future__ import annotations

import http.client
import io
import math
import os
import sys
import time
import urllib.error
import urllib.request
import zipfile
from pathlib import Path

import numpy as np

from homework1.core.data import DataError, copy_npz, read_npz, write_npz
from homework1.core.files import sha256_file, temporary_file_beside
from homework1.sources import (ARCHIVE_TOLERANCE, INTEL_CLASSES, INTEL_IMAGE_SIZE, INTEL_SOURCES, intel_file_problem,
                               intel_landscapes_problem, intel_shapes_problem, intel_source)

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png")
# Bounds on what one image of an archive may take, checked before it is inflated or decoded (the
# archive's are 150x150 JPEGs of about 10 KB): its file, its compression ratio (a file inflating
# a thousandfold is a zip bomb, not a photograph) and its pixels.
MAX_IMAGE_FILE_BYTES = 16 << 20
MAX_COMPRESSION_RATIO = 100
MAX_IMAGE_PIXELS = 4096 * 4096
# The course's split: a tenth of the archive's 14034 training images held out for validation
# (ceil(0.1 * 14034) = 1404, as scikit-learn's train_test_split rounds).
VAL_FRACTION = 0.1


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


# An attempt gives up after this many seconds without a byte from the host: to connect, for its
# answer, or for the next part of the file (a slow but steady download is never cut off).
DOWNLOAD_TIMEOUT_S = 20
DOWNLOAD_RETRIES = 3  # more attempts after the first, 1, 2 and 4 s apart


def download(url, out_path, *, sha256, retries=DOWNLOAD_RETRIES, timeout=DOWNLOAD_TIMEOUT_S, progress=True,
             backoff_s=1.0, log=print, check=read_npz) -> None:
    """Download a data set file, check its sha256 and, with ``check`` (raising DataError), its
    content, then move it into place.

    Network errors, silence for ``timeout`` seconds, 5xx and truncated bodies are retried
    ``retries`` more times with exponential backoff, each retry logged; 4xx and a checksum mismatch
    fail at once. Nothing is left at ``out_path`` unless everything succeeded.
    """
    if not sha256:
        raise DataError(f"{url}: a sha256 checksum is required to download a data set")
    sha256 = sha256.strip().lower()
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temporary_file_beside(out_path, ".part")
    try:
        for attempt in range(retries + 1):
            try:
                _fetch_once(url, tmp, timeout, progress)
                break
            except _Transient as err:
                if attempt == retries:
                    raise DataError(f"{url}: download failed after {retries + 1} attempt(s): "
                                    f"{err}") from err
                pause = backoff_s * 2 ** attempt
                log(f"{url}: attempt {attempt + 1} of {retries + 1} failed ({err}); retrying in {pause:g} s")
                time.sleep(pause)
        got = sha256_file(tmp)
        if got != sha256:
            raise DataError(f"{url}: checksum mismatch: expected sha256 {sha256}, got {got}; "
                            f"the downloaded file was removed")
        try:
            check(tmp)
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
        """The file's bytes, refused (DataError naming it and the limit) before they are read
        if they would exceed MAX_IMAGE_FILE_BYTES or inflate more than MAX_COMPRESSION_RATIO-fold."""
        if self.zip is not None:
            member = self.zip.getinfo(name)  # zipfile never inflates beyond the file_size it declares
            size, ratio = member.file_size, member.file_size / max(member.compress_size, 1)
        else:
            size, ratio = (self.root / name).stat().st_size, 1.0
        if size > MAX_IMAGE_FILE_BYTES:
            raise DataError(f"{self.name}: {name} is {size / 2**20:.0f} MiB, more than an image may be "
                            f"({MAX_IMAGE_FILE_BYTES >> 20} MiB); it was not read")
        if size > 1 << 20 and ratio > MAX_COMPRESSION_RATIO:
            raise DataError(f"{self.name}: {name} would inflate {ratio:.0f}-fold to {size / 2**20:.0f} MiB, "
                            f"more than the {MAX_COMPRESSION_RATIO}-fold an image may; it was not read")
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
            if image.width * image.height > MAX_IMAGE_PIXELS:  # known from the header, before decoding
                raise DataError(f"{archive.name}: {name} has {image.width}x{image.height} pixels, more than "
                                f"an image may have ({MAX_IMAGE_PIXELS:,}); it was not decoded")
            image = image.convert("RGB").resize((size, size), Image.BILINEAR)
            return np.asarray(image, dtype=np.uint8)
    except DataError:
        raise
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


def build_from_archive(archive, out_path, *, seed: int, size: int = INTEL_IMAGE_SIZE,
                       val_fraction: float = VAL_FRACTION, check=None) -> None:
    """The Intel landscapes npz from the public archive (a .zip or its extracted folder).

    Images are converted to RGB and resized with Pillow's BILINEAR filter; class index = sorted
    folder name; validation = a seeded ``val_fraction`` of each training class (files sorted first,
    so the result depends only on the seed); test = seg_test. ``check(shapes, n_classes, source)``
    may refuse the shapes (DataError) before any image is decoded.
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
        if check:
            check({f"{split}_images": (len(items), size, size, 3) for split, items in chosen.items()},
                  len(train_files), source.name)
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

def build(out_path, *, seed: int, path=None, url=None, sha256=None, archive=None, log=print) -> None:
    """Produce the Intel landscapes npz from the first configured source: path, url, archive.

    The result must be the homework's data (``sources.intel_shapes_problem``; an archive within
    ``ARCHIVE_TOLERANCE``), checked before anything is written to ``out_path``."""
    out_path = Path(out_path)
    problem = intel_landscapes_problem(path, url, sha256, archive)
    if problem:
        raise DataError(problem)
    options = {"path": path, "url": url, "archive": archive}
    configured = [key for key in INTEL_SOURCES if options[key]]
    if len(configured) > 1:
        log(f"intel_landscapes: several sources set ({', '.join(configured)}); "
            f"using '{configured[0]}'")
    source = intel_source(options)
    if source == "path":
        log(f"intel_landscapes: copying local file {path}")
        copy_npz(path, out_path)  # stops on a corrupt or malformed file, naming it
    elif source == "url":
        log(f"intel_landscapes: downloading {url}")
        download(url, out_path, sha256=sha256, log=log, check=_check_homework_file)
    else:
        log(f"intel_landscapes: building from archive {archive}")
        build_from_archive(archive, out_path, seed=seed, check=_check_homework_shapes)


def _check_homework_file(path) -> None:
    if problem := intel_file_problem(path):
        raise DataError(problem)


def _check_homework_shapes(shapes: dict[str, tuple], n_classes: int, source: str) -> None:
    if problem := intel_shapes_problem(shapes, n_classes, ARCHIVE_TOLERANCE):
        raise DataError(f"intel_landscapes: {source}: {problem}")
