"""Every SQL statement the dashboard runs, in one place.

Pages call these with a per-request cursor from `WarehouseReader.cursor()` and get pandas
DataFrames back; they never build SQL. Values always travel as bound parameters (`?`),
never formatted into the statement, so nothing a user types or a data file contains can
change a query.

Identifiers (a cube table, a time column, a sort column, a unit level) are never taken from
a caller as text: each is looked up in a whitelist below, and anything else raises.

Cubes are read for every chart and table; the Parquet lake (raw facts) is read only for the
drill-through records and the NPU map, always with a LIMIT.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from pathlib import Path

import duckdb
import pandas as pd

Cursor = duckdb.DuckDBPyConnection

# When a force has data from several sources, the most detailed wins: its own extract
# (day-level, officer in charge), then the synthetic demo, then data.police.uk (monthly).
# Summing two sources would double count, so exactly one is used per force.
SOURCE_PREFERENCE: tuple[str, ...] = ("force", "demo", "police_uk")
SOURCE_LABELS: dict[str, str] = {
    "force": "the force's own crime extract",
    "demo": "synthetic demo data",
    "police_uk": "data.police.uk street-level crime",
}

# time grain of a cube read -> (table, time column). The only identifiers a caller chooses.
_CUBES: dict[str, tuple[str, str]] = {
    "day": ("cube_crime_day", "day"),
    "month": ("cube_crime_month", "month"),
}
# unit level -> the expression in the facts CTE of _facts_sql that holds the unit's id.
_LEVEL_COLUMN: dict[str, str] = {
    "force": "force_id",
    "bcu": "bcu_id",
    "npu": "npu_id",
    "team": "team_id",
    "officer": "officer_id",
}
# Drill-through columns, in display order; also the whitelist for sorting.
RECORD_COLUMNS: tuple[str, ...] = (
    "date",
    "month",
    "crime_id",
    "category",
    "outcome",
    "sanction",
    "detection_type",
    "detection_date",
    "npu_id",
    "team_id",
    "lsoa_code",
    "lsoa_name",
    "location",
    "longitude",
    "latitude",
    "line",
)


def _cube(time: str, cubes: dict[str, tuple[str, str]] | None = None) -> tuple[str, str]:
    """(table, time column) from a whitelist: the only identifiers that reach cube SQL."""
    cubes = _CUBES if cubes is None else cubes
    try:
        return cubes[time]
    except KeyError:
        raise ValueError(f"time must be one of {sorted(cubes)}, got {time!r}") from None


def meta(cur: Cursor) -> dict[str, str]:
    """The warehouse's `meta` key/value table (version, built_at, schema_version...)."""
    rows = cur.execute("SELECT key, value FROM meta").fetchall()
    return {str(k): str(v) for k, v in rows if v is not None}


def loaded_summary(cur: Cursor) -> pd.DataFrame:
    """What is loaded: one row per source and force, with its span of months and totals.

    Read from `month_status` (one row per source x force x month), which every load keeps
    current, so this never touches the fact lake.
    """
    return cur.execute(
        """
        SELECT source,
               force_id,
               min(month)  AS first_month,
               max(month)  AS last_month,
               count(*)    AS months,
               sum(crimes) AS crimes,
               sum(asb)    AS asb
        FROM month_status
        GROUP BY source, force_id
        ORDER BY source, force_id
        """
    ).df()


def load_log(cur: Cursor, limit: int = 50) -> pd.DataFrame:
    """The most recent loads (and refusals), newest first."""
    limit = int(limit)
    if limit < 0:
        raise ValueError(f"limit must be >= 0, got {limit}")
    return cur.execute(
        """
        SELECT load_id, started_at, finished_at, command, file, status,
               rows_read, rows_loaded, message
        FROM load_log
        ORDER BY started_at DESC, load_id DESC
        LIMIT ?
        """,
        [limit],
    ).df()


