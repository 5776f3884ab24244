"""The layout's rules, checked on the source text (docs/architecture.md):

- no import cycle among the project's modules (top-level imports; TYPE_CHECKING-only
  imports are not run and do not count);
- no module imports another module's private (underscore) names or reaches into them;
- no import inside a function unless its line says why (`# lazy: ...`, for a heavy or
  optional dependency);
- no registry is mutated at import time (no module-level `.update(` / `[...] =` on another
  module's dict);
- no `*_services` twins.
"""

from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PACKAGES = ("etl", "dashboard")


def _modules() -> dict[str, Path]:
    out = {}
    for pkg in PACKAGES:
        for path in (REPO / pkg).rglob("*.py"):
            rel = path.relative_to(REPO).with_suffix("")
            parts = list(rel.parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            out[".".join(parts)] = path
    return out


MODULES = _modules()


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _top_level_imports(tree: ast.Module) -> list[ast.Import | ast.ImportFrom]:
    out: list[ast.Import | ast.ImportFrom] = []
    for node in tree.body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            out.append(node)
        elif isinstance(node, ast.If) and not _is_type_checking(node):
            out += [n for n in ast.walk(node) if isinstance(n, ast.Import | ast.ImportFrom)]
        elif isinstance(node, ast.Try):
            out += [n for n in ast.walk(node) if isinstance(n, ast.Import | ast.ImportFrom)]
    return out


def _targets(node: ast.Import | ast.ImportFrom) -> list[str]:
    """Project modules an import statement loads."""
    found = []
    if isinstance(node, ast.Import):
        names = [a.name for a in node.names]
    else:
        base = node.module or ""
        names = [base] + [f"{base}.{a.name}" for a in node.names]
    for name in names:
        if name in MODULES:
            found.append(name)
        # importing a.b.c also runs a and a.b
        parts = name.split(".")
        for i in range(1, len(parts)):
            if ".".join(parts[:i]) in MODULES:
                found.append(".".join(parts[:i]))
    return found


def _graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for name, path in MODULES.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        graph[name] = {t for node in _top_level_imports(tree) for t in _targets(node)} - {name}
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    found: list[list[str]] = []
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(n: str) -> None:
        state[n] = 1
        stack.append(n)
        for m in sorted(graph.get(n, ())):
            if state.get(m) == 1:
                found.append(stack[stack.index(m):] + [m])
            elif m not in state:
                visit(m)
        stack.pop()
        state[n] = 2

    for n in sorted(graph):
        if n not in state:
            visit(n)
    return found


def test_there_is_no_import_cycle() -> None:
    graph = _graph()
    assert len(graph) > 60  # the walk found the project
    # A package is imported whenever one of its modules is: a package __init__ that imports
    # its own modules would make cycles invisible here, so check they import nothing.
    assert _cycles(graph) == []


def test_the_cycle_check_finds_a_cycle() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == [["a", "b", "c", "a"]]


def test_no_module_reaches_another_modules_private_names() -> None:
    offences = []
    for name, path in MODULES.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        aliases: dict[str, str] = {}
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module in MODULES and node.module != name:
                for a in node.names:
                    if a.name.startswith("_") and not a.name.startswith("__"):
                        offences.append(f"{path.name}:{node.lineno} imports {node.module}.{a.name}")
                    if f"{node.module}.{a.name}" in MODULES:
                        aliases[a.asname or a.name] = f"{node.module}.{a.name}"
            elif isinstance(node, ast.Import):
                for a in node.names:
                    if a.name in MODULES:
                        aliases[a.asname or a.name] = a.name
        for node in ast.walk(tree):
            if (isinstance(node, ast.Attribute) and node.attr.startswith("_")
                    and not node.attr.startswith("__") and isinstance(node.value, ast.Name)
                    and node.value.id in aliases and aliases[node.value.id] != name):
                offences.append(f"{path.name}:{node.lineno} reads {node.value.id}.{node.attr}")
    assert offences == []


def test_imports_inside_functions_say_why() -> None:
    offences = []
    for path in MODULES.values():
        text = path.read_text(encoding="utf-8")
        lines = text.splitlines()
        tree = ast.parse(text)
        for fn in ast.walk(tree):
            if isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef):
                for node in ast.walk(fn):
                    if isinstance(node, ast.Import | ast.ImportFrom):
                        if "# lazy:" not in lines[node.lineno - 1]:
                            offences.append(f"{path.relative_to(REPO)}:{node.lineno}")
    assert offences == []


def test_no_registry_is_mutated_at_import_time() -> None:
    offences = []
    for path in MODULES.values():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in tree.body:
            if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
                f = node.value.func
                if isinstance(f, ast.Attribute) and f.attr in ("update", "append", "extend", "setdefault"):
                    offences.append(f"{path.relative_to(REPO)}:{node.lineno}")
    assert offences == []


def test_no_services_twins() -> None:
    twins = sorted(str(p.relative_to(REPO)) for p in MODULES.values() if p.stem.endswith("_services"))
    assert twins == []
