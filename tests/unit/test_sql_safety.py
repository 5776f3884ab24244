"""SQL reaches DuckDB with its values as bound parameters, never pasted into the text.

Our SQL strings are f-strings, but they interpolate only internal table and column names (so
ruff's S608, which flags every f-string, is not selected in pyproject.toml). This test scans
every `.execute(` / `.executemany(` / `.sql(` call in etl/, dashboard/ and app.py with `ast` and
refuses the shapes that paste a value into SQL: %-formatting, `.format()`, string concatenation
with something that is not a literal, an f-string that quotes what it interpolates ('{x}') or
interpolates a repr ({x!r}), unless listed in QUOTED_ON_PURPOSE. It sees only the string written
at the call: SQL built elsewhere and passed by name is not followed (review still matters there).
"""

from __future__ import annotations

import ast

import pytest

from tests.support import REPO

METHODS = {"execute", "executemany", "sql"}
SOURCES = sorted([*(REPO / "etl").rglob("*.py"), *(REPO / "dashboard").rglob("*.py"), REPO / "app.py"])
# Quoted into SQL on purpose, each checked by hand. Keyed by the interpolated expression, so that
# a renamed variable or a new case fails here and gets looked at.
QUOTED_ON_PURPOSE = {
    # COPY ... TO takes no bound parameter for its target path; etl.lake.commit._sql_path doubles quotes.
    "_sql_path(staging)": "the lake folder of the warehouse, quotes escaped",
    "_sql_path(target)": "a dataset's folder in the lake of the warehouse, quotes escaped",
    # COPY's FILENAME_PATTERN takes no bound parameter either: the load id (a timestamp and hex).
    "_sql_path(Path(load_id))": "the load's own id (etl.lake.commit.new_load_id), quotes escaped",
    # etl.cubes.measures: the kind of unresolved reference, from a fixed tuple ("NPU", "unit", "officer").
    "what": "a label the code itself chose",
}


def _literal_text(node: ast.expr) -> bool:
    """A literal, an f-string, a concatenation of those, or a choice between literals."""
    if isinstance(node, ast.IfExp):
        return _literal_text(node.body) and _literal_text(node.orelse)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return _literal_text(node.left) and _literal_text(node.right)
    return isinstance(node, ast.Constant | ast.JoinedStr)


def _problem(node: ast.expr) -> str | None:
    """Why the SQL argument `node` may carry a value, or None."""
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod):
        return "%-formatted SQL"
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        inner = next((p for s in (node.left, node.right) if (p := _problem(s))), None)
        return inner or (None if _literal_text(node) else "SQL concatenated with a variable")
    if isinstance(node, ast.IfExp):
        return _problem(node.body) or _problem(node.orelse)
    if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
            and node.func.attr == "format"):
        return ".format()-ed SQL"
    if isinstance(node, ast.JoinedStr):
        parts = node.values
        for i, part in enumerate(parts):
            if not isinstance(part, ast.FormattedValue):
                continue
            if part.conversion == ord("r"):
                return "an f-string interpolating a repr ({x!r}) into SQL"
            before = parts[i - 1] if i else None
            after = parts[i + 1] if i + 1 < len(parts) else None
            if (isinstance(before, ast.Constant) and str(before.value).endswith("'")
                    and isinstance(after, ast.Constant) and str(after.value).startswith("'")
                    and ast.unparse(part.value) not in QUOTED_ON_PURPOSE):
                return "an f-string quoting a value into SQL ('{x}')"
    return None


def sql_problems(source: str, filename: str = "<string>") -> list[str]:
    found = []
    for node in ast.walk(ast.parse(source, filename)):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and node.func.attr in METHODS and node.args):
            problem = _problem(node.args[0])
            if problem:
                found.append(f"{filename}:{node.lineno}: {problem}")
    return found


def test_the_scan_sees_the_project() -> None:
    calls = sum(
        isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr in METHODS
        for path in SOURCES for n in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
    )
    assert len(SOURCES) > 20 and calls > 100   # the scan really walks the code it guards


@pytest.mark.parametrize(("code", "problem"), [
    ("con.execute('SELECT * FROM t WHERE a = %s' % a)", "%-formatted"),
    ("con.execute('SELECT * FROM t WHERE a = {}'.format(a))", ".format()"),
    ("con.execute('SELECT * FROM t WHERE a = ' + a)", "concatenated"),
    ("con.execute(f\"SELECT * FROM t WHERE a = '{a}'\")", "quoting a value"),
    ("con.execute(f'SELECT * FROM t WHERE a = {a!r}')", "repr"),
    ("con.sql(f'SELECT 1' + ' AND a = %s' % a)", "%-formatted"),
    ("con.execute(f\"SELECT * FROM t WHERE a = '{value}'\")", "quoting a value"),
    ("con.execute('SELECT ' + ('a' if x else name))", "concatenated"),
])
def test_the_scan_finds_values_pasted_into_sql(code: str, problem: str) -> None:
    [found] = sql_problems(code)
    assert problem in found


@pytest.mark.parametrize("code", [
    "con.execute('SELECT * FROM t WHERE a = ?', [a])",
    "con.execute(f'SELECT {column} FROM {table} WHERE a = ?', [a])",
    "con.execute(f'SELECT * FROM {table} ' 'WHERE a = ?', [a])",
    "con.execute('SELECT 1 ' + f'FROM {table}')",
    "con.execute('DELETE FROM t WHERE ' + ('a = 1' if x else 'b = 2'))",
    "con.execute(f\"COPY t TO '{_sql_path(staging)}'\")",
])
def test_names_interpolated_and_values_bound_pass(code: str) -> None:
    assert sql_problems(code) == []


def test_no_value_is_pasted_into_sql() -> None:
    problems = [p for path in SOURCES
                for p in sql_problems(path.read_text(encoding="utf-8"), str(path.relative_to(REPO)))]
    assert problems == []
