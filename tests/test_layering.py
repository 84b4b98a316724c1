"""The architecture, enforced: every module of src/autogloss sits on one floor,
imports only from its own floor or below, and no files import each other in
a circle.

Imports are read with ``ast`` (those inside functions too, relative ones
resolved), so a function-level import cannot hide an upward arrow. Imports
under ``if TYPE_CHECKING:`` never run: they count for the floors (a type
named from a higher floor is still an upward dependency) but not for circles.
docs/architecture.md describes the floors.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"

#: Floors, bottom to top: (number, what lives there, module prefixes).
#: ``autogloss`` alone is the package's ``__init__``.
LAYERS: list[tuple[int, str, tuple[str, ...]]] = [
    (0, "records and file primitives", ("autogloss", "autogloss.errors", "autogloss.records", "autogloss.fileio",
                                        "autogloss.datapath", "autogloss.progress")),
    (1, "normalisation, metrics, calibration", ("autogloss.normalise", "autogloss.metrics",
                                                 "autogloss.calibration")),
    (2, "documents: interlinear/", ("autogloss.interlinear",)),
    (3, "formats and the registry: formats/", ("autogloss.formats",)),
    (4, "corpus, corrections, models", ("autogloss.corpus", "autogloss.corrections", "autogloss.models")),
    (5, "glossing pipeline and training recipes", ("autogloss.glossing", "autogloss.training",
                                                    "autogloss.worklist", "autogloss.learning")),
    (6, "shared-task runner", ("autogloss.sharedtask",)),
    (7, "CLI and web", ("autogloss.cli", "autogloss.__main__", "autogloss.web")),
]
#: Models see only records and metrics: a model never reads a file format.
MODELS, MODELS_MAY_IMPORT = "autogloss.models", 1


@dataclass(frozen=True)
class Import:
    """One import statement's target, as written in a file."""

    module: str  # absolute, relative imports resolved ("" for an unresolvable one)
    names: tuple[str, ...]  # the names of ``from module import a, b`` (empty for ``import module``)
    line: int
    module_level: bool  # runs when the file is imported (not inside a function)
    type_only: bool  # under ``if TYPE_CHECKING:``: never runs


