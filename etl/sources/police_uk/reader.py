"""data.police.uk street-level and outcomes CSVs, exactly as downloaded (files, folders, zips).

Files are read in batches of bounded rows (etl.limits.batch_rows), each in one DuckDB
`read_csv` (per-file reads cost ~70 ms each in set-up); cheap checks that need no parsing
(size, header, line count, file name) run in Python first, and a file DuckDB cannot read
(bytes that are not UTF-8, a malformed row) is named with the full scan's words. A file
that fails any check is refused whole and the rest of the batch goes on.
"""

from __future__ import annotations

import csv
import io
import re
import shutil
import tempfile
import zipfile
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import duckdb

from etl.errors import InputRefused
from etl.limits import max_expanded_bytes, max_zip_ratio, size
from etl.measures.crime import CRIME_CATEGORIES, SANCTION_OUTCOMES
from etl.reference.forces import FORCES
from etl.sources.csvscan import scan_file, scan_lines
from etl.sources.identity import (
    EARLIEST_MONTH,
    column_force,
    force_problem,
    known_slug,
    latest_month,
    month_problem,
    month_window_text,
    shown,
)
from etl.sources.shapes import CRIME_COLUMNS, OUTCOME_COLUMNS

STREET_HEADER = [
    "Crime ID", "Month", "Reported by", "Falls within", "Longitude", "Latitude", "Location",
    "LSOA code", "LSOA name", "Crime type", "Last outcome category", "Context",
]
OUTCOME_HEADER = [
    "Crime ID", "Month", "Reported by", "Falls within", "Longitude", "Latitude", "Location",
    "LSOA code", "LSOA name", "Outcome type",
]
FILE_NAME = re.compile(r"^(\d{4})-(\d{2})-(.+)-(street|outcomes|stop-and-search)\.csv$")


@dataclass
class InputFile:
    """One CSV to read: `origin` is what messages name (a path, or `archive.zip!member`)."""

    origin: str
    path: Path
    kind: str = ""                 # street | outcomes
    name_month: date | None = None
    name_force: str | None = None
    rows: int = 0                  # data rows, from precheck's line count (for progress)
    # What the staged tables' _file holds for this file (parse() sets it): a short key, not
    # the path, which DuckDB would store beside each of millions of rows (a national year's
    # paths were ~25% of its staged rows, spilled to disk and read back); Staged.origins maps
    # it to the origin, as it maps paths.
    key: str = ""


@dataclass
class ParseResult:
    crimes: int = 0
    outcomes: int = 0
    accepted: list[InputFile] = field(default_factory=list)
    refused: list[InputRefused] = field(default_factory=list)
    # (origin, force_id, month, line, crime_id) of rows dropped as repeated Crime IDs
    duplicates: list[tuple[str, str, date, int, str]] = field(default_factory=list)
    rows_read: dict[str, int] = field(default_factory=dict)  # _file -> rows staged (the caller's)
    # Rowids stg_crime has used since it was made (rows staged, repeats dropped included):
    # where the next batch's rows start (_stage_street).
    crime_rowids: int = 0


def expand_inputs(paths: Iterable[Path], workdir: Path) -> Iterator[InputFile | InputRefused]:
    """Files, folders (recursively) and zips -> CSV inputs; zips are extracted to workdir."""
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            children = sorted(p for p in path.rglob("*") if p.suffix.lower() in (".csv", ".zip"))
            if not children:
                yield InputRefused(str(path), "folder holds no .csv or .zip files")
            yield from expand_inputs(children, workdir)
        elif not path.exists():
            yield InputRefused(str(path), "no such file or folder")
        elif path.suffix.lower() == ".zip":
            yield from _expand_zip(path, workdir)
        else:
            yield InputFile(str(path), path)


