"""The import graph of the suite: no cycles, arrows only point down the rooms, theory stays math-only.

The graph is built from each module's own source (``ast``), not by importing it, so a cycle that Python
happens to tolerate today still fails here. Edges:

- ``import a.b`` is an edge to ``a.b``; ``from a import b`` is an edge to ``a.b`` when that is a module,
  else to ``a``; relative imports are resolved against the importing module's package.
- Imports inside functions and methods count: a deferred import is still a dependency.
- Imports under ``if TYPE_CHECKING:`` are left out: they never run.
- The implicit import of a parent package (importing ``a.b`` runs ``a/__init__.py``) is not an edge;
  otherwise every package with a submodule would be a cycle.
- ``importlib.import_module`` with a computed name is not seen (the registries of paper_figures and
  benchmarks load their own modules that way, inside their room).
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

# Arrows may only point to a room of lower or equal rank; rooms of equal rank must not import each other.
ROOM_RANK = {"theory": 0, "landscape": 1, "toymodels": 2, "llm_check": 2, "paper_figures": 3,
             "benchmarks": 4}
# theory/ is math only: the standard library plus these.
THEORY_THIRD_PARTY = {"numpy", "scipy", "sympy"}


def module_files(root: Path, packages: Iterable[str]) -> dict[str, tuple[Path, bool]]:
    """Dotted module name -> (source file, is a package) for every .py file under the given packages."""
    modules: dict[str, tuple[Path, bool]] = {}
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            parts = list(path.relative_to(root).with_suffix("").parts)
            is_package = parts[-1] == "__init__"
            if is_package:
                parts.pop()
            modules[".".join(parts)] = (path, is_package)
    return modules


def _is_type_checking(test: ast.expr) -> bool:
    return ((isinstance(test, ast.Name) and test.id == "TYPE_CHECKING")
            or (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"))


def imported_names(tree: ast.AST, module: str, is_package: bool,
                   known: Mapping[str, object]) -> set[str]:
    """Every module name ``module`` imports (dotted), resolved as the module docstring describes."""
    package = module if is_package else module.rpartition(".")[0]
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base_parts = package.split(".")
                base_parts = base_parts[:len(base_parts) - (node.level - 1)]
                base = ".".join(base_parts + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            for alias in node.names:
                candidate = f"{base}.{alias.name}"
                found.add(candidate if candidate in known else base)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


def build_graph(root: Path, packages: Iterable[str]) -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """(internal edges, external top-level imports) per module of ``packages`` under ``root``.

    An import of a name below a module (``import a.b.c`` where only ``a.b`` is a file) is an edge to the
    nearest module that exists.
    """
    modules = module_files(root, packages)
    internal: dict[str, set[str]] = {name: set() for name in modules}
    external: dict[str, set[str]] = {name: set() for name in modules}
    top_levels = {name.partition(".")[0] for name in modules}
    for name, (path, is_package) in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for target in imported_names(tree, name, is_package, modules):
            if target.partition(".")[0] not in top_levels:
                external[name].add(target.partition(".")[0])
                continue
            while target and target not in modules:
                target = target.rpartition(".")[0]
            if target and target != name:
                internal[name].add(target)
    return internal, external


def strongly_connected_components(graph: Mapping[str, set[str]]) -> list[list[str]]:
    """Tarjan's algorithm, iterative; components in no particular order, members sorted."""
    index: dict[str, int] = {}
    lowlink: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    components: list[list[str]] = []
    counter = 0
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = lowlink[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, successors = work[-1]
            advanced = False
            for succ in successors:
                if succ not in graph:
                    continue
                if succ not in index:
                    index[succ] = lowlink[succ] = counter
                    counter += 1
                    stack.append(succ)
                    on_stack.add(succ)
                    work.append((succ, iter(sorted(graph[succ]))))
                    advanced = True
                    break
                if succ in on_stack:
                    lowlink[node] = min(lowlink[node], index[succ])
            if advanced:
                continue
            work.pop()
            if work:
                lowlink[work[-1][0]] = min(lowlink[work[-1][0]], lowlink[node])
            if lowlink[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                components.append(sorted(component))
    return components


def one_cycle(graph: Mapping[str, set[str]], component: list[str]) -> list[str]:
    """A shortest cycle through the component's first member, staying inside the component."""
    members = set(component)
    start = component[0]
    parents: dict[str, str] = {}
    frontier = [start]
    while frontier:
        next_frontier = []
        for node in frontier:
            for succ in sorted(graph[node] & members):
                if succ == start:
                    path = [node]
                    while path[-1] != start:
                        path.append(parents[path[-1]])
                    return [start, *reversed(path[:-1]), start]
                if succ not in parents:
                    parents[succ] = node
                    next_frontier.append(succ)
        frontier = next_frontier
    raise AssertionError(f"no cycle through {start} inside {component}")


def cycles(graph: Mapping[str, set[str]]) -> list[str]:
    """One line per strongly connected component of more than one module: 'a -> b -> a', followed by
    '(component: a, b, c)' when the component holds modules the shortest cycle misses."""
    found = []
    for component in strongly_connected_components(graph):
        if len(component) < 2:
            continue
        cycle = one_cycle(graph, component)
        line = " -> ".join(cycle)
        if len(set(cycle)) < len(component):
            line += f" (component: {', '.join(component)})"
        found.append(line)
    return sorted(found)


def forbidden_arrows(graph: Mapping[str, set[str]], room_rank: Mapping[str, int]) -> list[str]:
    """Edges that point up the rooms, or sideways between two different rooms of the same rank."""
    found = []
    for source in sorted(graph):
        source_room = source.partition(".")[0]
        for target in sorted(graph[source]):
            target_room = target.partition(".")[0]
            if source_room == target_room:
                continue
            if room_rank[target_room] > room_rank[source_room]:
                found.append(f"{source} -> {target} (up: {source_room} may not import {target_room})")
            elif room_rank[target_room] == room_rank[source_room]:
                found.append(f"{source} -> {target} (sideways: {source_room} and {target_room} are peers)")
    return found


def disallowed_external(external: Mapping[str, set[str]], room: str, allowed: set[str]) -> list[str]:
    """Modules of ``room`` importing a top-level name outside the standard library and ``allowed``."""
    stdlib = set(sys.stdlib_module_names) | {"__future__"}
    return [f"{module} imports {name}" for module in sorted(external) if module.partition(".")[0] == room
            for name in sorted(external[module] - stdlib - allowed)]


@pytest.fixture(scope="module")
def suite_graph():
    return build_graph(REPO, ROOM_RANK)


def test_every_room_is_in_the_graph(suite_graph):
    internal, _ = suite_graph
    assert {name.partition(".")[0] for name in internal} == set(ROOM_RANK)
    # A sanity check that edges are found at all: landscape is built on theory.
    assert any(t.startswith("theory") for s, ts in internal.items() if s.startswith("landscape") for t in ts)


def test_no_import_cycles(suite_graph):
    internal, _ = suite_graph
    found = cycles(internal)
    assert not found, "import cycles:\n" + "\n".join(found)


def test_arrows_only_point_down_the_rooms(suite_graph):
    internal, _ = suite_graph
    found = forbidden_arrows(internal, ROOM_RANK)
    assert not found, "imports against the order of the rooms:\n" + "\n".join(found)


def test_theory_imports_only_numpy_scipy_sympy(suite_graph):
    _, external = suite_graph
    found = disallowed_external(external, "theory", THEORY_THIRD_PARTY)
    assert not found, "theory imports beyond the standard library, numpy, scipy, sympy:\n" + "\n".join(found)


def _write(root: Path, files: Mapping[str, str]) -> None:
    for relative, source in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(source, encoding="utf-8")


def test_checker_reports_cycles_upward_arrows_and_forbidden_imports(tmp_path):
    _write(tmp_path, {
        "low/__init__.py": "",
        "low/base.py": "import numpy\n",
        # an upward arrow, hidden inside a function
        "low/helper.py": "def f():\n    from high.a import thing\n    return thing\n",
        "low/math_only.py": "import torch\n",
        "high/__init__.py": "from .a import thing\n",
        # high.a -> high.b -> high.a, through a relative import and a `from package import module`
        "high/a.py": "from . import b\nthing = 1\n",
        "high/b.py": "from high import a\nfrom low.base import numpy\n",
        # a TYPE_CHECKING import does not count
        "high/c.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import high.d\n",
        "high/d.py": "import high.c\n",
    })
    internal, external = build_graph(tmp_path, ["low", "high"])
    assert internal["high"] == {"high.a"}
    assert internal["high.b"] == {"high.a", "low.base"}
    assert cycles(internal) == ["high.a -> high.b -> high.a"]
    assert forbidden_arrows(internal, {"low": 0, "high": 1}) == [
        "low.helper -> high.a (up: low may not import high)"]
    assert forbidden_arrows(internal, {"low": 1, "high": 1}) == [
        "high.b -> low.base (sideways: high and low are peers)",
        "low.helper -> high.a (sideways: low and high are peers)"]
    assert disallowed_external(external, "low", {"numpy"}) == ["low.math_only imports torch"]


def test_checker_names_every_module_of_a_longer_cycle(tmp_path):
    _write(tmp_path, {
        "pkg/__init__.py": "",
        "pkg/a.py": "import pkg.b\n",
        "pkg/b.py": "from pkg.c import x\n",
        "pkg/c.py": "x = 1\nfrom .a import *\n",
        # a second, shorter loop pkg.d <-> pkg.a joins the same component
        "pkg/d.py": "import pkg.a\n",
    })
    internal, _ = build_graph(tmp_path, ["pkg"])
    assert cycles(internal) == ["pkg.a -> pkg.b -> pkg.c -> pkg.a"]
    _write(tmp_path, {"pkg/a.py": "import pkg.b\nimport pkg.d\n"})
    internal, _ = build_graph(tmp_path, ["pkg"])
    assert cycles(internal) == ["pkg.a -> pkg.d -> pkg.a (component: pkg.a, pkg.b, pkg.c, pkg.d)"]
