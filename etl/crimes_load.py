"""`python -m etl load crimes SOURCE [--query SQL]`: a force's own crime extract.

All or nothing: a refused extract commits nothing, so the warehouse a reader sees stays
exactly as it was. An accepted one is committed through `etl.load.commit` like every other
source; each (force, month) in it replaces that month of source 'force'.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from etl.errors import InputRefused
from etl.load import LoadReport, Progress, Staged, commit, new_load_id
from etl.sources import crimes
from etl.warehouse import WarehousePaths, connect_readonly, writer_lock

SOURCE = "force"
STAGE = "Reading crime extract"


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
                progress(STAGE, 0, 1)
            try:
                if query is not None:
                    parsed = crimes.parse_query(con, source, query)
                else:
                    parsed = crimes.parse_file(con, Path(source), origin=source)
            except InputRefused as refusal:
                report.refused.append(refusal)
                return report  # nothing committed: the warehouse is unchanged
            if progress:
                progress(STAGE, 1, 1)
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
