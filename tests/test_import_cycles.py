"""No two patchbay modules import each other, even through others, when they are imported.

The graph is read from the source (no module is imported): an edge for every
``import`` and ``from ... import`` that runs when its module is imported, i.e.
at module level, in class bodies and under ``if``/``try``/``with`` there.
Imports inside functions run later and cannot deadlock an import, and those
under ``if TYPE_CHECKING:`` never run; both are left out. ``from package
import name`` points at the submodule ``package.name`` when there is one, else
at the package.
"""

from __future__ import annotations

import ast
import textwrap
from collections.abc import Iterator
from pathlib import Path

import patchbay

PACKAGE_DIR = Path(patchbay.__file__).parent


def module_names(package_dir: Path) -> dict[str, Path]:
    """Every module below ``package_dir`` by dotted name (a package is its ``__init__``)."""
    modules = {}
    for path in sorted(package_dir.rglob("*.py")):
        parts = path.relative_to(package_dir.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        modules[".".join(parts)] = path
    return modules


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def import_time_imports(body: list[ast.stmt]) -> Iterator[ast.Import | ast.ImportFrom]:
    """The import statements of ``body`` that run when the module is imported."""
    for node in body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        elif isinstance(node, ast.If):
            if not _is_type_checking(node.test):
                yield from import_time_imports(node.body)
            yield from import_time_imports(node.orelse)
        elif isinstance(node, ast.ClassDef):
            yield from import_time_imports(node.body)
        elif isinstance(node, ast.Try):
            for block in (node.body, *(h.body for h in node.handlers), node.orelse, node.finalbody):
                yield from import_time_imports(block)
        elif isinstance(node, (ast.With, ast.AsyncWith)):
            yield from import_time_imports(node.body)


def _base(module: str, is_package: bool, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    parts = module.split(".") if is_package else module.split(".")[:-1]
    parts = parts[: len(parts) - (node.level - 1)]
    return ".".join([*parts, *([node.module] if node.module else [])])


def import_graph(package_dir: Path) -> dict[str, set[str]]:
    """For each module of the package, the package's modules it imports at import time."""
    modules = module_names(package_dir)
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in import_time_imports(tree.body):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            else:
                base = _base(name, path.name == "__init__.py", node)
                targets = [
                    f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base
                    for alias in node.names
                ]
            graph[name].update(target for target in targets if target in modules)
    return graph


def import_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One cycle (``[a, b, ..., a]``) per strongly connected group of modules."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[set[str]] = []

    def visit(node: str) -> None:  # Tarjan's algorithm
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.add(member)
                if member == node:
                    break
            if len(group) > 1 or node in graph[node]:
                groups.append(group)

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return [_cycle_in(group, graph) for group in groups]


def _cycle_in(group: set[str], graph: dict[str, set[str]]) -> list[str]:
    """A shortest path from the group's first module back to itself, inside the group."""
    start = min(group)
    paths = {start: [start]}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for target in sorted(graph[node] & group):
                if target == start:
                    return [*paths[node], start]
                if target not in paths:
                    paths[target] = [*paths[node], target]
                    following.append(target)
        frontier = following
    raise AssertionError(f"no cycle in {sorted(group)}")  # a group always has one


def test_patchbay_has_no_import_cycle():
    cycles = import_cycles(import_graph(PACKAGE_DIR))

    assert not cycles, "import cycles:\n" + "\n".join(" -> ".join(cycle) for cycle in cycles)


# -- the detector itself -----------------------------------------------------------------


def make_package(root: Path, files: dict[str, str]) -> Path:
    package = root / "pkg"
    for name, source in {"__init__.py": "", **files}.items():
        path = package / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(source))
    return package


def cycles_of(tmp_path: Path, files: dict[str, str]) -> list[str]:
    graph = import_graph(make_package(tmp_path, files))
    return [" -> ".join(cycle) for cycle in import_cycles(graph)]


def test_finds_a_cycle_of_absolute_imports(tmp_path):
    assert cycles_of(tmp_path, {"a.py": "import pkg.b\n", "b.py": "from pkg.a import x\n"}) == [
        "pkg.a -> pkg.b -> pkg.a"
    ]


def test_finds_a_cycle_through_several_modules_and_relative_imports(tmp_path):
    files = {
        "a.py": "from . import b\n",
        "b.py": "from .sub import c\n",
        "sub/__init__.py": "",
        "sub/c.py": "from ..a import name\n",
        "d.py": "from . import a\n",  # imports into the cycle, is not part of it
    }
    assert cycles_of(tmp_path, files) == ["pkg.a -> pkg.b -> pkg.sub.c -> pkg.a"]


def test_finds_a_cycle_hidden_in_a_class_body_a_try_or_an_if(tmp_path):
    files = {
        "a.py": "class A:\n    from pkg import b\n",
        "b.py": "try:\n    from pkg import c\nexcept ImportError:\n    pass\n",
        "c.py": "import sys\nif sys.version_info > (3,):\n    import pkg.a\n",
    }
    assert cycles_of(tmp_path, files) == ["pkg.a -> pkg.b -> pkg.c -> pkg.a"]


def test_a_package_importing_from_itself_through_a_submodule(tmp_path):
    files = {"__init__.py": "from pkg.a import x\n", "a.py": "from pkg import y\n"}
    assert cycles_of(tmp_path, files) == ["pkg -> pkg.a -> pkg"]


def test_imports_in_functions_or_for_type_checking_make_no_cycle(tmp_path):
    files = {
        "a.py": "import pkg.b\n",
        "b.py": """\
            from typing import TYPE_CHECKING
            import typing
            if TYPE_CHECKING:
                from pkg import a
            if typing.TYPE_CHECKING:
                import pkg.a
            def later():
                from pkg.a import x
            class B:
                def method(self):
                    import pkg.a
        """,
    }
    assert cycles_of(tmp_path, files) == []


def test_imports_of_other_packages_are_not_followed(tmp_path):
    files = {"a.py": "import json\nfrom django import forms\nfrom pkg import b\n", "b.py": ""}
    assert import_graph(make_package(tmp_path, files))["pkg.a"] == {"pkg.b"}
