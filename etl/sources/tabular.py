"""One validated reader for every tabular source declared by a `Schema`: CSV files and SQL
queries (SQLAlchemy), checked all-or-nothing, with the file, line and problem named.

The crime extract (etl/sources/crimes.py) set the rules and this module reuses its helpers:
the bounded-memory size/UTF-8/header scan, DuckDB `read_csv` in strict mode with explicit
VARCHAR columns, DuckDB CSV errors mapped back to physical lines, physical line numbers for
files with multi-line values or blank lines, SQLAlchemy queries with the password masked.
What differs per source is declared, not coded: each column's name, type (text, date,
datetime, month, whole number, number, one of a set of values, yes/no, force), whether it
must be present and whether it may be blank, plus cross-column checks (a SQL condition and its
message) and uniqueness rules. Every check runs once, in DuckDB, over the whole input.

The result is the temp table `_tab_typed`: `_rn` (row number), `_line` (physical line, the
header being line 1; for a query, row n is line n + 1), and per column its typed value under
the column's name and its trimmed text (NULL when blank) as `<name>__raw`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Literal

import duckdb
import pandas as pd

from etl.errors import InputRefused
from etl.reference.forces import FORCES
from etl.sources.csvscan import (
    as_text,
    first_row,
    quoted_value,
    read_query,
    read_strict,
    record_lines,
    scan_file,
)
from etl.sources.identity import column_force

Kind = Literal["text", "date", "datetime", "month", "int", "number", "enum", "bool", "force"]

TYPED = "_tab_typed"
_RAW = "_tab_raw"

_TRUE = ("yes", "y", "true", "t", "1")
_FALSE = ("no", "n", "false", "f", "0")


@dataclass(frozen=True)
class Column:
    """One input column. `values` (enum) maps each accepted spelling, compared after
    `normal_word`, to the value stored; `expected` words the accepted values for messages;
    `invalid` replaces the default message tail for a value that is not accepted."""

    name: str
    kind: Kind
    required: bool = True          # the column must be in the header
    blank: bool = False            # a value may be blank
    values: Mapping[str, str | int] = field(default_factory=dict)
    minimum: float | None = None
    maximum: float | None = None
    date_only: bool = False        # datetime: a bare YYYY-MM-DD is accepted, as midnight
    expected: str = ""
    invalid: str = ""
    doc: str = ""

    @property
    def sql_type(self) -> str:
        if self.kind == "enum":
            return "INTEGER" if all(isinstance(v, int) for v in self.values.values()) else "VARCHAR"
        return {"text": "VARCHAR", "date": "DATE", "datetime": "TIMESTAMP", "month": "DATE",
                "int": "BIGINT", "number": "DOUBLE", "bool": "BOOLEAN",
                "force": "VARCHAR"}[self.kind]


@dataclass(frozen=True)
class Check:
    """A rule across columns: `condition` is SQL over the typed row (alias `t`, typed
    values by column name) that is true when the row is wrong; `message` is a SQL string
    expression saying what is wrong (use `quoted()` for values)."""

    condition: str
    message: str


@dataclass(frozen=True)
class Schema:
    name: str
    columns: tuple[Column, ...]
    checks: tuple[Check, ...] = ()
    # Groups of columns whose non-blank values must not repeat within a force.
    unique: tuple[tuple[str, ...], ...] = ()

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.required)

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)


@dataclass
class Parsed:
    file: str                 # what the staged rows carry as `_file`
    origin: str               # what messages and the load log name (never a password)
    rows: int
    table: str = TYPED
    notes: list[str] = field(default_factory=list)


def normal_word(text: str) -> str:
    """Lower case, runs of spaces, '_' and '-' as one space: the Python twin of _NORM_SQL."""
    return re.sub(r"[\s_\-]+", " ", text.strip().lower()).strip()


_NORM_SQL = r"trim(regexp_replace(lower({v}), '[\s_\-]+', ' ', 'g'))"


def quoted(sql: str) -> str:
    """A SQL value as a message shows it: quoted, and cut short if long."""
    return quoted_value(f"CAST({sql} AS VARCHAR)")


def sql_text(text: str) -> str:
    """Our own wording (never input) as a SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def _literal(value: str | int) -> str:
    return str(value) if isinstance(value, int) else sql_text(value)


