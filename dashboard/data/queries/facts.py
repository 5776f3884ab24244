"""Reads of the Parquet lake (raw facts): the drill-through records and the NPU map.

The lake is read only here, and always with a LIMIT (or a count). Which files to read comes
from lake_manifest. Which columns a caller gets is chosen by the data layer's access seam
(`dashboard.data.access.visible_columns`) from `FACT_COLUMNS`, and checked here against it:
a column the seam hides (the officer in charge) is never selected at all.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from pathlib import Path

import pandas as pd

from dashboard.data.queries import Cursor, pick
from etl import hierarchy

# Every drill-through column, in display order; also the whitelist for selecting and sorting.
FACT_COLUMNS: tuple[str, ...] = (
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
    "officer_id",
    "lsoa_code",
    "lsoa_name",
    "location",
    "longitude",
    "latitude",
    "line",
)
# unit level -> the column of the facts CTE of _facts_sql that holds the unit's id.
LEVEL_COLUMN: dict[str, str] = hierarchy.UNIT_COLUMN
MAP_COLUMNS: tuple[str, ...] = ("longitude", "latitude", "category", "sanction", "date", "month")


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
    counts as detected if an outcomes file gives it a sanction outcome (as etl/cubes/crime.py).
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
    col = pick("level", level, LEVEL_COLUMN)
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
    columns: Sequence[str],
    time: str = "date",
    limit: int = 100,
    offset: int = 0,
    order_by: str = "date",
    descending: bool = False,
) -> pd.DataFrame:
    """One page of the raw records in the cell: `columns` (each one of FACT_COLUMNS, as the
    access seam chose them), sorted by one of those columns."""
    bad = [c for c in columns if c not in FACT_COLUMNS]
    if bad or not columns:
        raise ValueError(f"cannot select {bad or 'no columns'}; choose from {', '.join(FACT_COLUMNS)}")
    if order_by not in columns:
        raise ValueError(f"cannot sort by {order_by!r}; choose one of {', '.join(columns)}")
    limit, offset = int(limit), int(offset)
    if limit < 0 or offset < 0:
        raise ValueError("limit and offset must be >= 0")
    cols = ", ".join(columns)
    if not crime_files:
        return pd.DataFrame(columns=list(columns))
    col = pick("level", level, LEVEL_COLUMN)
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
        return pd.DataFrame(columns=list(MAP_COLUMNS))
    col = pick("level", level, LEVEL_COLUMN)
    sql = _facts_sql(bool(outcome_files), time) + (
        f"SELECT longitude, latitude, category, sanction, date, month FROM facts "
        f"WHERE {col} = ? AND longitude IS NOT NULL AND latitude IS NOT NULL "
        + ("ORDER BY hash(coalesce(crime_id, '') || line::VARCHAR || month::VARCHAR) " if sample else "")
        + "LIMIT ?"
    )
    params = [*_facts_params(crime_files, outcome_files, categories, start, end), unit_id, int(limit)]
    return cur.execute(sql, params).df()
