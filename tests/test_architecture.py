"""The house rules of docs/architecture.md, checked on the source: modules import only from
their own layer or below, there is no import cycle between modules (imports inside functions
and under ``TYPE_CHECKING`` included), and no function is longer than 80 lines.

Run ``python tests/test_architecture.py`` to print the layer table and every import edge that
crosses a package.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from pathlib import Path

SOURCE = Path(__file__).resolve().parents[1] / "src" / "miaudit"

#: Bottom to top; a module may import from its own layer or any layer below.
LAYERS: list[set[str]] = [
    {"errors", "_version", "_io"},
    {"metrics", "data", "querylog", "executors", "sarif", "junit"},
    {"targets"},
    {"signals"},
    {"training"},
    {"attacks"},
    {"results"},
    {"audit"},
    {"assess"},
    {"gate"},
    {"report"},
    {"defences", "scan", "monitor"},
    {"gateway"},  # runs the monitor online
    {"integrations"},
    {"demo"},
    {"cli"},
    {"__init__", "__main__", "testing", "canary"},  # the public facade
]
MAX_FUNCTION_LINES = 80


def module_name(path: Path) -> str:
    parts = list(path.relative_to(SOURCE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(SOURCE.rglob("*.py"))}


def package_of(path: Path) -> str:
    name = module_name(path)
    return name if path.name == "__init__.py" else name.rpartition(".")[0]


def imports(path: Path, known: set[str], package: str | None = None) -> Iterator[str]:
    """Every miaudit module ``path`` imports, anywhere in the file (``package``: the package
    relative imports start from; by default the one ``path`` is in)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = package or package_of(path)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            names = [f"{base}.{a.name}" for a in node.names]
            names = [n if n in known else base for n in names]
        else:
            continue
        for name in names:
            while name and name not in known:
                name = name.rpartition(".")[0]
            if name.startswith("miaudit"):
                yield name


def graph() -> dict[str, set[str]]:
    found = modules()
    known = set(found)
    return {m: {i for i in imports(p, known) if i != m} for m, p in found.items()}


def layer(module: str) -> int:
    parts = module.split(".")
    top = parts[1] if len(parts) > 1 else "__init__"
    for rank, names in enumerate(LAYERS):
        if top in names:
            return rank
    raise AssertionError(f"{module}: its folder {top!r} is in no layer of LAYERS")


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan 1972)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(edges.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    sys.setrecursionlimit(10_000)
    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def test_no_import_cycles() -> None:
    assert cycles(graph()) == []


def test_layers_import_downward_only() -> None:
    upward = [
        f"{m} (layer {layer(m)}) imports {i} (layer {layer(i)})"
        for m, targets in graph().items()
        for i in sorted(targets)
        if layer(i) > layer(m)
    ]
    assert upward == []


def test_the_checker_sees_lazy_and_type_checking_imports(tmp_path: Path) -> None:
    # the checker must not miss what it claims to check: parse a sample module
    sample = SOURCE / "report" / "interface.py"
    assert "miaudit.results" in set(imports(sample, set(modules())))
    sample = tmp_path / "sample.py"
    sample.write_text(
        "def f():\n    from miaudit.cli import main\n"
        "if TYPE_CHECKING:\n    import miaudit.gate\n"
        "from .report import json\n"
    )
    found = set(imports(sample, set(modules()), package="miaudit"))
    assert found == {"miaudit.cli", "miaudit.gate", "miaudit.report.json"}
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_function_over_80_lines() -> None:
    long = []
    for path in modules().values():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    long.append(f"{module_name(path)}.{node.name}: {length} lines")
    assert long == []


if __name__ == "__main__":  # pragma: no cover - a report for people
    edges = graph()
    for rank, names in enumerate(LAYERS):
        print(f"layer {rank:2d}: {', '.join(sorted(names))}")
    crossing = sorted(
        (m, i) for m, ts in edges.items() for i in ts if m.split(".")[:2] != i.split(".")[:2]
    )
    print(
        f"{len(edges)} modules, {sum(map(len, edges.values()))} import edges, "
        f"{len(crossing)} between packages"
    )
    print("cycles:", cycles(edges) or "none")
    up = [(m, i) for m, ts in edges.items() for i in ts if layer(i) > layer(m)]
    print("upward imports:", up or "none")