def suspect_months(cur: Cursor) -> pd.DataFrame:
    """Months far below their expected level: flagged, never silently averaged in."""
    return cur.execute(
        """
        SELECT source, force_id, month, crimes, asb, expected, reason
        FROM month_status
        WHERE suspect
        ORDER BY source, force_id, month
        """
    ).df()


def quarantine_counts(cur: Cursor) -> pd.DataFrame:
    """Rows set aside by the parsers, counted by source, force and reason (largest first)."""
    return cur.execute(
        """
        SELECT source, force_id, reason,
               count(*)   AS rows,
               min(month) AS first_month,
               max(month) AS last_month
        FROM quarantine
        GROUP BY source, force_id, reason
        ORDER BY rows DESC, source, force_id, reason
        """
    ).df()


# -- units and sources -----------------------------------------------------------------


def units(cur: Cursor) -> pd.DataFrame:
    """Every unit of the organisation (dim_unit), parents before children."""
    return cur.execute(
        """
        SELECT unit_id, level, parent_id, force_id, name, population, households, area_km2,
               synthetic, note
        FROM dim_unit
        ORDER BY force_id,
                 CASE level WHEN 'force' THEN 0 WHEN 'bcu' THEN 1 WHEN 'npu' THEN 2
                            WHEN 'team' THEN 3 ELSE 4 END,
                 name, unit_id
        """
    ).df()


def tables(cur: Cursor) -> set[str]:
    """Names of the warehouse's tables (older versions lack the service cubes)."""
    return {r[0] for r in cur.execute(
        "SELECT table_name FROM duckdb_tables() UNION SELECT view_name FROM duckdb_views()").fetchall()}


def coverage(cur: Cursor) -> pd.DataFrame:
    """Which months each lake dataset holds for each source and force: [dataset, source,
    force_id, month]. A month listed here is loaded: a unit with no rows in it had none."""
    return cur.execute(
        """
        SELECT DISTINCT dataset, source, force_id, month
        FROM lake_manifest
        WHERE dataset <> 'outcome'
        ORDER BY dataset, source, force_id, month
        """
    ).df()


def day_spans(cur: Cursor, service_cube: bool) -> pd.DataFrame:
    """First and last day of the day cubes per family, source and force: [family, source,
    force_id, first_day, last_day]. Only sources with day-level dates appear."""
    service = (
        """UNION ALL
        SELECT dataset AS family, source, force_id, min(day), max(day)
        FROM cube_service_day WHERE level = 'force' GROUP BY ALL"""
        if service_cube
        else ""
    )
    return cur.execute(
        f"""
        SELECT 'crime' AS family, source, force_id, min(day) AS first_day, max(day) AS last_day
        FROM cube_crime_day WHERE level = 'force' GROUP BY ALL
        {service}
        ORDER BY family, source, force_id
        """
    ).df()


def month_status(cur: Cursor, source: str, force_id: str) -> pd.DataFrame:
    """The months one source has for one force, with their suspect flags."""
    return cur.execute(
        """
        SELECT month, crimes, asb, suspect, reason
        FROM month_status WHERE source = ? AND force_id = ?
        ORDER BY month
        """,
        [source, force_id],
    ).df()


# -- cube reads --------------------------------------------------------------------------


def series_counts(
    cur: Cursor,
    source: str,
    unit_id: str,
    start: date,
    end: date,
    categories: Sequence[str],
    time: str,
) -> pd.DataFrame:
    """Counts of the given categories for one unit, per day or month: [t, n, sd].

    `time` is 'day' (cube_crime_day) or 'month' (cube_crime_month). Days or months with
    no crimes have no row; the caller fills them in from the months the source covers.
    """
    table, col = _cube(time)
    return cur.execute(
        f"""
        SELECT {col} AS t, sum(n)::BIGINT AS n, sum(sd)::BIGINT AS sd
        FROM {table}
        WHERE source = ? AND unit_id = ? AND {col} BETWEEN ? AND ?
          AND list_contains(?::VARCHAR[], category)
        GROUP BY {col}
        ORDER BY {col}
        """,
        [source, unit_id, start, end, list(categories)],
    ).df()