# --------------------------------------------------------------------------- header


def _check_columns(header: list[str], schema: Schema, origin: str,
                   line: int | None) -> tuple[list[str], list[str]]:
    """Header -> (column names for the reader, notes). Names match ignoring case and
    surrounding spaces; unknown columns are read, ignored and named in a note."""
    names = [h.strip().lower() or f"_column_{i + 1}" for i, h in enumerate(header)]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise InputRefused(
            origin, "column(s) named more than once: " + ", ".join(repr(n) for n in repeated), line)
    missing = [c for c in schema.required if c not in names]
    if missing:
        hint = ""
        if len(header) == 1 and any(sep in header[0] for sep in (";", "\t", "|")):
            hint = " (the file does not look comma-separated)"
        raise InputRefused(
            origin,
            "missing required column(s): " + ", ".join(repr(c) for c in missing) + hint
            + ". Required: " + ", ".join(schema.required),
            line,
        )
    extra = [h for h, n in zip(header, names, strict=True) if n not in schema.names]
    notes = []
    if extra:
        notes.append(f"{origin}: column(s) not part of the {schema.name} format, ignored: "
                     + ", ".join(repr(h) for h in extra))
    return names, notes


# --------------------------------------------------------------------------- CSV files


def parse_file(con: duckdb.DuckDBPyConnection, path: Path, schema: Schema,
               origin: str | None = None) -> Parsed:
    """Read and check one CSV file into `_tab_typed`. Raises InputRefused."""
    origin = origin or str(path)
    if not path.exists():
        hint = " (a database URL needs --query)" if "://" in origin else ""
        raise InputRefused(origin, "no such file" + hint)
    if not path.is_file():
        raise InputRefused(origin, "not a file")
    scan = scan_file(path, origin)
    names, notes = _check_columns(scan.header, schema, origin, 1)
    rows = read_strict(con, _RAW, path, origin, names, schema.names)
    if rows == 0:
        raise InputRefused(origin, "no data rows: the file holds a header only")
    if scan.lines == rows + 1 and not scan.blank:
        con.execute(f"UPDATE {_RAW} SET _line = _rn + 1")
    else:  # multi-line quoted fields or blank lines: number rows by their physical line
        lines = [start for start, blank in record_lines(path)[1:] if not blank]
        if len(lines) != rows:
            lines = [r + 1 for r in range(1, rows + 1)]
        con.register("_line_map", pd.DataFrame({"_rn": range(1, rows + 1), "_line": lines}))
        con.execute(f"UPDATE {_RAW} r SET _line = m._line FROM _line_map m WHERE r._rn = m._rn")
        con.unregister("_line_map")
    _type_and_check(con, schema, origin)
    return Parsed(file=str(path), origin=origin, rows=rows, notes=notes)


# --------------------------------------------------------------------------- SQL queries


def _text(series: pd.Series, kind: Kind) -> list[str | None]:
    """A query result column -> the text a CSV would have held. Timestamps keep their time
    in datetime columns (elsewhere a timestamp stands for its date, as in the crime extract)."""
    if kind == "datetime":
        values = [v.replace(tzinfo=None).isoformat(sep=" ")
                  if isinstance(v, datetime) and not pd.isna(v) else v for v in series.tolist()]
        series = pd.Series(values, dtype=object)
    return as_text(series)


