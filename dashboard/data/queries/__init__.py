"""Every SQL statement the dashboard runs, grouped by the tables it reads.

    units.py      dim_unit: the organisation
    status.py     meta, load_log, month_status, quarantine, lake_manifest: what is loaded
    cubes.py      cube_crime_month/day and cube_service_month/day: every chart and table
    facts.py      the Parquet lake (raw facts): drill-through records and maps only
    place.py      the Parquet lake by place: crime and harm per LSOA, crimes per map point
    reference.py  ref_msf_groups, ref_force_characteristics, ref_targets: reference data

Only `dashboard.data` calls these, with a per-request cursor from `WarehouseReader.cursor()`,
and gets pandas DataFrames back; pages and analysis never build SQL. Values always travel as
bound parameters (`?`), never formatted into the statement, so nothing a user types or a data
file contains can change a query.

Identifiers (a cube table, a time column, a sort column, a unit level) are never taken from a
caller as text: each is looked up in a whitelist (`pick`), and anything else raises.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TypeVar

import duckdb

from etl import hierarchy

Cursor = duckdb.DuckDBPyConnection
T = TypeVar("T")


def pick(what: str, name: str, whitelist: Mapping[str, T]) -> T:
    """`whitelist[name]`, or a ValueError naming what was asked for: the only way an identifier
    chosen by a caller reaches a statement."""
    try:
        return whitelist[name]
    except KeyError:
        raise ValueError(f"{what} must be one of {sorted(whitelist)}, got {name!r}") from None


def level_list(names: Sequence[str]) -> list[str]:
    """Unit levels checked against the hierarchy (then bound as values)."""
    bad = [lv for lv in names if lv not in hierarchy.BY_ID]
    if bad:
        raise ValueError(f"unknown unit level(s) {bad}; known: {', '.join(hierarchy.LEVEL_IDS)}")
    return list(names)


def tables(cur: Cursor) -> set[str]:
    """Names of the warehouse's tables and views (older versions lack some cubes and reference
    tables; the old service cube names are views of cube_measure_* since schema version 2)."""
    rows = cur.execute(
        "SELECT table_name FROM duckdb_tables() UNION SELECT view_name FROM duckdb_views()"
    ).fetchall()
    return {r[0] for r in rows}