def series_counts_many(
    cur: Cursor,
    source: str,
    unit_ids: Sequence[str],
    start: date,
    end: date,
    categories: Sequence[str],
    time: str,
) -> pd.DataFrame:
    """`series_counts` for several units in one query: [unit_id, t, n, sd]."""
    table, col = _cube(time)
    return cur.execute(
        f"""
        SELECT unit_id, {col} AS t, sum(n)::BIGINT AS n, sum(sd)::BIGINT AS sd
        FROM {table}
        WHERE source = ? AND list_contains(?::VARCHAR[], unit_id) AND {col} BETWEEN ? AND ?
          AND list_contains(?::VARCHAR[], category)
        GROUP BY unit_id, {col}
        ORDER BY unit_id, {col}
        """,
        [source, list(unit_ids), start, end, list(categories)],
    ).df()


def period_counts(
    cur: Cursor,
    source: str,
    unit_ids: Sequence[str],
    start: date,
    end: date,
    time: str,
) -> pd.DataFrame:
    """Counts over a whole period for several units, by category: [unit_id, category, n, sd]."""
    table, col = _cube(time)
    return cur.execute(
        f"""
        SELECT unit_id, category, sum(n)::BIGINT AS n, sum(sd)::BIGINT AS sd
        FROM {table}
        WHERE source = ? AND list_contains(?::VARCHAR[], unit_id) AND {col} BETWEEN ? AND ?
        GROUP BY unit_id, category
        ORDER BY unit_id, category
        """,
        [source, list(unit_ids), start, end],
    ).df()


def monthly_counts(cur: Cursor, source: str, unit_id: str, first: date, last: date) -> pd.DataFrame:
    """Every category's counts per month for one unit: [month, category, n, sd]."""
    return cur.execute(
        """
        SELECT month, category, sum(n)::BIGINT AS n, sum(sd)::BIGINT AS sd
        FROM cube_crime_month
        WHERE source = ? AND unit_id = ? AND month BETWEEN ? AND ?
        GROUP BY month, category
        ORDER BY month, category
        """,
        [source, unit_id, first, last],
    ).df()


_SERVICE_CUBES: dict[str, tuple[str, str]] = {
    "day": ("cube_service_day", "day"),
    "month": ("cube_service_month", "month"),
}


def service_rows(
    cur: Cursor,
    source: str,
    unit_ids: Sequence[str],
    measure_id: str,
    start: date,
    end: date,
    time: str,
) -> pd.DataFrame:
    """A service measure's cube rows (num, den, num2) per unit and day or month:
    [unit_id, t, num, den, num2]. den is NULL for plain counts."""
    table, col = _cube(time, _SERVICE_CUBES)
    return cur.execute(
        f"""
        SELECT unit_id, {col} AS t, sum(num) AS num, sum(den) AS den, sum(num2) AS num2
        FROM {table}
        WHERE source = ? AND measure_id = ? AND list_contains(?::VARCHAR[], unit_id)
          AND {col} BETWEEN ? AND ?
        GROUP BY unit_id, {col}
        ORDER BY unit_id, {col}
        """,
        [source, measure_id, list(unit_ids), start, end],
    ).df()


def unit_counts_by_time(
    cur: Cursor, source: str, unit_id: str, start: date, end: date, time: str
) -> pd.DataFrame:
    """Every category's counts per day or month for one unit: [t, category, n, sd]."""
    table, col = _cube(time)
    return cur.execute(
        f"""
        SELECT {col} AS t, category, sum(n)::BIGINT AS n, sum(sd)::BIGINT AS sd
        FROM {table}
        WHERE source = ? AND unit_id = ? AND {col} BETWEEN ? AND ?
        GROUP BY {col}, category
        ORDER BY {col}, category
        """,
        [source, unit_id, start, end],
    ).df()