def parse_query(con: duckdb.DuckDBPyConnection, url: str, query: str, schema: Schema) -> Parsed:
    """Run `query` against the SQLAlchemy `url` and check its rows like a CSV file's. Row n of
    the result is reported as line n + 1, as if it were a file with a header."""
    origin, frame = read_query(url, query)
    names, notes = _check_columns([str(c) for c in frame.columns], schema, origin, None)
    if frame.empty:
        raise InputRefused(origin, "the query returned no rows")
    frame.columns = names
    rows = len(frame)
    raw = pd.DataFrame(
        {c.name: _text(frame[c.name], c.kind) if c.name in names else [None] * rows
         for c in schema.columns}, dtype=object)
    raw["_rn"] = range(1, rows + 1)
    raw["_line"] = raw["_rn"] + 1
    con.register("_query_rows", raw)
    cols = ", ".join(f'CAST("{c}" AS VARCHAR) AS "{c}"' for c in schema.names)
    con.execute(f"CREATE OR REPLACE TEMP TABLE {_RAW} AS SELECT {cols}, "
                "CAST(_rn AS BIGINT) AS _rn, CAST(_line AS BIGINT) AS _line FROM _query_rows")
    con.unregister("_query_rows")
    _type_and_check(con, schema, origin)
    return Parsed(file=origin, origin=origin, rows=rows, notes=notes)


# --------------------------------------------------------------------------- shared rules


def _typed_sql(c: Column, v: str) -> tuple[str, str | None]:
    """(typed expression over `v`, the trimmed text or NULL; message tail for a value that is
    given but not accepted, or None when every value is accepted)."""
    if c.kind == "text":
        return v, None
    if c.kind == "force":
        return "f.force_id", (f"is not one of the {len(FORCES)} forces of England and Wales "
                              "(a data.police.uk slug such as 'cheshire', or the force's name)")
    if c.kind == "date":
        return (f"CASE WHEN regexp_full_match({v}, '\\d{{4}}-\\d{{2}}-\\d{{2}}') "
                f"THEN TRY_CAST({v} AS DATE) END", "(expected YYYY-MM-DD)")
    if c.kind == "datetime":
        bare = (f" WHEN regexp_full_match({v}, '\\d{{4}}-\\d{{2}}-\\d{{2}}') "
                f"THEN TRY_CAST({v} AS TIMESTAMP)") if c.date_only else ""
        return (f"CASE WHEN regexp_full_match({v}, "
                f"'\\d{{4}}-\\d{{2}}-\\d{{2}}[ T]\\d{{2}}:\\d{{2}}(:\\d{{2}}(\\.\\d+)?)?') "
                f"THEN TRY_CAST(replace({v}, 'T', ' ') AS TIMESTAMP){bare} END",
                "(expected YYYY-MM-DD HH:MM[:SS]" + (" or YYYY-MM-DD" if c.date_only else "") + ")")
    if c.kind == "month":
        return (f"CASE WHEN regexp_full_match({v}, '\\d{{4}}-\\d{{2}}') "
                f"THEN TRY_CAST({v} || '-01' AS DATE) "
                f"WHEN regexp_full_match({v}, '\\d{{4}}-\\d{{2}}-01') THEN TRY_CAST({v} AS DATE) END",
                "(expected YYYY-MM)")
    if c.kind == "int":
        return (f"CASE WHEN regexp_full_match({v}, '[+-]?\\d{{1,18}}') THEN TRY_CAST({v} AS BIGINT) END",
                "is not a whole number")
    if c.kind == "number":
        return (f"CASE WHEN isfinite(TRY_CAST({v} AS DOUBLE)) THEN TRY_CAST({v} AS DOUBLE) END",
                "is not a number")
    if c.kind == "bool":
        t = ", ".join(f"'{x}'" for x in _TRUE)
        f = ", ".join(f"'{x}'" for x in _FALSE)
        return (f"CASE WHEN lower({v}) IN ({t}) THEN TRUE WHEN lower({v}) IN ({f}) THEN FALSE END",
                "is not yes or no (expected yes/no, y/n, true/false or 1/0)")
    if c.kind == "enum":
        norm = _NORM_SQL.format(v=v)
        whens = " ".join(f"WHEN {_literal(normal_word(k))} THEN {_literal(val)}"
                         for k, val in c.values.items())
        return f"CASE {norm} {whens} END", c.invalid or f"(expected {c.expected})"
    raise ValueError(c.kind)


