"""Which of the package's modules a script runs, read from the source: the import graph.

The workflow makes a rule's code inputs the modules its entry script imports,
directly or through other modules (``closure``), so that editing a module
reruns exactly the jobs that run it, and a module a script starts to import
becomes an input without anyone touching a rule. Nothing is imported to find
out: every ``import`` statement of a file counts, also one inside a function
(loaded only on some paths: it may run), and importing a module runs the
``__init__`` of every package above it, so those count too.

A module that declares ``ONLY_FORMATS_LOGS = True`` at its top level changes
only the jobs' logs, never what they write: it is left out of the closure
(editing a log line reruns nothing), but what it imports is followed.

Standard library only: the workflow uses this while it reads its rules.
"""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

PACKAGE = "homework1"
SOURCE = Path(__file__).resolve().parents[2]  # the src/ folder holding the package
LOG_ONLY_FLAG = "ONLY_FORMATS_LOGS"


@cache
def module_files(source: Path = SOURCE) -> dict[str, Path]:
    """{dotted name: file} of every module of the package (a package is its __init__.py),
    as it was when first asked for in this process."""
    files = {}
    for path in sorted((source / PACKAGE).rglob("*.py")):
        parts = path.relative_to(source).with_suffix("").parts
        files[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return files


def _parsed(path: Path) -> ast.Module:
    stat = Path(path).stat()
    return _parse(Path(path), stat.st_mtime_ns, stat.st_size)


@cache
def _parse(path: Path, mtime_ns: int, size: int) -> ast.Module:  # keyed by mtime and size: an edit reparses
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _absolute(module: str | None, level: int, importer: str | None, importer_is_package: bool) -> str:
    """The absolute name of ``from <level dots><module> import ...`` in module ``importer``."""
    if level == 0:
        return module or ""
    if importer is None:
        raise ValueError("a relative import outside the package")
    parts = importer.split(".")
    base = parts if importer_is_package else parts[:-1]
    base = base[:len(base) - (level - 1)]
    return ".".join(base + ([module] if module else []))


def imported_modules(path: Path, name: str | None = None, source: Path = SOURCE) -> set[str]:
    """The package's modules that the file ``path`` (the module ``name``; None for a script)
    imports by name: ``import a.b`` and ``from a import b`` (if ``a.b`` is a module, else ``a``)."""
    stat = Path(path).stat()
    return _imported_modules(Path(path), stat.st_mtime_ns, stat.st_size, name, source)


@cache
def _imported_modules(path: Path, mtime_ns: int, size: int, name: str | None, source: Path) -> set[str]:
    modules = module_files(source)
    found = set()
    for node in _statements(_parsed(path).body):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = _absolute(node.module, node.level, name, Path(path).name == "__init__.py")
            found.update(f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base
                         for alias in node.names)
    return {module for module in found if module in modules}


def _statements(body: list[ast.stmt]):
    """Every statement, nested ones too (in functions, classes, if/try/with/for bodies): an import
    is a statement, so expressions need no visit."""
    for node in body:
        yield node
        for field in ("body", "orelse", "finalbody", "handlers", "cases"):
            for child in getattr(node, field, ()):
                yield from _statements(child.body if isinstance(child, (ast.ExceptHandler, ast.match_case))
                                       else [child])


def _packages_above(module: str) -> list[str]:
    parts = module.split(".")
    return [".".join(parts[:end]) for end in range(1, len(parts))]


def only_formats_logs(path: Path) -> bool:
    """Whether the module declares ``ONLY_FORMATS_LOGS = True`` at its top level."""
    return any(isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == LOG_ONLY_FLAG
                                                    for t in node.targets)
               and isinstance(node.value, ast.Constant) and node.value.value is True
               for node in _parsed(path).body)


def closure(script: Path | None = None, modules: tuple[str, ...] = (), source: Path = SOURCE) -> list[Path]:
    """The files of every package module that ``script`` (and the named ``modules``) import,
    directly or through others, with the packages above them; log-only modules left out."""
    files = module_files(source)
    todo = list(modules) + (sorted(imported_modules(script, None, source)) if script else [])
    seen: set[str] = set()
    while todo:
        module = todo.pop()
        if module in seen:
            continue
        seen.add(module)
        todo += _packages_above(module) + sorted(imported_modules(files[module], module, source))
    return sorted(files[module] for module in seen if not only_formats_logs(files[module]))


def import_graph(source: Path = SOURCE) -> dict[str, set[str]]:
    """{module: the package modules it imports by name} over the whole package."""
    return {name: imported_modules(path, name, source) for name, path in module_files(source).items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every group of modules that import each other, round and round (Tarjan's strongly
    connected components of more than one module, or one importing itself)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1 or node in graph.get(node, ()):
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def layer_of(module: str) -> str:
    """The layer of a module: the package's folder it lives in (``homework1.core.files``: core)."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def layer_breaches(graph: dict[str, set[str]], may_import: dict[str, set[str]]) -> list[tuple[str, str]]:
    """Every import (importer, imported) across layers that ``may_import`` ({layer: the layers it may
    import}) does not allow; a layer missing from it may import none."""
    return sorted((importer, imported) for importer, targets in graph.items() for imported in targets
                  if layer_of(importer) != layer_of(imported) and layer_of(imported)
                  and layer_of(imported) not in may_import.get(layer_of(importer), set()))