def service_rows_many(
    cur: Cursor, source: str, unit_id: str, measure_ids: Sequence[str], start: date, end: date, time: str
) -> pd.DataFrame:
    """Several service measures for one unit per day or month: [measure_id, t, num, den, num2]."""
    table, col = _cube(time, _SERVICE_CUBES)
    return cur.execute(
        f"""
        SELECT measure_id, {col} AS t, sum(num) AS num, sum(den) AS den, sum(num2) AS num2
        FROM {table}
        WHERE source = ? AND unit_id = ? AND list_contains(?::VARCHAR[], measure_id)
          AND {col} BETWEEN ? AND ?
        GROUP BY measure_id, {col}
        ORDER BY measure_id, {col}
        """,
        [source, unit_id, list(measure_ids), start, end],
    ).df()


# -- raw facts (drill-through records and maps) -----------------------------------------


def lake_files(
    cur: Cursor,
    lake: Path,
    dataset: str,
    source: str | None,
    force_id: str,
    first_month: date | None = None,
    last_month: date | None = None,
) -> list[str]:
    """Absolute paths of the live lake files for one force (and source, and months)."""
    rows = cur.execute(
        """
        SELECT path FROM lake_manifest
        WHERE dataset = ? AND force_id = ? AND (? IS NULL OR source = ?)
          AND (? IS NULL OR month >= ?) AND (? IS NULL OR month <= ?)
        ORDER BY month, path
        """,
        [dataset, force_id, source, source, first_month, first_month, last_month, last_month],
    ).fetchall()
    return [str(lake / r[0]) for r in rows]


def _facts_sql(with_outcomes: bool, time: str) -> str:
    """The drill-through facts of one cell, shaped as the cubes count them.

    Parameters, in order: crime files, [outcome files], categories, start, end, level value.
    NPU comes from the record (force data) or from its LSOA (police.uk); a police.uk crime
    counts as detected if an outcomes file gives it a sanction outcome (as etl/cubes.py).
    """
    if time not in ("date", "month"):
        raise ValueError(f"time must be 'date' or 'month', got {time!r}")
    detected = (
        "SELECT DISTINCT force_id, crime_id FROM read_parquet(?, hive_partitioning = false) WHERE sanction"
        if with_outcomes
        else "SELECT NULL::VARCHAR AS force_id, NULL::VARCHAR AS crime_id WHERE FALSE"
    )
    return f"""
        WITH f AS (
            SELECT * FROM read_parquet(?, hive_partitioning = false, union_by_name = true)),
        d AS ({detected}),
        facts AS (
            SELECT f.date, f.month, f.crime_id, f.category, f.outcome,
                   (f.sanction OR (d.crime_id IS NOT NULL AND NOT f.is_asb
                                   AND {"TRUE" if with_outcomes else "FALSE"})) AS sanction,
                   f.detection_type, f.detection_date,
                   coalesce(f.npu_id, l.npu_id) AS npu_id, u.parent_id AS bcu_id,
                   f.team_id, f.officer_id, f.force_id,
                   f.lsoa_code, f.lsoa_name, f.location, f.longitude, f.latitude, f.line
            FROM f
            LEFT JOIN dim_lsoa l ON l.force_id = f.force_id AND l.lsoa_code = f.lsoa_code
            LEFT JOIN d ON d.force_id = f.force_id AND d.crime_id = f.crime_id
            LEFT JOIN dim_unit u ON u.unit_id = coalesce(f.npu_id, l.npu_id)
            WHERE list_contains(?::VARCHAR[], f.category) AND f.{time} BETWEEN ? AND ?)
    """


def _facts_params(
    crime_files: list[str], outcome_files: list[str], categories: Sequence[str], start: date, end: date
) -> list[object]:
    params: list[object] = [crime_files]
    if outcome_files:
        params.append(outcome_files)
    params.extend([list(categories), start, end])
    return params