def _type_and_check(con: duckdb.DuckDBPyConnection, schema: Schema, origin: str) -> None:
    """`_tab_raw` -> `_tab_typed`; raises InputRefused naming the first bad line."""

    force_cols = [c.name for c in schema.columns if c.kind == "force"]
    force_col = force_cols[0] if force_cols else None
    con.execute("CREATE OR REPLACE TEMP TABLE _tab_forces (raw VARCHAR, force_id VARCHAR)")
    if force_col:
        values = [r[0] for r in con.execute(
            f'SELECT DISTINCT trim("{force_col}") FROM {_RAW} '
            f'WHERE NULLIF(trim("{force_col}"), \'\') IS NOT NULL').fetchall()]
        if values:  # (executemany refuses an empty list)
            con.executemany("INSERT INTO _tab_forces VALUES (?, ?)", [(f, column_force(f)) for f in values])
    selects = ["r._rn", "r._line"]
    tails: dict[str, str | None] = {}
    for c in schema.columns:
        raw = f"NULLIF(trim(r.\"{c.name}\"), '')"
        expr, tail = _typed_sql(c, raw)
        typed = expr if c.kind in ("text", "force") else f"CAST(({expr}) AS {c.sql_type})"
        selects.append(f'{raw} AS "{c.name}__raw"')
        selects.append(f'{typed} AS "{c.name}"')
        tails[c.name] = tail
    join = (f'LEFT JOIN _tab_forces f ON f.raw = trim(r."{force_col}")' if force_col else "")
    con.execute(f"CREATE OR REPLACE TEMP TABLE {TYPED} AS SELECT {', '.join(selects)} "
                f"FROM {_RAW} r {join} ORDER BY r._rn")

    # Repeats: the later row names the line of the first.
    dup_cols = []
    for k, group in enumerate(schema.unique):
        part = ", ".join(([f'"{force_col}"'] if force_col else []) + [f'"{g}"' for g in group])
        present = " AND ".join(f'"{g}" IS NOT NULL' for g in group)
        dup_cols.append(
            f"CASE WHEN {present} AND row_number() OVER (PARTITION BY {part} ORDER BY _rn) > 1 "
            f"THEN first_value(_line) OVER (PARTITION BY {part} ORDER BY _rn) END AS _dup{k}")
    if dup_cols:
        con.execute(f"CREATE OR REPLACE TEMP TABLE {TYPED} AS SELECT *, {', '.join(dup_cols)} "
                    f"FROM {TYPED} ORDER BY _rn")

    checks: list[tuple[str, str]] = []
    for c in schema.columns:
        raw = f't."{c.name}__raw"'
        typed = f't."{c.name}"'
        if not c.blank:
            checks.append((f"{raw} IS NULL", f"'blank {c.name} (required)'"))
        tail = tails[c.name]
        if tail is not None:
            if c.kind == "enum" and not c.invalid:
                lead = f"unknown {c.name} "
            elif c.kind in ("date", "datetime", "month"):
                lead = f"unparsable {c.name} "
            else:
                lead = f"{c.name} "
            checks.append((f"{raw} IS NOT NULL AND {typed} IS NULL",
                           f"{sql_text(lead)} || {quoted(raw)} || {sql_text(' ' + tail)}"))
        if c.minimum is not None:
            checks.append((f"{typed} < {c.minimum}", f"{sql_text(c.name + ' ')} || {quoted(raw)} "
                           f"|| {sql_text(f' is below the minimum {c.minimum:g}')}"))
        if c.maximum is not None:
            checks.append((f"{typed} > {c.maximum}", f"{sql_text(c.name + ' ')} || {quoted(raw)} "
                           f"|| {sql_text(f' is above the maximum {c.maximum:g}')}"))
    for k, group in enumerate(schema.unique):
        what = " || ' and ' || ".join(
            f"'{g} ' || " + quoted('t."' + g + '__raw"') for g in group)
        verb = "repeats" if len(group) == 1 else "repeat"
        scope = " within a force" if force_col else ""
        checks.append((f"t._dup{k} IS NOT NULL",
                       f"{what} || ' {verb} line ' || CAST(t._dup{k} AS VARCHAR) || "
                       f"' (must be unique{scope})'"))
    checks.extend((ch.condition, ch.message) for ch in schema.checks)
    cases = "\n".join(f"WHEN {cond} THEN {msg}" for cond, msg in checks)
    bad = first_row(con, f"""SELECT line, problem FROM (
        SELECT t._rn, t._line AS line, CASE {cases} END AS problem FROM {TYPED} t)
        WHERE problem IS NOT NULL ORDER BY _rn LIMIT 1""")
    if bad:
        raise InputRefused(origin, bad[1], int(bad[0]))


