"""A data set that is a file of one's own in the course's layout, of any image size, channels, classes
and split sizes: a local copy (``path``) or a download checked against its sha256 (``url``, ``sha256``).
Its files, tables and figures go by the file's name, or by ``name``."""

from __future__ import annotations

from homework1.core.data import SPLITS, DataError, check_npz, copy_npz
from homework1.sources import FILE_SOURCE, npz_problem
from homework1.sources.intel_landscapes import download


def build(out_path, *, path: str = "", url: str = "", sha256: str = "", name: str = "", log=print) -> None:
    """Write the file to ``out_path`` once it passed the layout's checks (headers first, then every
    array): ``path`` if set, else the download of ``url``, which must have the checksum ``sha256``."""
    if problem := npz_problem(path, url, sha256, name):
        raise DataError(problem)
    if path:
        log(f"{FILE_SOURCE}: copying local file {path}")
        copy_npz(path, out_path)
    else:
        log(f"{FILE_SOURCE}: downloading {url}")
        download(url, out_path, sha256=sha256, log=log)
    headers, n_classes = check_npz(out_path)
    image = "x".join(map(str, headers["train_images"].shape[1:]))
    sizes = "/".join(str(headers[f"{split}_images"].shape[0]) for split in SPLITS)
    log(f"{FILE_SOURCE}: images of {image}, {n_classes} classes, {sizes} train/val/test")
