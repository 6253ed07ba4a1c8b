"""The house rules of docs/architecture.md, checked on the source: modules import only from
their own layer or below, there is no import cycle between modules (imports inside functions
and under ``TYPE_CHECKING`` included), and no function is longer than 80 lines.

Run ``python tests/test_architecture.py`` to print the layer table and every import edge that
crosses a package.
"""

from __future__ import annotations

import ast
import dataclasses
import re
import sys
from collections.abc import Iterator
from pathlib import Path

SOURCE = Path(__file__).resolve().parents[1] / "src" / "miaudit"

#: Bottom to top; a module may import from its own layer or any layer below.
LAYERS: list[set[str]] = [
    {"errors", "_version", "_io", "_taxonomy", "_lazy"},
    {"metrics", "data", "querylog", "executors", "sarif", "junit", "formats"},
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


def _docstrings(tree: ast.AST) -> set[int]:
    """The ids of the docstring nodes of a module, its classes and functions."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                found.add(id(body[0].value))
    return found


def attack_names_in(
    text: str, names: set[str], allowed: set[str] | frozenset[str] = frozenset()
) -> list[str]:
    """Attack ``names`` (less ``allowed``) that a string literal of the module ``text`` is,
    or quotes ('name', "name", `name`), with the line; docstrings are prose and not read."""
    tree = ast.parse(text)
    skip = _docstrings(tree)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skip:
            for name in sorted(names - allowed):
                quoted = re.search(r"(['\"`])" + re.escape(name) + r"\1", node.value)
                if node.value == name or quoted:
                    found.append(f"{node.lineno}: {name!r}")
    return found


def test_no_attack_name_in_audit() -> None:
    # The pipeline runs what the attacks declare (requirements, probes, passes, parameters),
    # never an attack by name: a string literal in audit/ that is an attack's name, or quotes
    # one inside a message, is a branch on a name or text that drifts when an attack changes.
    # A setting that shares an attack's name (confidence, reference) may be spelled in
    # options.py, where the settings are declared.
    from miaudit.attacks import REGISTRY
    from miaudit.audit.options import AuditOptions

    names = set(REGISTRY)
    settings = {f.name for f in dataclasses.fields(AuditOptions)}
    for group in ("reference", "language_model"):
        settings |= {f.name for f in dataclasses.fields(getattr(AuditOptions(), group))}
    sample = 'if "lowercase" in chosen:\n    raise ValueError("run \'min-k\' first")\n'
    assert attack_names_in(sample, names) == ["1: 'lowercase'", "2: 'min-k'"]
    found = [
        f"{module_name(path)}:{line}"
        for path in sorted((SOURCE / "audit").rglob("*.py"))
        for line in attack_names_in(
            path.read_text(encoding="utf-8"),
            names,
            settings if path.name == "options.py" else set(),
        )
    ]
    assert found == []


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


_WRITE_MODE = re.compile(r"^[rbt]*[wax][rwaxbt+]*$|^[rbt]*\+[rwaxbt+]*$")


def _atomic_names(tree: ast.AST) -> set[str]:
    """Names bound by ``with atomic_path(...) as NAME``: the temporary file ``_io`` replaces
    the real one with, which may be written by any means."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.With, ast.AsyncWith)):
            for item in node.items:
                call, target = item.context_expr, item.optional_vars
                func = call.func if isinstance(call, ast.Call) else None
                called = getattr(func, "attr", None) or getattr(func, "id", None)
                if called == "atomic_path" and isinstance(target, ast.Name):
                    names.add(target.id)
    return names


def _mode(node: ast.Call, position: int) -> str | None:
    """The mode string of an ``open`` call: positional argument ``position`` or ``mode=``."""
    found = node.args[position] if len(node.args) > position else None
    found = next((k.value for k in node.keywords if k.arg == "mode"), found)
    return found.value if isinstance(found, ast.Constant) and isinstance(found.value, str) else None


def _direct_writes(path: Path) -> Iterator[tuple[int, str]]:
    """Each file write in ``path`` that does not go through ``miaudit._io``: ``open`` or
    ``Path.open`` with a writing mode, ``.write_text`` or ``.write_bytes`` — except on the
    temporary path of a ``with atomic_path(...) as tmp`` block."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    atomic = _atomic_names(tree)
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if isinstance(func, ast.Name) and func.id == "open":
            target, mode = (node.args[0] if node.args else None), _mode(node, 1)
        elif isinstance(func, ast.Attribute) and func.attr == "open":
            target, mode = func.value, _mode(node, 0) or _mode(node, 1)
        elif isinstance(func, ast.Attribute) and func.attr in ("write_text", "write_bytes"):
            target, mode = func.value, "w"
        else:
            continue
        if mode is None or not _WRITE_MODE.match(mode):
            continue
        if isinstance(target, ast.Name) and target.id in atomic:
            continue
        yield node.lineno, ast.unparse(node)[:70]


def test_every_file_write_goes_through_io() -> None:
    # a reader must never see half a report, baseline, cache entry or log: files are written
    # through miaudit._io (atomic_write_text/bytes, atomic_path), nowhere else
    found = [
        f"{module_name(path)}:{line}: {call}"
        for path in modules().values()
        if path != SOURCE / "_io.py"
        for line, call in sorted(_direct_writes(path))
    ]
    assert found == []


def test_the_write_check_sees_every_form(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(
        "open(p, 'w')\nopen(p, mode='ab')\nPath(p).open('w')\np.write_text(t)\n"
        "q.write_bytes(b)\ngzip.open(p, 'wt')\n"
        "open(p)\nopen(p, 'rb')\np.open()\np.read_text()\n"
        "with atomic_path(p) as tmp:\n    tmp.write_text(t)\n    open(tmp, 'w')\n",
        encoding="utf-8",
    )
    assert sorted(line for line, _ in _direct_writes(sample)) == [1, 2, 3, 4, 5, 6]


def _declared_value_sets() -> dict[frozenset[str], str]:
    """Every value set the package declares — a ``str`` Enum's values, a ``Literal`` of
    strings assigned to a name, or a constant tuple of strings outside the CLI — by its values,
    read from the source (nothing imported)."""
    found: dict[frozenset[str], str] = {}
    for name, path in modules().items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            values: list[str] = []
            if isinstance(node, ast.ClassDef) and any(
                ast.unparse(b).rpartition(".")[2] in ("Enum", "StrEnum") for b in node.bases
            ):
                values = [
                    s.value.value
                    for s in node.body
                    if isinstance(s, ast.Assign)
                    and isinstance(s.value, ast.Constant)
                    and isinstance(s.value.value, str)
                ]
                label = f"{name}.{node.name}"
            elif (
                isinstance(node, ast.Assign)
                and isinstance(node.value, ast.Subscript)
                and ast.unparse(node.value.value).rpartition(".")[2] == "Literal"
            ):
                inner = node.value.slice
                items = inner.elts if isinstance(inner, ast.Tuple) else [inner]
                values = [i.value for i in items if isinstance(i, ast.Constant)]
                label = f"{name}.{ast.unparse(node.targets[0])}"
            elif (
                isinstance(node, ast.Assign)
                and isinstance(node.value, ast.Tuple)
                and isinstance(node.targets[0], ast.Name)
                and node.targets[0].id.isupper()
                and not name.startswith("miaudit.cli")
            ):  # a constant tuple of names outside the CLI (``FAIL_LEVELS = ("error", …)``)
                values = [e.value for e in node.value.elts if isinstance(e, ast.Constant)]
                values = values if len(values) == len(node.value.elts) else []
                label = f"{name}.{node.targets[0].id}"
            if len(values) >= 2 and all(isinstance(v, str) for v in values):
                found.setdefault(frozenset(values), label)
    return found


def _string_collections(path: Path) -> Iterator[tuple[int, frozenset[str]]]:
    """Each list, tuple or set literal of two or more strings in ``path`` (a ``click.Choice``
    argument among them), with its line."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if (
            isinstance(node, (ast.List, ast.Tuple, ast.Set))
            and len(node.elts) >= 2
            and all(isinstance(e, ast.Constant) and isinstance(e.value, str) for e in node.elts)
        ):
            yield node.lineno, frozenset(e.value for e in node.elts)  # type: ignore[attr-defined]


def test_no_literal_choice_list_in_the_cli_duplicates_an_enum(tmp_path: Path) -> None:
    # a value set (executors, designs, formats, protocols, outputs) is declared once, as an
    # Enum or a Literal in the module that owns it; the CLI builds its choices from it
    declared = _declared_value_sets()
    assert frozenset({"local", "inline", "ray"}) in declared  # the checker reads Enums…
    assert frozenset({"all", "audited", "population"}) in declared  # …and Literals
    copies = [
        f"{module_name(path)}:{line}: {sorted(values)} repeats {declared[values]}"
        for path in sorted((SOURCE / "cli").glob("*.py"))
        for line, values in _string_collections(path)
        if values in declared
    ]
    assert copies == []
    sample = tmp_path / "sample.py"
    sample.write_text('click.Choice(["ray", "local", "inline"])\nx = ("v", "w")\n')
    assert [v for _, v in _string_collections(sample) if v in declared] == [
        frozenset({"local", "inline", "ray"})
    ]