def record_count(
    cur: Cursor,
    crime_files: list[str],
    outcome_files: list[str],
    level: str,
    unit_id: str,
    categories: Sequence[str],
    start: date,
    end: date,
    time: str = "date",
) -> int:
    """How many raw records fall in the cell (the drill-through's row count)."""
    if not crime_files:
        return 0
    col = _LEVEL_COLUMN[level]
    sql = _facts_sql(bool(outcome_files), time) + f"SELECT count(*) FROM facts WHERE {col} = ?"
    params = [*_facts_params(crime_files, outcome_files, categories, start, end), unit_id]
    return int(cur.execute(sql, params).fetchone()[0])


def records(
    cur: Cursor,
    crime_files: list[str],
    outcome_files: list[str],
    level: str,
    unit_id: str,
    categories: Sequence[str],
    start: date,
    end: date,
    *,
    time: str = "date",
    limit: int = 100,
    offset: int = 0,
    order_by: str = "date",
    descending: bool = False,
) -> pd.DataFrame:
    """One page of the raw records in the cell, sorted by a whitelisted column."""
    if order_by not in RECORD_COLUMNS:
        raise ValueError(f"cannot sort by {order_by!r}; choose one of {', '.join(RECORD_COLUMNS)}")
    limit, offset = int(limit), int(offset)
    if limit < 0 or offset < 0:
        raise ValueError("limit and offset must be >= 0")
    cols = ", ".join(RECORD_COLUMNS)
    if not crime_files:
        return pd.DataFrame(columns=list(RECORD_COLUMNS))
    col = _LEVEL_COLUMN[level]
    direction = "DESC" if descending else "ASC"
    sql = _facts_sql(bool(outcome_files), time) + (
        f"SELECT {cols} FROM facts WHERE {col} = ? "
        f"ORDER BY {order_by} {direction} NULLS LAST, month, line, crime_id LIMIT ? OFFSET ?"
    )
    params = [*_facts_params(crime_files, outcome_files, categories, start, end), unit_id, limit, offset]
    return cur.execute(sql, params).df()


def map_points(
    cur: Cursor,
    crime_files: list[str],
    outcome_files: list[str],
    level: str,
    unit_id: str,
    categories: Sequence[str],
    start: date,
    end: date,
    *,
    time: str = "date",
    limit: int = 20000,
    sample: bool = True,
) -> pd.DataFrame:
    """Coordinates of the cell's records: [longitude, latitude, category, sanction, date,
    month]. With `sample`, a repeatable pseudo-random `limit` of them (ordered by a hash);
    without, the first `limit` (the caller knows they all fit)."""
    if not crime_files:
        return pd.DataFrame(columns=["longitude", "latitude", "category", "sanction", "date", "month"])
    col = _LEVEL_COLUMN[level]
    sql = _facts_sql(bool(outcome_files), time) + (
        f"SELECT longitude, latitude, category, sanction, date, month FROM facts "
        f"WHERE {col} = ? AND longitude IS NOT NULL AND latitude IS NOT NULL "
        + ("ORDER BY hash(coalesce(crime_id, '') || line::VARCHAR || month::VARCHAR) " if sample else "")
        + "LIMIT ?"
    )
    params = [*_facts_params(crime_files, outcome_files, categories, start, end), unit_id, int(limit)]
    return cur.execute(sql, params).df()


def lake_summary(cur: Cursor) -> pd.DataFrame:
    """Fact files in the lake by dataset, source and force: where the numbers come from."""
    return cur.execute(
        """
        SELECT dataset, source, force_id, count(*) AS files, sum(rows) AS rows,
               min(month) AS first_month, max(month) AS last_month,
               max(loaded_at) AS last_loaded, sum(duplicates) AS duplicates
        FROM lake_manifest
        GROUP BY dataset, source, force_id
        ORDER BY dataset, source, force_id
        """
    ).df()