# --------------------------------------------------------------------------- shared columns
# Used by several source schemas (etl/sources/satisfaction.py, calls.py, ...).


def bool_column(name: str, doc: str, required: bool = True) -> Column:
    return Column(name, "bool", required=required, doc=doc)


def risk_column(values: tuple[str, ...], doc: str) -> Column:
    words: dict[str, str | int] = {v: v for v in values}
    if "very high" in values:
        words.update({"veryhigh": "very high", "vhigh": "very high"})
    return Column("risk", "enum", values=words,
                  expected=", ".join(values[:-1]) + " or " + values[-1], doc=doc)


FORCE_COLUMN = Column("force", "force",
                      doc="The force's data.police.uk slug, e.g. `cheshire`, or its name.")
NPU_COLUMN = Column("npu", "text",
                    doc="The NPU: its name as in the warehouse (e.g. `Widnes`) or its unit id.")


def says(a: str, words: str, b: str) -> str:
    """Message: "<a> '<value>' <words> '<b's value>'"."""
    return (f"{sql_text(a + ' ')} || {quoted('t.' + a + '__raw')} || {sql_text(f' {words} ')} "
            f"|| {quoted('t.' + b + '__raw')}")


def later(a: str, b: str, what: str) -> Check:
    """Refuse a row whose datetime `a` is before `b` (both typed columns)."""
    return Check(
        f"t.{a} < t.{b}",
        f"{sql_text(a + ' ')} || {quoted('t.' + a + '__raw')} || "
        f"{sql_text(f' is before {b} ')} || {quoted('t.' + b + '__raw')} || {sql_text(what)}")


def month_sql(col: str) -> str:
    """The first day of the month of a typed date/datetime column of row `t`."""
    return f"CAST(date_trunc('month', t.{col}) AS DATE)"


def stage(con: duckdb.DuckDBPyConnection, columns: dict[str, str], exprs: dict[str, str],
          dataset: str, file: str) -> str:
    """The checked rows (`_tab_typed`) -> `stg_<dataset>` in the dataset's shape, plus `_file`.
    `exprs` maps dataset columns to SQL over the checked row `t`; unit ids are left NULL here
    and resolved against the warehouse by etl.lake.ingest."""
    exprs = {**exprs, "line": "t._line"}
    select = ", ".join(f'CAST({exprs.get(c, "NULL")} AS {t}) AS "{c}"' for c, t in columns.items())
    table = f"stg_{dataset}"
    con.execute(f"CREATE OR REPLACE TEMP TABLE {table} AS SELECT {select}, "
                f"CAST(? AS VARCHAR) AS _file FROM _tab_typed t ORDER BY t._rn", [file])
    return table
