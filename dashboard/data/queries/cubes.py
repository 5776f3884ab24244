"""Reads of the cubes: cube_crime_month/day (counts by unit, time and category) and
cube_service_month/day (numerator, denominator and num2 by unit, time and measure).

Every chart and table is drawn from these, so each is a small indexed read that returns
aggregated rows (a unit x month x category slice at most), never facts. The time grain picks
the table from a whitelist; unit levels are checked against the hierarchy and bound as values.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import pandas as pd

from dashboard.data.queries import Cursor, level_list, pick

# time grain of a cube read -> (table, time column). The only identifiers a caller chooses.
CRIME_CUBES: dict[str, tuple[str, str]] = {
    "day": ("cube_crime_day", "day"),
    "month": ("cube_crime_month", "month"),
}
SERVICE_CUBES: dict[str, tuple[str, str]] = {
    "day": ("cube_service_day", "day"),
    "month": ("cube_service_month", "month"),
}


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
    table, col = pick("time", time, CRIME_CUBES)
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
    table, col = pick("time", time, CRIME_CUBES)
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
    table, col = pick("time", time, CRIME_CUBES)
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


def unit_counts_by_time(
    cur: Cursor, source: str, unit_id: str, start: date, end: date, time: str
) -> pd.DataFrame:
    """Every category's counts per day or month for one unit: [t, category, n, sd]."""
    table, col = pick("time", time, CRIME_CUBES)
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
    table, col = pick("time", time, SERVICE_CUBES)
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


def service_rows_many(
    cur: Cursor, source: str, unit_id: str, measure_ids: Sequence[str], start: date, end: date, time: str
) -> pd.DataFrame:
    """Several service measures for one unit per day or month: [measure_id, t, num, den, num2]."""
    table, col = pick("time", time, SERVICE_CUBES)
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


def force_cube(
    cur: Cursor, source: str, force_id: str, levels: Sequence[str], first: date, last: date
) -> pd.DataFrame:
    """Every unit of one force at the given levels, every month and category, in ONE read:
    [unit_id, month, category, n, sd]. What the early-warning scan starts from."""
    return cur.execute(
        """
        SELECT unit_id, month, category, sum(n)::BIGINT AS n, sum(sd)::BIGINT AS sd
        FROM cube_crime_month
        WHERE source = ? AND force_id = ? AND list_contains(?::VARCHAR[], level)
          AND month BETWEEN ? AND ?
        GROUP BY unit_id, month, category
        ORDER BY unit_id, month, category
        """,
        [source, force_id, level_list(levels), first, last],
    ).df()


def unit_month_counts(
    cur: Cursor,
    sources: Sequence[str],
    unit_ids: Sequence[str],
    categories: Sequence[str],
    first: date,
    last: date,
) -> pd.DataFrame:
    """Crimes of the given categories per unit, source and month: [source, unit_id, month, n, sd].

    Units may come from different forces with different sources (an MSF group); the caller
    keeps the (source, unit) pairs it wants. Months with no crimes have no row.
    """
    return cur.execute(
        """
        SELECT source, unit_id, month, sum(n)::BIGINT AS n, sum(sd)::BIGINT AS sd
        FROM cube_crime_month
        WHERE list_contains(?::VARCHAR[], source) AND list_contains(?::VARCHAR[], unit_id)
          AND list_contains(?::VARCHAR[], category) AND month BETWEEN ? AND ?
        GROUP BY source, unit_id, month
        ORDER BY source, unit_id, month
        """,
        [list(sources), list(unit_ids), list(categories), first, last],
    ).df()


def unit_category_months(
    cur: Cursor, sources: Sequence[str], unit_ids: Sequence[str], first: date, last: date
) -> pd.DataFrame:
    """Every category's crimes per unit, source and month: [source, unit_id, month, category, n, sd]
    (one read for several measures of a group)."""
    return cur.execute(
        """
        SELECT source, unit_id, month, category, sum(n)::BIGINT AS n, sum(sd)::BIGINT AS sd
        FROM cube_crime_month
        WHERE list_contains(?::VARCHAR[], source) AND list_contains(?::VARCHAR[], unit_id)
          AND month BETWEEN ? AND ?
        GROUP BY source, unit_id, month, category
        ORDER BY source, unit_id, month, category
        """,
        [list(sources), list(unit_ids), first, last],
    ).df()


def unit_category_totals(
    cur: Cursor, source: str, unit_ids: Sequence[str], first: date, last: date
) -> pd.DataFrame:
    """Crimes per unit and category over a span of months: [unit_id, category, n]."""
    return cur.execute(
        """
        SELECT unit_id, category, sum(n)::BIGINT AS n
        FROM cube_crime_month
        WHERE source = ? AND list_contains(?::VARCHAR[], unit_id) AND month BETWEEN ? AND ?
        GROUP BY unit_id, category
        ORDER BY unit_id, category
        """,
        [source, list(unit_ids), first, last],
    ).df()


def service_month_rows(
    cur: Cursor,
    sources: Sequence[str],
    unit_ids: Sequence[str],
    measure_ids: Sequence[str],
    first: date,
    last: date,
) -> pd.DataFrame:
    """Service measures per unit, source and month: [source, unit_id, month, measure_id, num, den,
    num2], from any service dataset (a force's own, or the comparators of other forces)."""
    return cur.execute(
        """
        SELECT source, unit_id, month, measure_id, sum(num) AS num, sum(den) AS den, sum(num2) AS num2
        FROM cube_service_month
        WHERE list_contains(?::VARCHAR[], source) AND list_contains(?::VARCHAR[], unit_id)
          AND list_contains(?::VARCHAR[], measure_id) AND month BETWEEN ? AND ?
        GROUP BY source, unit_id, month, measure_id
        ORDER BY source, unit_id, month, measure_id
        """,
        [list(sources), list(unit_ids), list(measure_ids), first, last],
    ).df()


def force_service_cube(
    cur: Cursor, force_id: str, levels: Sequence[str], measure_ids: Sequence[str], first: date, last: date
) -> pd.DataFrame:
    """Every unit of one force at the given levels, every month, for the given service measures,
    in one read: [source, dataset, unit_id, month, measure_id, num, den, num2]."""
    return cur.execute(
        """
        SELECT source, dataset, unit_id, month, measure_id,
               sum(num) AS num, sum(den) AS den, sum(num2) AS num2
        FROM cube_service_month
        WHERE force_id = ? AND list_contains(?::VARCHAR[], level)
          AND list_contains(?::VARCHAR[], measure_id) AND month BETWEEN ? AND ?
        GROUP BY ALL
        ORDER BY unit_id, measure_id, month
        """,
        [force_id, level_list(levels), list(measure_ids), first, last],
    ).df()