def module_name(path: Path, root: Path = SRC) -> str:
    """``autogloss.formats.jsonl`` for src/autogloss/formats/jsonl.py (a
    package's ``__init__`` is the package)."""
    parts = path.relative_to(root).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def read_imports(path: Path, root: Path = SRC) -> list[Import]:
    """Every import in a file: at module level, inside functions and classes,
    and under ``TYPE_CHECKING``."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    own = module_name(path, root)
    package = own if path.name == "__init__.py" else own.rpartition(".")[0]
    found: list[Import] = []

    def resolve(node: ast.ImportFrom) -> str:
        if not node.level:
            return node.module or ""
        parts = package.split(".")
        if node.level - 1 >= len(parts):
            return ""
        base = parts[: len(parts) - (node.level - 1)]
        return ".".join(base + ([node.module] if node.module else []))

    def visit(node: ast.AST, module_level: bool, type_only: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.Import):
                found.extend(Import(alias.name, (), child.lineno, module_level, type_only) for alias in child.names)
            elif isinstance(child, ast.ImportFrom):
                names = tuple(alias.name for alias in child.names)
                found.append(Import(resolve(child), names, child.lineno, module_level, type_only))
            elif isinstance(child, ast.If) and _is_type_checking(child.test):
                for inner in child.body:
                    visit(ast.Module(body=[inner], type_ignores=[]), module_level, True)
                for inner in child.orelse:
                    visit(ast.Module(body=[inner], type_ignores=[]), module_level, type_only)
                continue
            in_function = isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
            visit(child, module_level and not in_function, type_only)

    visit(tree, True, False)
    return found


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    line: int
    type_only: bool


def import_graph(root: Path = SRC, package: str = "autogloss") -> tuple[dict[str, Path], list[Edge]]:
    """The package's modules (name -> file) and the imports between them.

    ``from pkg import name`` points at ``pkg`` and, where ``name`` is a
    submodule, at that submodule too."""
    files = {module_name(path, root): path for path in sorted((root / package).rglob("*.py"))}
    edges: list[Edge] = []
    for source, path in files.items():
        for found in read_imports(path, root):
            if not (found.module == package or found.module.startswith(package + ".")):
                continue
            targets = [found.module] + [f"{found.module}.{name}" for name in found.names]
            for target in targets:
                while target not in files and "." in target:
                    target = target.rpartition(".")[0]  # a name inside a module, or a module since moved
                if target in files and target != source:
                    edges.append(Edge(source, target, found.line, found.type_only))
    return files, sorted(set(edges), key=lambda e: (e.source, e.target, e.line))


def layer_of(module: str) -> tuple[int, str] | None:
    for number, label, prefixes in LAYERS:
        for prefix in prefixes:
            if module == prefix or (prefix != "autogloss" and module.startswith(prefix + ".")):
                return number, label
    return None


def _show(module: str, files: dict[str, Path], root: Path) -> str:
    return str(files[module].relative_to(root))


def unplaced_modules(files: dict[str, Path]) -> list[str]:
    return [module for module in files if layer_of(module) is None]


def upward_imports(files: dict[str, Path], edges: list[Edge], root: Path = SRC) -> list[str]:
    """Each import from a lower floor to a higher one, as 'file:line -> file'."""
    problems = []
    for edge in edges:
        low, high = layer_of(edge.source), layer_of(edge.target)
        if low is None or high is None:
            continue
        rule = None
        if high[0] > low[0]:
            rule = f"floor {low[0]} ({low[1]}) imports floor {high[0]} ({high[1]})"
        elif _within(edge.source, MODELS) and not _within(edge.target, MODELS) and high[0] > MODELS_MAY_IMPORT:
            rule = f"a model imports {high[1]} (models import only floors 0-{MODELS_MAY_IMPORT})"
        elif _within(edge.source, "autogloss.web") and _within(edge.target, "autogloss.cli"):
            rule = "the web app imports the CLI"
        if rule:
            kind = " (TYPE_CHECKING)" if edge.type_only else ""
            problems.append(f"{_show(edge.source, files, root)}:{edge.line} -> "
                            f"{_show(edge.target, files, root)}{kind}: {rule}")
    return problems


def _within(module: str, prefix: str) -> bool:
    return module == prefix or module.startswith(prefix + ".")


def import_circles(files: dict[str, Path], edges: list[Edge], root: Path = SRC) -> list[str]:
    """Each group of files that import each other (imports that run), shown
    as one circle through it: 'a.py -> b.py -> a.py'."""
    graph: dict[str, list[Edge]] = {module: [] for module in files}
    for edge in edges:
        if not edge.type_only:
            graph[edge.source].append(edge)
    circles = []
    for group in _strongly_connected(graph):
        if len(group) > 1:
            path = _circle_through(sorted(group)[0], group, graph)
            steps = " -> ".join(f"{_show(e.source, files, root)}:{e.line}" for e in path)
            circles.append(f"{steps} -> {_show(path[0].source, files, root)} "
                           f"(a circle of {len(group)} files: {', '.join(_show(m, files, root) for m in sorted(group))})")
    return circles


def _strongly_connected(graph: dict[str, list[Edge]]) -> list[set[str]]:
    """Tarjan's algorithm, iterative (the graph is small, but recursion
    limits are not the test's business)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[set[str]] = []
    for start in graph:
        if start in index:
            continue
        work = [(start, iter(graph[start]))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            for edge in children:
                child = edge.target
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(graph[child])))
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    group = set()
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        group.add(member)
                        if member == node:
                            break
                    groups.append(group)
    return groups