def _expand_zip(path: Path, workdir: Path) -> Iterator[InputFile | InputRefused]:
    """Extract the archive's .csv members, streaming, within limits (etl/limits.py): the
    sizes its directory declares are checked first (a zip bomb is refused at once), and the
    bytes actually written are counted (a directory can lie). The budget is the smaller of
    LG_MAX_EXPANDED_BYTES and LG_MAX_ZIP_RATIO times the archive's size on disk."""
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
        yield InputRefused(str(path), f"not a readable zip archive ({_plain(exc)})")
        return
    with archive:
        members = [m for m in archive.infolist() if m.filename.lower().endswith(".csv")]
        if not members:
            yield InputRefused(str(path), "zip archive holds no .csv files")
            return
        on_disk = max(path.stat().st_size, 1)
        budget = min(max_expanded_bytes(), max_zip_ratio() * on_disk)
        declared = sum(m.file_size for m in members)
        if declared > budget:
            yield InputRefused(str(path), _too_big(declared, on_disk, "would expand"))
            return
        target = Path(tempfile.mkdtemp(prefix="zip-", dir=workdir))
        written = 0
        extracted: list[InputFile | InputRefused] = []  # yielded once the whole zip is within limits
        for i, member in enumerate(members):
            origin = f"{path}!{member.filename}"
            local = target / f"{i:05d}-{Path(member.filename).name}"
            try:
                with archive.open(member) as src, open(local, "wb") as dst:
                    while chunk := src.read(1 << 20):
                        written += len(chunk)
                        if written > budget:
                            raise _ZipTooBig
                        dst.write(chunk)
            except _ZipTooBig:
                shutil.rmtree(target, ignore_errors=True)
                yield InputRefused(str(path), _too_big(written, on_disk, "expands to more than"))
                return
            except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError,
                    RuntimeError) as exc:
                local.unlink(missing_ok=True)
                extracted.append(InputRefused(origin, f"cannot extract from zip ({_plain(exc)})"))
                continue
            extracted.append(InputFile(origin, local))
        yield from extracted


class _ZipTooBig(Exception):
    pass


def _too_big(n: int, on_disk: int, verb: str) -> str:
    return (f"zip archive {verb} {size(n)} from {size(on_disk)} on disk: more than the "
            f"{size(max_expanded_bytes())} (LG_MAX_EXPANDED_BYTES) or {max_zip_ratio()} times its "
            "size (LG_MAX_ZIP_RATIO) a zip may expand to; refused as a possible zip bomb. Unzip it "
            "yourself and load the files if it is genuine")


def _plain(exc: BaseException) -> str:
    """An OS or zip error's own words, without the exception's class name or a path."""
    return getattr(exc, "strerror", None) or str(exc).split(":")[0] or "unreadable"


def precheck(item: InputFile) -> InputFile:
    """Checks that need no CSV parsing. Raises InputRefused; fills kind/month/force.
    One streaming pass that counts lines (etl.sources.csvscan.scan_lines): memory stays
    bounded whatever the file's size, and a file beyond the row limit is refused before
    DuckDB reads it. What the pass does not look at (UTF-8, long lines) DuckDB's read refuses,
    and read_batch then names the line as scan_file does."""
    scan = scan_lines(item.path, item.origin) or scan_file(item.path, item.origin)
    header = scan.header
    if header == STREET_HEADER:
        item.kind = "street"
    elif header == OUTCOME_HEADER:
        item.kind = "outcomes"
    else:
        raise InputRefused(item.origin, _header_problem(header), 1)
    if scan.lines <= 1:
        raise InputRefused(item.origin, "no data rows: the file holds a header only")
    item.rows = scan.lines - 1
    m = FILE_NAME.match(Path(item.origin.split("!")[-1]).name)
    if m:
        year, month, force, kind = m.groups()
        if kind != item.kind:
            raise InputRefused(
                item.origin, f"file name says '{kind}' but the columns are a {item.kind} file", 1
            )
        try:
            item.name_month = date(int(year), int(month), 1)
        except ValueError:
            raise InputRefused(item.origin, f"file name month {year}-{month} is not a month") from None
        item.name_force = name_force(item.origin, force)
        problem = month_problem(item.name_month)
        if problem:
            raise InputRefused(item.origin, f"the file name's {problem}")
    return item


PRECHECK_THREADS = 2


def _precheck_or_refusal(item: InputFile) -> InputFile | InputRefused:
    try:
        return precheck(item)
    except InputRefused as refusal:
        return refusal


def name_force(origin: str, text: str) -> str:
    """The force a data.police.uk file name names, as its canonical slug; InputRefused
    when it is not a known force (a made-up name must never become a new force)."""
    slug = known_slug(text)
    if slug is None:
        raise InputRefused(origin, force_problem(text, "the file name"))
    return slug


def _header_problem(header: list[str]) -> str:
    best = max((STREET_HEADER, OUTCOME_HEADER), key=lambda h: len(set(h) & set(header)))
    return header_problem(header, best, "street" if best is STREET_HEADER else "outcomes")


def header_problem(header: list[str], expected: list[str], kind: str) -> str:
    """Why a header is not the `expected` one of a data.police.uk `kind` file, in words."""
    missing = [c for c in expected if c not in header]
    extra = [c for c in header if c not in expected]
    parts = []
    if missing:
        parts.append("missing column(s): " + ", ".join(repr(c) for c in missing))
    if extra:
        parts.append("unexpected column(s): " + ", ".join(repr(c) for c in extra))
    if not parts:
        parts.append("columns are in the wrong order")
    return f"not a data.police.uk {kind} file: " + "; ".join(parts) + f". Expected: {', '.join(expected)}"


