"""`python -m etl load satisfaction|calls|dv|missing|rso|workforce SOURCE [--query SQL]`.

The same guarantees as the crime extract (etl/crimes_load.py): the input is read and checked
whole (etl.sources.tabular, declared per source in etl.sources.services) before anything is
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

from pathlib import Path

import duckdb
import pandas as pd

from etl.cubes_services import (
    SHAPES,
    crime_ids,
    describe_links,
    describe_unknown,
    lake_crime_paths,
    links,
    unknown_units,
)
from etl.errors import InputRefused, UsageError
from etl.load import LoadReport, Progress, Staged, commit, new_load_id
from etl.sources.services import SOURCES, ServiceSource, stage
from etl.sources.tabular import parse_file, parse_query
from etl.units import slugify
from etl.warehouse import WarehousePaths, connect_readonly, writer_lock

SOURCE = "force"


def load_service(link: Path, source_name: str, source: str, query: str | None = None,
                 progress: Progress | None = None) -> LoadReport:
    """Parse `source` (a CSV path, or a SQLAlchemy URL when `query` is given) as the service
    source `source_name` and commit it. The writer lock is taken before parsing, so units and
    crimes are resolved against the version this load replaces."""
    if source_name not in SOURCES:
        raise UsageError(f"unknown source {source_name!r}; known: {', '.join(SOURCES)}")
    spec = SOURCES[source_name]
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
            table = stage(con, spec, parsed.file)
            if progress:
                progress(step, 1, 1)
            report.notes.extend(parsed.notes)
            # Notes on links and unknown units go to dq_log as structured rows (written by the
            # cube builder); they join the report after the commit so they are not logged twice.
            found = _resolve_units(con, spec, table, link)
            staged = Staged(con=con, source=SOURCE, tables={spec.dataset: table},
                            origins={parsed.file: parsed.origin})
            report.loaded = [(parsed.origin, parsed.rows)]
            commit(link, staged, report, f"load {source_name}", progress)
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


def _resolve_units(con: duckdb.DuckDBPyConnection, spec: ServiceSource, table: str,
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
    dataset = spec.dataset
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
    for force_id, what, rows, line, refs in unknown_units(con, table, dataset, ("force_id",)):
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
            lines = describe_links(dataset, SHAPES[dataset].noun, with_ref, linked,
                                   total - with_ref, officers, known)
            if not crime_paths:
                lines[0] += f" (no recorded crimes of {force_id} are loaded)"
            notes.extend(lines)
    return notes
