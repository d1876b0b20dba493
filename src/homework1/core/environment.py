"""What the workflow needs of the machine it runs on, set or checked while Snakemake reads it.

- Its jobs import the package from this checkout's ``src/`` (so a rule's code inputs are exactly
  the code its jobs run) and read and write text as UTF-8 whatever the locale.
- The interpreter's path is quoted: Snakemake 9 runs a ``script:`` with it unquoted, which breaks
  under a path with a space.
- It runs from outside its checkout or from the checkout itself: from a folder inside it,
  ``config/config.yaml`` would be missed and the outputs land in ``<that folder>/results/``.

Standard library only: the workflow imports this first.
"""

from __future__ import annotations

import os
import shlex
from pathlib import Path


def job_environment(source_dir, inherited_pythonpath: str = "") -> dict[str, str]:
    """The variables every job inherits: the checkout's ``src/`` first on PYTHONPATH, and Python's
    UTF-8 mode (a job reads sources, CSV and JSON as UTF-8 under any locale)."""
    path = os.pathsep.join(p for p in (str(source_dir), inherited_pythonpath) if p)
    return {"PYTHONPATH": path, "PYTHONUTF8": "1"}


def shell_safe(executable: str) -> str:
    """The interpreter's path as a shell reads it back: quoted where it holds a space or another
    character the shell splits on, else unchanged (as is one quoted already: no file has that name)."""
    return shlex.quote(executable) if os.path.exists(executable) else executable


def working_directory_problem(workdir, checkout) -> str | None:
    """Why Snakemake should not run in ``workdir`` with the workflow of ``checkout`` (None if it may)."""
    workdir, checkout = Path(workdir).resolve(), Path(checkout).resolve()
    if checkout not in workdir.parents:
        return None
    inside = workdir.relative_to(checkout)
    return (f"snakemake runs in {inside}/, a folder inside the workflow's checkout: config/config.yaml would not "
            f"be read and the outputs would go to {inside}/results/; run it from {checkout} (or give -d a folder "
            f"outside the checkout)")