_CSV_ERROR_LINE = re.compile(r"CSV Error on Line: (\d+)")
_CSV_ERROR_FILE = re.compile(r"^\s*file = (.+)$", re.M)


def _duckdb_csv_problem(message: str) -> tuple[str | None, int | None, str]:
    """Pull file, line and the gist out of DuckDB's CSV error text."""
    file_m = _CSV_ERROR_FILE.search(message)
    line_m = _CSV_ERROR_LINE.search(message)
    gist = "malformed CSV"
    cols = re.search(r"Expected Number of Columns: (\d+) Found: (\d+)", message)
    if cols:
        expected, found = cols.groups()
        gist = f"row has {found} fields, expected {expected} (truncated or malformed row)"
    elif "unterminated quote" in message:
        gist = "unterminated quoted field (truncated file?)"
    elif "unicode" in message.lower():
        gist = "not UTF-8 text"
    return (file_m.group(1).strip() if file_m else None,
            int(line_m.group(1)) if line_m else None, gist)


def read_batch(con: duckdb.DuckDBPyConnection, table: str, items: list[InputFile],
                header: list[str], result: ParseResult, temp: bool = True) -> list[InputFile]:
    """Read all files into `table` in one scan; a file DuckDB cannot parse is refused and
    the scan is retried without it (rare: only for malformed files).

    Line numbers come from the table's rowid: DuckDB keeps insertion order, so rowid is the
    row's position in the batch (a row_number() window here cost as much as the read)."""
    items = list(items)
    by_path = {str(i.path): i for i in items}
    while items:
        try:
            con.execute(
                f"""CREATE OR REPLACE {"TEMP " if temp else ""}TABLE {table} AS
                SELECT * FROM read_csv(
                    ?, header = true, auto_detect = false, columns = ?, delim = ',',
                    quote = '"', escape = '"', strict_mode = true, null_padding = false,
                    filename = '_file', parallel = true)""",
                [[str(i.path) for i in items], {c: "VARCHAR" for c in header}],
            )
            return items
        except duckdb.Error as exc:
            file, line, gist = _duckdb_csv_problem(str(exc))
            bad = by_path.get(file or "")
            if bad is None:
                if len(items) == 1:
                    bad = items[0]
                else:
                    raise
            result.refused.append(_scan_refusal(bad) or InputRefused(bad.origin, gist, line))
            items.remove(bad)
    return items


def _scan_refusal(item: InputFile) -> InputRefused | None:
    """scan_file's refusal of a file DuckDB could not read, if it has one: its words name
    the line and column of a byte that is not UTF-8, or a line too long (precheck's
    scan_lines left both to DuckDB's read). Error path only."""
    try:
        scan_file(item.path, item.origin)
    except InputRefused as refusal:
        return refusal
    return None