def _circle_through(start: str, group: set[str], graph: dict[str, list[Edge]]) -> list[Edge]:
    """A shortest path of edges from start back to start inside the group."""
    paths: dict[str, list[Edge]] = {start: []}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for edge in graph[node]:
                if edge.target == start:
                    return paths[node] + [edge]
                if edge.target in group and edge.target not in paths:
                    paths[edge.target] = paths[node] + [edge]
                    following.append(edge.target)
        frontier = following
    raise AssertionError(f"{start}: no circle in its group")


# -- the rules, on src/autogloss ------------------------------------------------
def test_every_module_has_a_floor():
    files, _ = import_graph()
    unplaced = unplaced_modules(files)
    assert not unplaced, ("modules on no floor (add them to LAYERS here and to docs/architecture.md):\n"
                          + "\n".join(_show(m, files, SRC) for m in unplaced))


def test_no_import_circles():
    files, edges = import_graph()
    circles = import_circles(files, edges)
    assert not circles, "files that import each other:\n" + "\n".join(circles)


def test_no_upward_imports():
    files, edges = import_graph()
    problems = upward_imports(files, edges)
    assert not problems, "imports from a lower floor to a higher one:\n" + "\n".join(problems)


# -- the checker itself, on a package written here ------------------------------
def _package(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / "autogloss" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def test_the_checker_resolves_relative_and_function_level_imports(tmp_path: Path):
    root = _package(tmp_path, {
        "__init__.py": "",
        "records.py": "",
        "formats/__init__.py": "from . import jsonl\n",
        "formats/jsonl.py": "from ..records import X\n\ndef f():\n    from autogloss.interlinear.document import D\n",
        "interlinear/__init__.py": "",
        "interlinear/document.py": "",
    })
    files, edges = import_graph(root)
    assert {(e.source, e.target) for e in edges} == {
        ("autogloss.formats", "autogloss.formats.jsonl"),
        ("autogloss.formats.jsonl", "autogloss.records"),
        ("autogloss.formats.jsonl", "autogloss.interlinear.document"),
    }
    assert not upward_imports(files, edges, root) and not import_circles(files, edges, root)


def test_the_checker_finds_upward_imports_and_circles(tmp_path: Path):
    root = _package(tmp_path, {
        "__init__.py": "",
        "records.py": "def f():\n    from .formats import read\n",  # floor 0 -> 3, hidden in a function
        "formats/__init__.py": "from ..interlinear import doc\n",
        "interlinear/__init__.py": "",
        "interlinear/doc.py": "from ..formats import write\n",  # floor 2 -> 3, and a circle
        "models/__init__.py": "from ..corpus import build\n",  # a model reading the corpus
        "corpus/__init__.py": "",
        "corpus/build.py": "",
        "web/__init__.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from ..cli import app\n",
        "cli.py": "from .web import serve\n",
    })
    files, edges = import_graph(root)
    upward = "\n".join(upward_imports(files, edges, root))
    assert "autogloss/records.py:2 -> autogloss/formats/__init__.py: floor 0" in upward
    assert "autogloss/interlinear/doc.py:1 -> autogloss/formats/__init__.py: floor 2" in upward
    assert "autogloss/models/__init__.py:1 -> autogloss/corpus/build.py" in upward and "a model imports" in upward
    assert "autogloss/web/__init__.py:3 -> autogloss/cli.py (TYPE_CHECKING): the web app imports the CLI" in upward
    circles = import_circles(files, edges, root)
    assert len(circles) == 1  # web <-> cli is type-only: no circle at run time
    assert "autogloss/formats/__init__.py" in circles[0] and "autogloss/interlinear/doc.py" in circles[0]
    assert unplaced_modules(files) == []
    (root / "autogloss" / "stray.py").write_text("", encoding="utf-8")
    assert unplaced_modules(import_graph(root)[0]) == ["autogloss.stray"]
