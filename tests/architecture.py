"""The import graph of a source tree, read from its text, and the layout's rules over it.

Every ``import`` and ``from ... import`` of a package's modules is read with :mod:`ast`
(nothing is imported or run) and sorted by where it stands: at module level, under
``if TYPE_CHECKING:`` (for the type checker only), or inside a function or method (a lazy
import, run when the function first is). ``tests/test_architecture.py`` holds the source
to the rules below, and each rule to a small tree that breaks it.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Literal, NamedTuple

__all__ = [
    "Import",
    "circles",
    "forbidden",
    "imports_of",
    "in_package",
    "stale_allowances",
]

Kind = Literal["module", "typing", "lazy"]


class Import(NamedTuple):
    """``importer`` imports ``imported`` (a module, or a top-level package outside)."""

    importer: str
    imported: str
    kind: Kind
    line: int

    def __str__(self) -> str:
        return f"{self.importer}:{self.line} -> {self.imported} ({self.kind})"


def imports_of(root: Path, package: str) -> list[Import]:
    """Every import made by the modules of ``package``, found below ``root``."""
    modules = {_module_name(path, root): path for path in sorted((root / package).rglob("*.py"))}
    found: list[Import] = []
    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        base = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node, kind in _imports(tree, "module"):
            for imported in _targets(node, base, modules):
                found.append(Import(name, imported, kind, node.lineno))
    return found


def in_package(module: str, package: str) -> bool:
    """``module`` is ``package`` or inside it."""
    return module == package or module.startswith(package + ".")


def circles(imports: Iterable[Import], allowed: Mapping[tuple[str, str], str]) -> list[list[str]]:
    """The import circles between the modules, leaving out the ``allowed`` imports.

    Every kind counts, lazy and type-only imports too: a circle of any kind means two
    modules that cannot be read, or moved, one without the other.
    """
    graph: dict[str, set[str]] = {}
    for item in imports:
        if (item.importer, item.imported) not in allowed:
            graph.setdefault(item.importer, set()).add(item.imported)
    return [sorted(group) for group in _strongly_connected(graph) if len(group) > 1]


def forbidden(
    imports: Iterable[Import],
    importers: str,
    imported: Iterable[str],
    *,
    allowed: Mapping[tuple[str, str], str] | None = None,
    outside: Iterable[str] = (),
) -> list[Import]:
    """The imports by modules of ``importers`` (but not of ``outside``) of any package in
    ``imported``, other than those ``allowed``."""
    targets, exempt = tuple(imported), tuple(outside)
    return [
        item
        for item in imports
        if in_package(item.importer, importers)
        and not any(in_package(item.importer, other) for other in exempt)
        and any(in_package(item.imported, target) for target in targets)
        and (item.importer, item.imported) not in (allowed or {})
    ]


def stale_allowances(
    imports: Iterable[Import], allowed: Mapping[tuple[str, str], str]
) -> list[tuple[str, str]]:
    """Allowed imports that the source no longer makes lazily: the list must shrink too."""
    lazy = {(item.importer, item.imported) for item in imports if item.kind == "lazy"}
    return [pair for pair in allowed if pair not in lazy]


def _module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(node: ast.AST, kind: Kind) -> Iterator[tuple[ast.Import | ast.ImportFrom, Kind]]:
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.Import | ast.ImportFrom):
            yield child, kind
        elif isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            yield from _imports(child, "lazy")
        elif isinstance(child, ast.If) and kind == "module" and _is_type_checking(child.test):
            for statement in child.body:
                yield from _imports(ast.Module(body=[statement], type_ignores=[]), "typing")
            for statement in child.orelse:
                yield from _imports(ast.Module(body=[statement], type_ignores=[]), kind)
        else:
            yield from _imports(child, kind)


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _targets(node: ast.Import | ast.ImportFrom, base: str, modules: Mapping[str, Path]) -> set[str]:
    """The modules an import statement loads: ``from . import x`` is module ``x`` when
    there is one, ``from .m import name`` is ``m``; an outside import is its top package."""
    if isinstance(node, ast.Import):
        return {_known(alias.name, modules) for alias in node.names}
    if node.level:
        package = base
        for _ in range(node.level - 1):
            package = package.rpartition(".")[0]
        source = f"{package}.{node.module}" if node.module else package
    else:
        source = node.module or ""
    if source not in modules:
        return {_known(source, modules)}
    return {
        f"{source}.{alias.name}" if f"{source}.{alias.name}" in modules else source
        for alias in node.names
    }


def _known(name: str, modules: Mapping[str, Path]) -> str:
    """``name`` itself if it is one of the modules, else its top-level package."""
    return name if name in modules else name.partition(".")[0]


def _strongly_connected(graph: Mapping[str, set[str]]) -> list[list[str]]:
    """Tarjan's algorithm, iterative (a deep import chain must not hit the recursion limit)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []
    for start in sorted(graph):
        if start in index:
            continue
        work: list[tuple[str, Iterator[str]]] = [(start, iter(sorted(graph.get(start, ()))))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, successors = work[-1]
            advanced = False
            for successor in successors:
                if successor not in index:
                    index[successor] = low[successor] = len(index)
                    stack.append(successor)
                    on_stack.add(successor)
                    work.append((successor, iter(sorted(graph.get(successor, ())))))
                    advanced = True
                    break
                if successor in on_stack:
                    low[node] = min(low[node], index[successor])
            if advanced:
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                group = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.append(member)
                    if member == node:
                        break
                groups.append(group)
    return groups
