"""Loading a source's input into the lake and the next warehouse version: one function per
kind of command the registry declares (`Source.cli`):

- `load_police_uk`: data.police.uk files, folders and zips (`python -m etl load police-uk`);
- `load_crimes`: a force's own crime extract, a CSV file or a SQL query;
- `load_service`: every schema-declared tabular source (satisfaction, calls, dv, missing, rso,
  workforce ...), `python -m etl load <name> SOURCE [--query SQL]`.

Tabular sources: the input is read and checked
whole (etl.sources.tabular, declared per source in etl/sources/<name>.py) before anything is
written; a bad row refuses it all, naming the file, the line and the problem, and the
warehouse stays exactly as it was. An accepted input is committed through etl.load.commit:
each (force, month) it holds replaces that month of the dataset for source 'force' (so a
reload is idempotent), atomically, with every row kept.

Unit references are resolved against the units the warehouse already has (loaded from a
crime extract, a unit or hierarchy file, or the demo), by unit id or by name: an NPU by its
name within the force, an officer by name or collar number (preferring one under the row's
NPU). A reference to a unit the warehouse does not know is kept as written, counted at force
level, reported in the load report and logged to dq_log as 'unknown_unit': never dropped.
Survey respondents and domestic incidents are linked to recorded crimes of the same force by
reference; the report says how many were linked and how many not found.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterable
from datetime import date
from pathlib import Path

import duckdb
import pandas as pd

from etl.cubes.measures import (
    crime_ids,
    describe_links,
    describe_unknown,
    lake_crime_paths,
    links,
    unknown_units,
)
from etl.errors import InputRefused, UsageError
from etl.lake.commit import LakeBatches, LoadReport, Progress, Staged, commit, new_load_id
from etl.lake.warehouse import WarehousePaths, connect_readonly, writer_lock
from etl.limits import batch_rows, staging_config
from etl.reference.lsoa_mapping import read_hierarchy_file, warm_defaults
from etl.sources import crimes
from etl.sources.base import TabularSource
from etl.sources.identity import month_problem
from etl.sources.police_uk import reader as police_uk
from etl.sources.police_uk import stop_search
from etl.sources.registry import REGISTRY
from etl.sources.tabular import parse_file, parse_query, stage
from etl.units import slugify

SOURCE = "force"  # the lake source of a force's own data (crime extract and service data)
CRIMES_STAGE = "Reading crime extract"
CHECK_STAGE = "Checking CSV files"
READ_STAGE = "Reading CSV files"


def load_service(link: Path, source_name: str, source: str, query: str | None = None,
                 progress: Progress | None = None) -> LoadReport:
    """Parse `source` (a CSV path, or a SQLAlchemy URL when `query` is given) as the service
    source `source_name` and commit it. The writer lock is taken before parsing, so units and
    crimes are resolved against the version this load replaces."""
    spec = REGISTRY.get(source_name)
    if not isinstance(spec, TabularSource):
        known = ", ".join(n for n, s in REGISTRY.items() if isinstance(s, TabularSource))
        raise UsageError(f"unknown source {source_name!r}; known: {known}")
    report = LoadReport(new_load_id())
    paths = WarehousePaths(link)
    paths.directory.mkdir(parents=True, exist_ok=True)
    step = f"Reading {source_name}"
    con = duckdb.connect()
    try:
        with writer_lock(paths):
            if progress:
                progress(step, 0, 1)
            try:
                if query is not None:
                    parsed = parse_query(con, source, query, spec.schema)
                else:
                    parsed = parse_file(con, Path(source), spec.schema, origin=source)
            except InputRefused as refusal:
                report.refused.append(refusal)
                return report  # nothing committed: the warehouse is unchanged
            table = stage(con, spec.dataset.columns, spec.stage, spec.dataset.name, parsed.file)
            if progress:
                progress(step, 1, 1)
            report.notes.extend(parsed.notes)
            # Notes on links and unknown units go to dq_log as structured rows (written by the
            # cube builder); they join the report after the commit so they are not logged twice.
            found = _resolve_units(con, spec, table, link)
            staged = Staged(con=con, source=SOURCE, tables={spec.dataset.name: table},
                            origins={parsed.file: parsed.origin})
            report.loaded = [(parsed.origin, parsed.rows)]
            commit(link, staged, report, f"load {source_name}", progress)
            if report.loaded:  # (a file the gate refused loaded nothing to note)
                report.notes.extend(found)
    finally:
        con.close()
    return report


# --------------------------------------------------------------------------- units


def _candidates(units: list[tuple], levels: tuple[str, ...]) -> dict[tuple[str, str, str], list[str]]:
    """(force, level, key) -> unit ids, keyed by id and by slug of the display name."""
    out: dict[tuple[str, str, str], list[str]] = {}
    for unit_id, level, force_id, name in units:
        if level not in levels:
            continue
        for key in {unit_id, slugify(name)}:
            out.setdefault((force_id, level, key), []).append(unit_id)
    return out


def _match(index: dict, force_id: str, level: str, ref: str, prefer: str | None = None) -> str | None:
    exact = ref.strip().lower()
    ids = index.get((force_id, level, exact)) if "/" in exact else None
    if not ids:
        ids = index.get((force_id, level, slugify(ref)))
    if not ids:
        return None
    ids = sorted(set(ids))
    if prefer:
        near = [i for i in ids if i.startswith(prefer + "/")]
        ids = near or ids
    return ids[0]


def _apply(con: duckdb.DuckDBPyConnection, table: str, column: str, keys: list[str],
           rows: list[tuple]) -> None:
    """Set `column` from a (keys..., value) mapping; rows with no match stay NULL."""
    if not rows:
        return
    frame = pd.DataFrame(rows, columns=[*keys, "_value"], dtype=object)
    con.register("_unit_map", frame)
    cond = " AND ".join(f"{table}.{k} IS NOT DISTINCT FROM m.{k}" for k in keys)
    con.execute(f"UPDATE {table} SET {column} = m._value FROM _unit_map m "
                f"WHERE {cond} AND m._value IS NOT NULL")
    con.unregister("_unit_map")


def _resolve_units(con: duckdb.DuckDBPyConnection, spec: TabularSource, table: str,
                   link: Path) -> list[str]:
    """Fill npu_id / bcu_id / officer_id from the live warehouse's units; return the notes
    on unknown units and on links to crimes and officers."""
    forces = [r[0] for r in con.execute(f"SELECT DISTINCT force_id FROM {table} ORDER BY 1").fetchall()]
    units: list[tuple] = []
    crime_paths: list[str] = []
    paths = WarehousePaths(link)
    if paths.live() is not None:
        wcon = connect_readonly(link)
        try:
            units = wcon.execute(
                "SELECT unit_id, level, force_id, name FROM dim_unit WHERE level IN "
                "('bcu', 'npu', 'officer') AND force_id IN (SELECT unnest(?::VARCHAR[]))",
                [forces]).fetchall()
            crime_paths = lake_crime_paths(paths.lake, wcon, forces)
        finally:
            wcon.close()
    index = _candidates(units, ("bcu", "npu", "officer"))
    dataset = spec.dataset.name
    columns = {r[0] for r in con.execute(f"DESCRIBE {table}").fetchall()}

    if "npu_ref" in columns:
        refs = con.execute(f"SELECT DISTINCT force_id, npu_ref FROM {table} "
                           "WHERE npu_ref IS NOT NULL").fetchall()
        _apply(con, table, "npu_id", ["force_id", "npu_ref"],
               [(f, r, _match(index, f, "npu", r)) for f, r in refs])
    if "unit_ref" in columns:
        refs = con.execute(f"SELECT DISTINCT force_id, unit_ref FROM {table} "
                           "WHERE unit_ref IS NOT NULL").fetchall()
        _apply(con, table, "npu_id", ["force_id", "unit_ref"],
               [(f, r, _match(index, f, "npu", r)) for f, r in refs])
        _apply(con, table, "bcu_id", ["force_id", "unit_ref"],
               [(f, r, None if _match(index, f, "npu", r) else _match(index, f, "bcu", r))
                for f, r in refs])
    if "officer_ref" in columns:
        refs = con.execute(f"SELECT DISTINCT force_id, npu_id, officer_ref FROM {table} "
                           "WHERE officer_ref IS NOT NULL").fetchall()
        _apply(con, table, "officer_id", ["force_id", "npu_id", "officer_ref"],
               [(f, n, r, _match(index, f, "officer", r, prefer=n)) for f, n, r in refs])

    notes: list[str] = []
    distinct = {}
    for force_id, what, rows, line, refs in unknown_units(con, table, spec.dataset, ("force_id",)):
        ref_col = {"NPU": "npu_ref", "unit": "unit_ref", "officer": "officer_ref"}[what]
        missing = {"NPU": "npu_id IS NULL", "unit": "npu_id IS NULL AND bcu_id IS NULL",
                   "officer": "officer_id IS NULL"}[what]
        distinct[what] = con.execute(
            f"SELECT count(DISTINCT {ref_col}) FROM {table} WHERE force_id = ? "
            f"AND {ref_col} IS NOT NULL AND {missing}", [force_id]).fetchone()[0]
        note = describe_unknown(dataset, what, rows, refs, line, distinct[what] - len(refs))
        if not units:
            note += " (the warehouse has no units for this force yet: load its crimes or the demo first)"
        notes.append(note)
    if "incident_ref" in columns:
        crimes = crime_ids(con, crime_paths)
        for force_id, total, with_ref, linked, officers, known in links(con, table, crimes,
                                                                        ("force_id",)):
            lines = describe_links(dataset, spec.dataset.noun, with_ref, linked,
                                   total - with_ref, officers, known)
            if not crime_paths:
                lines[0] += f" (no recorded crimes of {force_id} are loaded)"
            notes.extend(lines)
    return notes


# --------------------------------------------------------------------------- crime extract


def load_crimes(link: Path, source: str, query: str | None = None,
                progress: Progress | None = None) -> LoadReport:
    """Parse `source` (a CSV path, or a SQLAlchemy URL when `query` is given) and commit it.

    The writer lock is taken before parsing so that the units this load keeps or adds are
    decided against the version it will replace (see _keep_existing_units)."""
    report = LoadReport(new_load_id())
    paths = WarehousePaths(link)
    paths.directory.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    try:
        with writer_lock(paths):
            if progress:
                progress(CRIMES_STAGE, 0, 1)
            try:
                if query is not None:
                    parsed = crimes.parse_query(con, source, query)
                else:
                    parsed = crimes.parse_file(con, Path(source), origin=source)
            except InputRefused as refusal:
                report.refused.append(refusal)
                return report  # nothing committed: the warehouse is unchanged
            if progress:
                progress(CRIMES_STAGE, 1, 1)
            report.notes.extend(parsed.notes)
            _keep_existing_units(con, parsed.unit_table, link)
            staged = Staged(
                con=con, source=SOURCE, crime_table=parsed.crime_table,
                unit_table=parsed.unit_table, origins={parsed.file: parsed.origin},
            )
            report.loaded = [(parsed.origin, parsed.rows)]
            commit(link, staged, report, "load crimes", progress)
    finally:
        con.close()
    return report


def _keep_existing_units(con: duckdb.DuckDBPyConnection, unit_table: str, link: Path) -> None:
    """Drop staged units the warehouse already has.

    `commit` writes staged units with INSERT OR REPLACE. An extract knows only ids and
    display names, so replacing a unit that a unit file, hierarchy file or the demo already
    defined would wipe its population, households, area and validity dates (per-1,000 rates
    would vanish). Units already present are therefore left as they are; the extract only
    adds the units it names for the first time.
    """
    if WarehousePaths(link).live() is None:
        return
    wcon = connect_readonly(link)
    try:
        ids = [r[0] for r in con.execute(f"SELECT unit_id FROM {unit_table}").fetchall()]
        existing = [r[0] for r in wcon.execute(
            "SELECT unit_id FROM dim_unit WHERE unit_id IN (SELECT unnest(?::VARCHAR[]))", [ids]
        ).fetchall()]
    finally:
        wcon.close()
    if existing:
        con.execute(f"DELETE FROM {unit_table} WHERE unit_id IN (SELECT unnest(?::VARCHAR[]))",
                    [existing])


# --------------------------------------------------------------------------- data.police.uk


STAGING_THREADS = 1


def load_police_uk(link: Path, inputs: Iterable[Path], hierarchy: Path | None = None,
                   progress: Progress | None = None) -> LoadReport:
    """`python -m etl load police-uk PATH...`"""
    report = LoadReport(new_load_id())
    paths = WarehousePaths(link)
    paths.directory.mkdir(parents=True, exist_ok=True)
    with writer_lock(paths), tempfile.TemporaryDirectory(dir=paths.directory) as work:
        items: list[police_uk.InputFile] = []
        for x in police_uk.expand_inputs(inputs, Path(work)):
            if isinstance(x, InputRefused):
                report.refused.append(x)
            else:
                items.append(x)
        total = sum(i.path.stat().st_size for i in items if i.path.is_file())
        config = staging_config(total, str(Path(work) / "spill"))
        # One DuckDB thread a query: the load runs its stages on threads of its own (the
        # files read one batch ahead, the staging, the lake writer behind), each query on
        # its caller's thread. DuckDB's two-thread read of a batch's files in order cost
        # ~1.45x the CPU of a one-thread read (the ordered batches' merge), and a second
        # DuckDB thread gains nothing while the other stages hold the other core.
        con = duckdb.connect(config={**config, "threads": STAGING_THREADS})
        try:
            return _stage_and_commit_police_uk(link, con, items, hierarchy, report, progress,
                                               int(config["memory_limit"].removesuffix("MB")))
        finally:
            con.close()


def _stage_and_commit_police_uk(link: Path, con: duckdb.DuckDBPyConnection, items: list,
                                hierarchy: Path | None, report: LoadReport,
                                progress: Progress | None, memory_mb: int) -> LoadReport:
    """`memory_mb`: the staging connection's bound, which the lower bounds while and after
    the lake is written never exceed (LG_LOAD_MEMORY_MB may be set below them)."""
    result = police_uk.ParseResult()
    searches, items = _split_stop_search(items, report)
    checked = read = None
    if progress:
        progress(CHECK_STAGE, 0, len(items))

        def checked(done: int, total: int, _rows: int, _total_rows: int) -> None:
            progress(CHECK_STAGE, done, total)

        def read(done: int, total: int, rows: int, total_rows: int) -> None:
            progress(READ_STAGE, done, total, rows=(rows, total_rows))

    # Each batch's crimes go into the lake as soon as they are staged (LakeBatches), so the
    # staged table never outgrows the connection's bound and spills.
    lake_batches = LakeBatches(link, report.load_id, "police_uk", "crime")
    staged = Staged(con=con, source="police_uk", crime_table="stg_crime",
                    outcome_table="stg_outcome", duplicates=result.duplicates,
                    prewritten={"crime": lake_batches},
                    memory_after_write=f"{min(256, memory_mb)}MB",
                    memory_while_writing=f"{min(512, memory_mb)}MB")
    _stage_and_commit(link, con, items, searches, hierarchy, report, progress, result, staged,
                      checked, read)
    if not report.committed:
        # Refused (a hierarchy file) or nothing to commit: no version lists what was written.
        # (A load that fails leaves its files, and its `.incoming` marker, to the next load,
        # which removes those no version lists.)
        staged.discard_prewritten()
    return report


def _stage_and_commit(link: Path, con: duckdb.DuckDBPyConnection, items: list,
                      searches: list, hierarchy: Path | None, report: LoadReport,
                      progress: Progress | None, result: police_uk.ParseResult,
                      staged: Staged, checked: Callable | None,
                      read: Callable | None) -> LoadReport:
    lake_batches = staged.prewritten["crime"]
    # The default hierarchies of the forces the files name are built while the files are
    # read (a thread mostly idle on the GIL-free reads), not at the LSOA update after them.
    warming: list = []

    def warm(files: list[police_uk.InputFile]) -> None:
        warming.append(warm_defaults(i.name_force for i in files if i.name_force))

    try:
        police_uk.parse(con, items, result, batch_rows(), checked, read, flush=lake_batches.flush,
                        after_checks=warm)
    except BaseException:
        lake_batches.finish(raise_error=False)  # its writer must not outlive the connection
        raise
    lake_batches.finish()  # the last batch written in the background is in the lake
    for thread in warming:
        thread.join()  # (before the LSOA update asks for a hierarchy it may be building)
    search_table, refused = stop_search.parse(
        con, [(i.path, i.origin, i.name_force, i.name_month) for i in searches])
    report.refused.extend(result.refused + refused)
    origins = {str(i.path): i.origin for i in [*items, *searches]}
    origins.update({i.key: i.origin for i in items if i.key})  # the staged rows' _file
    staged.origins = origins
    if search_table:
        staged.tables[stop_search.DATASET] = search_table
        rows = dict(con.execute(f"SELECT _file, count(*) FROM {search_table} GROUP BY 1").fetchall())
        result.accepted.extend(i for i in searches if str(i.path) in rows)
        result.rows_read.update(rows)
    for table in ("stg_crime", "stg_outcome"):
        for _, _, file, n, _, _ in staged.parts(table):
            result.rows_read[file] = result.rows_read.get(file, 0) + n
    for _, _, file, n in lake_batches.parts:
        result.rows_read[file] = result.rows_read.get(file, 0) + n
    forces = sorted(staged.forces())
    if hierarchy is not None:
        try:
            staged.assignments = read_hierarchy_file(hierarchy, forces)
        except InputRefused as refusal:
            report.refused.append(refusal)
            return report  # a wrong mapping would misplace every row: load nothing
    for f in forces:
        if f != "cheshire" and not any(a.force_id == f for a in staged.assignments):
            report.notes.append(
                f"{f}: no LSOA -> NPU mapping supplied (--hierarchy); loaded at force level"
            )
    report.loaded = [(i.origin, result.rows_read.get(i.key or str(i.path), 0))
                     for i in result.accepted]
    if not report.loaded and not staged.assignments:
        return report  # nothing to commit: the warehouse stays exactly as it was
    commit(link, staged, report, "load police-uk", progress)
    return report


def _split_stop_search(items: list[police_uk.InputFile], report: LoadReport
                       ) -> tuple[list[police_uk.InputFile], list[police_uk.InputFile]]:
    """Stop-and-search files (by their name: they hold no force or month column) go to their
    own reader; a file with the stop-and-search header but another name is refused."""
    searches, others = [], []
    for item in items:
        m = police_uk.FILE_NAME.match(Path(item.origin.split("!")[-1]).name)
        if m and m.group(4) == stop_search.FILE_SUFFIX:
            try:
                item.name_month = date(int(m.group(1)), int(m.group(2)), 1)
            except ValueError:
                report.refused.append(InputRefused(
                    item.origin, f"file name month {m.group(1)}-{m.group(2)} is not a month"))
                continue
            try:
                item.name_force = police_uk.name_force(item.origin, m.group(3))
            except InputRefused as refusal:
                report.refused.append(refusal)
                continue
            problem = month_problem(item.name_month)
            if problem:
                report.refused.append(InputRefused(item.origin, f"the file name's {problem}"))
                continue
            searches.append(item)
        elif not m and stop_search.looks_like(item.path):
            report.refused.append(InputRefused(
                item.origin, "a stop-and-search file must be named "
                "YYYY-MM-<force>-stop-and-search.csv, as data.police.uk names it: the file has "
                "no column for its force or month", 1))
        else:
            others.append(item)
    return searches, others
