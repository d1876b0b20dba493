"""Writing files so that nothing is ever half-written, and reading their checksums.

The lowest module of the package: every output (data sets, run results,
checkpoints) is written through ``atomic_write``.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import secrets
from contextlib import contextmanager
from pathlib import Path


class FileProblem(ValueError):
    """A file or folder that is missing, unreadable or not what it should be. The message names it
    and says why, so a job reports it in one line, without a traceback (homework1.job.joblog)."""


class LockHeld(FileProblem):
    """Another process holds the lock; ``holder`` is what it wrote into the lock file."""

    def __init__(self, message: str, holder: str):
        super().__init__(message)
        self.holder = holder


@contextmanager
def exclusive_lock(path, holder: str):
    """Hold an exclusive lock on ``path`` (made if missing) while the context runs, with ``holder``
    (who holds it, for people) written in it. The kernel releases it when the process ends,
    however it ends (kill -9 included), so a lock is never left behind. Raises ``LockHeld`` at once
    when another process holds it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            other = os.pread(fd, 1000, 0).decode(errors="replace").strip() or "a process that has not said who"
            raise LockHeld(f"{path} is held by {other}", other) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, holder.encode(), 0)
        yield
    finally:
        os.close(fd)


def atomic_write(path, write, suffix: str = ".tmp") -> None:
    """``write(tmp)`` a temporary file beside ``path``, then rename it to ``path``.

    A reader never sees a partial file, and a failure leaves whatever was at ``path`` untouched.
    A failure to write is raised as an OSError naming ``path``, not the temporary file; ``suffix``
    ends the temporary file's name (numpy's savez appends ".npz" to any other).
    """
    path = Path(path)
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = temporary_file_beside(path, suffix)
        write(tmp)
        os.replace(tmp, path)
    except BaseException as err:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
        if isinstance(err, OSError) and err.errno is not None and _about_the_temporary_file(err, path):
            raise OSError(err.errno, err.strerror, str(path)) from err
        raise


def temporary_file_beside(path: Path, suffix: str = ".tmp") -> Path:
    """A new empty file with a name of its own beside ``path``, made with the mode a plain ``open``
    gives (0666 less the umask), which it keeps when renamed into place: on a shared cluster the
    group reads the results as the umask allows (``tempfile.mkstemp`` makes 0600, whatever the umask)."""
    while True:
        tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}{suffix}")
        try:
            os.close(os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666))
            return tmp
        except FileExistsError:
            continue


def _about_the_temporary_file(err: OSError, path: Path) -> bool:
    """Whether a failure of atomic_write concerns its temporary file: it names a file
    beside ``path``, or none (a write to an open file)."""
    return err.filename is None or Path(os.path.abspath(err.filename)).parent == Path(os.path.abspath(path)).parent


def sha256_file(path: str | os.PathLike, chunk_size: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(chunk_size), b""):
            digest.update(chunk)
    return digest.hexdigest()


def sha256_files(paths) -> str:
    """One checksum of several files' names and contents, whatever their order and folder."""
    digest = hashlib.sha256()
    for name, content in sorted((Path(path).name, sha256_file(path)) for path in paths):
        digest.update(f"{name} {content}\n".encode())
    return digest.hexdigest()


def remove_empty_folders(root) -> int:
    """Remove every folder below ``root`` that is empty (or holds only empty folders), deepest first; ``root``
    itself stays. How many were removed. Call it when nothing writes there (a folder emptied while another
    job is about to write into it would be gone under it)."""
    removed = 0
    for folder, _, _ in sorted(os.walk(root), key=lambda entry: -len(Path(entry[0]).parts)):
        if Path(folder) != Path(root) and not any(Path(folder).iterdir()):
            Path(folder).rmdir()
            removed += 1
    return removed