def _first_line(item: InputFile, predicate) -> int | None:
    """Line number of the first data row satisfying predicate(row dict). Error path only."""
    with open(item.path, encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        for row in reader:
            if predicate(row):
                return reader.line_num
    return None


class _Quoted:
    """A cell as a message quotes it ({value!r}): '(blank)' for an empty one, a long one cut."""

    def __init__(self, value: object) -> None:
        self.value = value

    def __repr__(self) -> str:
        return "(blank)" if self.value is None or self.value == "" else shown(self.value)


def _register_lookups(con: duckdb.DuckDBPyConnection) -> None:
    """Tables of the connection's database, not TEMP ones: the checks of a batch run on the
    reader thread's cursor (parse), which sees the database's tables, not `con`'s TEMP ones."""
    con.execute("CREATE OR REPLACE TABLE _cat (name VARCHAR, id VARCHAR)")
    con.executemany("INSERT INTO _cat VALUES (?, ?)", list(CRIME_CATEGORIES.items()))
    con.execute("CREATE OR REPLACE TABLE _sanction (outcome VARCHAR, type VARCHAR)")
    con.executemany("INSERT INTO _sanction VALUES (?, ?)", list(SANCTION_OUTCOMES.items()))


def _checks(con: duckdb.DuckDBPyConnection, table: str, items: list[InputFile],
            kind: str) -> list[tuple[str, str, str]]:
    """(condition, column, problem) of every row check (`table` holds the batch's
    'Falls within' values, for the lookup of their forces), in the order a file's refusal is
    chosen (the month window's bounds are the parameters $first and $last): a file failing
    several checks is refused for the first of them, at its first failing line, as when each
    check ran (and refused files) in turn."""
    con.execute("CREATE OR REPLACE TEMP TABLE _names (_file VARCHAR, m VARCHAR, force VARCHAR)")
    con.executemany(
        "INSERT INTO _names VALUES (?, ?, ?)",
        [(str(i.path), i.name_month.strftime("%Y-%m") if i.name_month else None, i.name_force)
         for i in items],
    )
    # Every row's 'Falls within' must be a known force and, where the file name names a
    # force, that force: a file named for one force never loads another's rows.
    values = [r[0] for r in con.execute(
        f'SELECT DISTINCT "Falls within" FROM {table} WHERE trim("Falls within") <> \'\'').fetchall()]
    con.execute("CREATE OR REPLACE TEMP TABLE _fw (name VARCHAR, slug VARCHAR)")
    if values:
        con.executemany("INSERT INTO _fw VALUES (?, ?)", [(v, column_force(v)) for v in values])
    checks: list[tuple[str, str, str]] = [
        ("\"Month\" IS NULL OR NOT regexp_full_match(\"Month\", '\\d{4}-(0[1-9]|1[0-2])')",
         "Month", "unparsable Month {value!r} (expected YYYY-MM)"),
        # Month must agree with the month in the file name, where the name carries one.
        ("\"Month\" <> n.m", "Month", "Month {value!r} disagrees with the file name's month"),
        *((f"\"{col}\" IS NOT NULL AND \"{col}\" <> '' AND TRY_CAST(\"{col}\" AS DOUBLE) IS NULL",
           col, f"{col} {{value!r}} is not a number") for col in ("Longitude", "Latitude")),
        ("\"Falls within\" IS NULL OR trim(\"Falls within\") = ''", "Falls within",
         "blank 'Falls within' (the force is unknown)"),
        ("\"Month\" < $first OR \"Month\" > $last", "Month",
         f"Month {{value!r}} is outside the months that can be loaded ({month_window_text()})"),
        ("fw.slug IS NULL", "Falls within",
         "'Falls within' {value!r} is not one of the " + str(len(FORCES)) + " forces of England and Wales"),
        ("n.force IS NOT NULL AND fw.slug <> n.force", "Falls within",
         "'Falls within' is {value!r}, but the file name names force {item.name_force!r}: "
         "the file holds another force's rows"),
    ]
    if kind == "street":
        checks.append(("c.name IS NULL", "Crime type", "unknown Crime type {value!r}"))
    return checks


# The checks that read a cell no aggregate of a batch's few (file, Month, 'Falls within',
# 'Crime type') combinations holds: the coordinates, checked on the rows themselves.
_ROW_CHECKS = ("Longitude", "Latitude")


def _validate(con: duckdb.DuckDBPyConnection, table: str, items: list[InputFile], kind: str,
              result: ParseResult) -> list[InputFile]:
    """Every row check of a batch, in two light passes: the checks of Month, 'Falls within'
    and Crime type run on the batch's distinct (file, Month, 'Falls within', Crime type)
    combinations (about a thousand for a million rows), the coordinates' on the rows, each
    pass giving every file the first check (in _checks' order) any of its rows fails. A
    file failing any is refused, naming that check, its first failing line and the value on
    it (a query of that file's rows: error path only), and its rows leave `table`: the
    refusal the checks gave when each ran over the rows in turn, refusing its files. A
    national year of police.uk files spent ~1.9 s of CPU in nine scans a batch; one CASE
    over every row with its lookups joined, 2.5 s; these two passes ~0.9 s."""
    keys = '"Month", "Falls within"' + (', "Crime type"' if kind == "street" else "")
    con.execute(f"CREATE OR REPLACE TEMP TABLE _combos AS SELECT _file, {keys} FROM {table} "
                "GROUP BY ALL")
    checks = _checks(con, "_combos", items, kind)
    params = {"first": f"{EARLIEST_MONTH:%Y-%m}", "last": f"{latest_month():%Y-%m}"}
    on_rows = {k for k, (_, column, _) in enumerate(checks) if column in _ROW_CHECKS}
    lookups = ("LEFT JOIN _names n ON n._file = t._file "
               "LEFT JOIN _fw fw ON fw.name = t.\"Falls within\" "
               + ("LEFT JOIN _cat c ON c.name = t.\"Crime type\"" if kind == "street" else ""))
    case = " ".join(f"WHEN {cond} THEN {k}" for k, (cond, _, _) in enumerate(checks)
                    if k not in on_rows)
    failing = dict(con.execute(
        f"""SELECT _file, min(k) FROM (SELECT t._file, CASE {case} END AS k
        FROM _combos t {lookups}) GROUP BY _file HAVING min(k) IS NOT NULL""",
        params,
    ).fetchall())
    conds = [(k, checks[k][0]) for k in sorted(on_rows)]
    for file, k in con.execute(
        f"""SELECT _file, min(CASE {" ".join(f"WHEN {c} THEN {k}" for k, c in conds)} END)
        FROM {table} WHERE {" OR ".join(f"({c})" for _, c in conds)} GROUP BY _file"""
    ).fetchall():
        failing[file] = min(k, failing.get(file, k))
    if not failing:
        return items
    by_path = {str(i.path): i for i in items}
    for file, k in sorted(failing.items()):
        cond, column, problem = checks[k]
        first, rowid, value = con.execute(
            f"""SELECT (SELECT min(rowid) FROM {table} WHERE _file = $file), min(t.rowid),
                       arg_min(t."{column}", t.rowid)
            FROM {table} t {lookups} WHERE t._file = $file AND ({cond})""",
            {"file": file, **{n: v for n, v in params.items() if f"${n}" in cond}},
        ).fetchall()[0]
        item = by_path[file]
        result.refused.append(InputRefused(
            item.origin, problem.format(value=_Quoted(value), item=item), rowid - first + 2))
    con.execute(f"DELETE FROM {table} WHERE _file IN (SELECT unnest(?::VARCHAR[]))",
                [sorted(failing)])
    return [i for i in items if str(i.path) not in failing]


def _force_ids(con: duckdb.DuckDBPyConnection, items: list[InputFile],
               table: str = "_force") -> None:
    """Force id per file: the file name's slug, else the 'Falls within' force's slug."""
    falls = dict(con.execute(  # the batch's combinations (_validate), not its rows
        "SELECT _file, any_value(\"Falls within\") FROM _combos GROUP BY _file"
    ).fetchall())
    ids = []
    for i in items:
        if i.name_force:
            ids.append((str(i.path), i.name_force, i.key))
        else:  # every row's 'Falls within' is a known force (_validate)
            ids.append((str(i.path), column_force(falls.get(str(i.path), "")) or "", i.key))
    con.execute(f"CREATE OR REPLACE TABLE {table} (_file VARCHAR, force_id VARCHAR, key VARCHAR)")
    con.executemany(f"INSERT INTO {table} VALUES (?, ?, ?)", ids)


# (files done, files in all, rows done, rows in all) of one stage
BatchProgress = Callable[[int, int, int, int], None]
# Takes a staged table's rows away (etl.lake.commit.LakeBatches.flush: into the lake); False
# when it took none and they stay staged.
Flush = Callable[[duckdb.DuckDBPyConnection, str], bool]


def parse(con: duckdb.DuckDBPyConnection, items: list[InputFile],
          result: ParseResult, max_rows: int | None = None,
          checked_progress: BatchProgress | None = None,
          read_progress: BatchProgress | None = None,
          flush: Flush | None = None,
          after_checks: Callable[[list[InputFile]], object] | None = None) -> None:
    """Parse street and outcomes files into temp tables `stg_crime` and `stg_outcome`,
    shaped as etl.sources.shapes.CRIME_COLUMNS / OUTCOME_COLUMNS (+ `_file`: the file's
    InputFile.key).

    Files are read, checked and staged in batches of at most half `max_rows` rows (a file
    larger than that is a batch of its own; a batch is read while the one before is
    staged), so the raw text of the input is never all in memory at once: only the typed
    staging tables grow, and DuckDB spills them to disk beyond its memory limit. Files
    naming the same force and month share a batch (a repeated Crime ID is found within a
    force's month).

    `flush`, when given, is handed `stg_crime` after each batch of street files, when every
    street file names its force and month (so no (force, month) has rows in two batches);
    what it takes leaves `stg_crime`, which then holds one batch at most: stg_crime holds
    what it did not take.

    `after_checks`, when given, is handed the files that passed their checks (each naming
    its force and month when its name does) before the first batch is read."""
    _register_lookups(con)
    checked: list[InputFile] = []
    # The files' checks run two at a time (results taken in the files' order): each is a
    # read and a numpy count of newline bytes, both of which release the GIL, so two
    # threads use both cores (a national year's 516 files: ~1.3 -> ~0.6 s of wall).
    with ThreadPoolExecutor(max_workers=PRECHECK_THREADS) as pool:
        for n, outcome in enumerate(pool.map(_precheck_or_refusal, items), 1):
            if isinstance(outcome, InputRefused):
                result.refused.append(outcome)
            else:
                checked.append(outcome)
            if checked_progress:
                checked_progress(n, len(items), 0, 0)
    if after_checks:
        after_checks(checked)
    _make_empty(con)
    result.crime_rowids = 0
    order = {id(i): n for n, i in enumerate(checked)}
    for n, item in enumerate(checked):
        item.key = f"#{n}"
    files_done = rows_done = 0
    rows_in_all = sum(i.rows for i in checked)
    if read_progress and checked:
        read_progress(0, len(checked), 0, rows_in_all)  # the stage's clock starts now
    streets = [i for i in checked if i.kind == "street"]
    if not all(i.name_force and i.name_month for i in streets):
        flush = None  # a file without them may hold rows of any batch's partitions
    # Each batch is read and checked on a cursor in a reader thread, one batch ahead of its
    # staging here (and of the lake writer behind that, `flush`): three stages, each on one
    # thread, so a load keeps both cores busy without DuckDB's parallel scan of the files,
    # whose order-preserving read cost ~1.45x the CPU of the same read on one thread.
    # Two batches are read or staged at once (and a third written), so each is half of
    # `max_rows`: the rows in hand stay what one batch of `max_rows` was (a national year's
    # staging connection spilled ~150 MiB a batch with whole ones, nothing with halves).
    half = None if max_rows is None else max(1, max_rows // 2)
    reader = con.cursor()
    try:
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="csv-reader") as pool:
            for kind, header in (("street", STREET_HEADER), ("outcomes", OUTCOME_HEADER)):
                todo = list(ramped([i for i in checked if i.kind == kind], half))
                ahead = (pool.submit(_read_checked, reader, kind, header, todo[0], result, 0)
                         if todo else None)
                for n, batch in enumerate(todo):
                    read = ahead.result()  # type: ignore[union-attr]  # one per batch
                    ahead = (pool.submit(_read_checked, reader, kind, header, todo[n + 1],
                                         result, n + 1) if n + 1 < len(todo) else None)
                    _stage_batch(con, kind, *read, result)
                    if kind == "street" and flush is not None:
                        _flush_crimes(con, result, flush)
                    files_done += len(batch)
                    rows_done += sum(i.rows for i in batch)
                    if read_progress:
                        read_progress(files_done, len(checked), rows_done, rows_in_all)
    finally:
        reader.close()
    result.accepted.sort(key=lambda i: order[id(i)])


def _flush_crimes(con: duckdb.DuckDBPyConnection, result: ParseResult, flush: Flush) -> None:
    """Hand stg_crime to `flush`; when it takes the rows, stg_crime starts again empty (its
    rowids from 0). It holds only the batch just staged: an earlier batch's rows, unless
    flush left them, are gone already; rows it left are offered again with the next batch."""
    if flush(con, "stg_crime"):
        _make_empty(con, crime=True, outcome=False)
        result.crime_rowids = 0


def batches(items: list[InputFile], max_rows: int | None) -> Iterator[list[InputFile]]:
    """`items` in batches of at most `max_rows` rows, in order, a force's month (by file name;
    files without one together) never split."""
    if not items:
        return
    groups: dict[tuple, list[InputFile]] = {}
    for item in items:
        groups.setdefault((item.name_force, item.name_month), []).append(item)
    batch: list[InputFile] = []
    rows = 0
    for group in groups.values():
        size = sum(i.rows for i in group)
        if batch and max_rows is not None and rows + size > max_rows:
            yield batch
            batch, rows = [], 0
        batch.extend(group)
        rows += size
    yield batch


RAMP = 8  # the first batch is 1/RAMP of a full one, and the last at least that


def ramped(items: list[InputFile], max_rows: int | None) -> Iterator[list[InputFile]]:
    """`items` in batches as `batches` cuts them (in order, a force's month never split, at
    most `max_rows` rows), but small at both ends: the first 1/RAMP of `max_rows`, each next
    one twice the last, and none more than half the rows still to come, nor less than 1/RAMP.

    Why: the load's three stages (read, stage, write) overlap only in the middle. The first
    batch is read while nothing else runs, and the last is staged and then written with the
    reader idle: with every batch of `max_rows` (500,000 rows, ~0.7 s a stage) a national
    year's load ran on one core for ~2 s of its ~9 s of reading. Smaller batches at the ends
    shorten those two stretches; in the middle, the batches stay full (each batch costs a few
    fixed queries). The rows, and every partition's rows, are the same whatever the cut."""
    if max_rows is None:
        yield from batches(items, None)
        return
    groups: dict[tuple, list[InputFile]] = {}
    for item in items:
        groups.setdefault((item.name_force, item.name_month), []).append(item)
    left = sum(i.rows for i in items)  # rows not yet in a batch handed out
    floor = max(1, max_rows // RAMP)
    target = floor
    cap = min(target, max(floor, left // 2))
    batch: list[InputFile] = []
    rows = 0
    for group in groups.values():
        size = sum(i.rows for i in group)
        if batch and rows + size > cap:
            yield batch
            left -= rows
            target = min(max_rows, target * 2)
            cap = min(target, max(floor, left // 2))
            batch, rows = [], 0
        batch.extend(group)
        rows += size
    if batch:
        yield batch


def _parse_batch(con: duckdb.DuckDBPyConnection, kind: str, header: list[str],
                 items: list[InputFile], result: ParseResult) -> None:
    """One batch of one kind of file: read, validate, stage; its raw text is dropped after."""
    _stage_batch(con, kind, *_read_checked(con, kind, header, items, result, 0), result)


def _read_checked(con: duckdb.DuckDBPyConnection, kind: str, header: list[str],
                  items: list[InputFile], result: ParseResult,
                  number: int) -> tuple[list[InputFile], str, str]:
    """Read and check one batch (`con` may be the reader thread's cursor): its raw rows and
    its files' forces go into tables of the database named for the batch, which
    _stage_batch stages and drops. Returns the files left, and those two tables' names."""
    raw, force = f"_raw_{kind}_{number}", f"_force_{kind}_{number}"
    items = read_batch(con, raw, items, header, result, temp=False)
    if items:
        items = _validate(con, raw, items, kind, result)
    if items:
        _force_ids(con, items, force)
    con.execute("DROP TABLE IF EXISTS _combos")
    return items, raw, force


def _stage_batch(con: duckdb.DuckDBPyConnection, kind: str, items: list[InputFile], raw: str,
                 force: str, result: ParseResult) -> None:
    """Stage a batch _read_checked read; its raw text is dropped after."""
    try:
        if items:
            if kind == "street":
                _stage_street(con, result, raw, force)
            else:
                _stage_outcomes(con, raw, force)
            result.accepted.extend(items)
    finally:
        for table in (raw, force):
            con.execute(f"DROP TABLE IF EXISTS {table}")
        con.execute("DROP TABLE IF EXISTS _dups")
        con.execute("DROP TABLE IF EXISTS _dup_keys")


def _make_empty(con: duckdb.DuckDBPyConnection, crime: bool = True, outcome: bool = True) -> None:
    """`stg_crime` is a table of the connection's in-memory database, not a TEMP one: a
    flush may hand it to a writer thread, whose cursor (another connection to the same
    database) sees the database's tables but not `con`'s TEMP ones."""
    if crime:
        cols = ", ".join(f'"{c}" {t}' for c, t in CRIME_COLUMNS.items())
        con.execute(f"CREATE OR REPLACE TABLE stg_crime ({cols}, _file VARCHAR)")
    if outcome:
        cols = ", ".join(f'"{c}" {t}' for c, t in OUTCOME_COLUMNS.items())
        con.execute(f"CREATE OR REPLACE TEMP TABLE stg_outcome ({cols}, _file VARCHAR)")


def _stage_street(con: duckdb.DuckDBPyConnection, result: ParseResult,
                  raw: str = "_raw_street", force: str = "_force") -> None:
    """Raw rows -> clean crime rows. A Crime ID repeated inside a force's month is one
    crime: the first row is kept, the rest are logged (by line) as duplicates.

    Every row is staged first, then the repeated IDs are looked for among the batch's staged
    rows (a rowid range: the batch's rows are the last ones staged, and rowids count deleted
    rows too), whose IDs the insert has trimmed already: candidates are the 64-bit hashes of
    the IDs of crimes (not ASB) seen more than once in the batch, whatever their force or
    month (a superset of the repeated keys: equal IDs hash alike; a collision only adds a
    candidate the exact query rules out). An aggregate over one 8-byte column, ~0.1 s of CPU
    per million rows; trimming the raw IDs again for it cost ~0.3 s, the exact aggregate over
    the IDs with their force and month ~0.9 s. Most batches have no candidate; in those that
    do, the exact query reads only the candidates' raw rows (the first row of a repeated key
    in the batch's row order is kept, as always) and their repeats leave the staged table.
    Hash aggregates, not window functions: a window over 400k rows sorts, and cost 3x."""
    offsets = f"(SELECT _file, min(rowid) AS r0 FROM {raw} GROUP BY _file)"
    start = result.crime_rowids  # the rows staged since stg_crime was made, repeats included
    inserted = con.execute(
        f"""INSERT INTO stg_crime
        SELECT f.force_id, CAST(r."Month" || '-01' AS DATE), NULLIF(trim(r."Crime ID"), ''), NULL,
               c.id, c.id = 'anti-social-behaviour',
               NULLIF(r."LSOA code", ''), NULLIF(r."LSOA name", ''),
               TRY_CAST(NULLIF(r."Longitude", '') AS DOUBLE),
               TRY_CAST(NULLIF(r."Latitude", '') AS DOUBLE),
               NULLIF(r."Location", ''), NULLIF(r."Last outcome category", ''),
               s.type IS NOT NULL AND c.id <> 'anti-social-behaviour', s.type, NULL,
               NULL, NULL, NULL, r.rowid - m.r0 + 2, f.key
        FROM {raw} r JOIN {offsets} m USING (_file)
        JOIN {force} f USING (_file) JOIN _cat c ON c.name = r."Crime type"
        LEFT JOIN _sanction s ON s.outcome = r."Last outcome category"
        """
    ).fetchone()[0]
    result.crime_rowids += inserted
    con.execute(
        """CREATE OR REPLACE TEMP TABLE _dup_keys AS
        SELECT hash(crime_id) AS h FROM stg_crime
        WHERE rowid >= ? AND crime_id IS NOT NULL AND NOT is_asb GROUP BY 1 HAVING count(*) > 1""",
        [start],
    )
    dropped = 0
    if con.execute("SELECT count(*) FROM _dup_keys").fetchone()[0]:
        con.execute(
            f"""CREATE OR REPLACE TEMP TABLE _dups AS
            WITH t AS (
                SELECT f.force_id, CAST(r."Month" || '-01' AS DATE) AS month,
                       NULLIF(trim(r."Crime ID"), '') AS crime_id, r._file, r.rowid AS _rn
                FROM {raw} r JOIN {force} f USING (_file)
                JOIN _cat c ON c.name = r."Crime type"
                WHERE hash(trim(r."Crime ID")) IN (SELECT h FROM _dup_keys)
                  AND NULLIF(trim(r."Crime ID"), '') IS NOT NULL
                  AND c.id <> 'anti-social-behaviour'),
            k AS (
                SELECT force_id, month, crime_id, min(_rn) AS first_rn FROM t
                GROUP BY ALL HAVING count(*) > 1)
            SELECT t._file, t.force_id, t.month, t._rn - m.r0 + 2 AS line, t.crime_id, t._rn
            FROM t JOIN k USING (force_id, month, crime_id) JOIN {offsets} m USING (_file)
            WHERE t._rn <> k.first_rn"""
        )
        dups = con.execute(
            "SELECT _file, force_id, month, line, crime_id FROM _dups ORDER BY _rn").fetchall()
        if dups:
            dropped = con.execute(
                f"""DELETE FROM stg_crime s USING (
                    SELECT f.key, d.line FROM _dups d JOIN {force} f USING (_file)) d
                WHERE s.rowid >= ? AND s._file = d.key AND s.line = d.line""",
                [start],
            ).fetchone()[0]
            if dropped != len(dups):
                raise RuntimeError(f"staging: {dropped} staged rows dropped for {len(dups)} "
                                   "repeated Crime IDs")
            result.duplicates.extend(dups)
    result.crimes += inserted - dropped


def _stage_outcomes(con: duckdb.DuckDBPyConnection, raw: str = "_raw_outcome",
                    force: str = "_force") -> None:
    con.execute(
        f"""INSERT INTO stg_outcome
        SELECT f.force_id, CAST(r."Month" || '-01' AS DATE), NULLIF(trim(r."Crime ID"), ''),
               NULLIF(r."Outcome type", ''), s.type IS NOT NULL, s.type,
               r.rowid - m.r0 + 2, f.key
        FROM {raw} r JOIN {force} f USING (_file)
        JOIN (SELECT _file, min(rowid) AS r0 FROM {raw} GROUP BY _file) m USING (_file)
        LEFT JOIN _sanction s ON s.outcome = r."Outcome type"
        WHERE NULLIF(trim(r."Crime ID"), '') IS NOT NULL"""
    )


def sniff_header(path: Path) -> list[str]:
    """First row of a CSV (for tools that want to tell file kinds apart)."""
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return next(csv.reader(io.StringIO(fh.readline())), [])
