"""Reads of the cubes.

- cube_measure_month / cube_measure_day: EVERY measure (crime measures too) as num, den, num2
  by unit, time and measure, valued by the measure's kind (etl/measures/kinds.py). Every
  chart, table, scorecard, comparison, exceptions scan and target reads measures from here,
  the same way for every measure.
- cube_crime_month / cube_crime_day: crimes by unit, time and category, for what is about
  categories themselves: the drill-through's row count, the NPU clusters' crime mix.

Each read is small and indexed and returns aggregated rows (a unit x month x measure slice at
most), never facts. The time grain picks the table from a whitelist; unit levels are checked
against the hierarchy and bound as values.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

import pandas as pd

from dashboard.data.queries import Cursor, level_list, pick

# time grain of a cube read -> (table, time column). The only identifiers a caller chooses.
CRIME_CUBES: dict[str, tuple[str, str]] = {
    "day": ("cube_crime_day", "day"),
    "month": ("cube_crime_month", "month"),
}
# measure_months matches more units than this with a semi-join (IN), fewer with list_contains:
# measured on the national cube, list_contains costs ~0.5 ms a unit and the semi-join ~3 ms + ~0.2
LONG_LIST = 12
MEASURE_CUBES: dict[str, tuple[str, str]] = {
    "day": ("cube_measure_day", "day"),
    "month": ("cube_measure_month", "month"),
}


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


def day_spans(cur: Cursor) -> pd.DataFrame:
    """First and last day of the day cube per family (the measures' dataset), source and force:
    [family, source, force_id, first_day, last_day]. Only sources with day-level dates appear."""
    return cur.execute(
        """
        SELECT dataset AS family, source, force_id, min(day) AS first_day, max(day) AS last_day
        FROM cube_measure_day WHERE level = 'force'
        GROUP BY ALL
        ORDER BY family, source, force_id
        """
    ).df()


def measure_rows(
    cur: Cursor,
    source: str,
    unit_ids: Sequence[str],
    measure_id: str,
    start: date,
    end: date,
    time: str,
) -> pd.DataFrame:
    """One measure's cube rows per unit and day or month: [unit_id, t, num, den, num2, den2]. den is
    NULL where the kind has none. A unit-time without a row had nothing to count."""
    return _measure_rows(cur, source, unit_ids, measure_id, start, end, time).df()


def measure_tuples(
    cur: Cursor,
    source: str,
    unit_ids: Sequence[str],
    measure_id: str,
    start: date,
    end: date,
    time: str,
) -> list[tuple[Any, ...]]:
    """`measure_rows` as plain tuples (unit_id, t, num, den, num2, den2), NULL as None: for
    callers that read the rows one by one (DataAccess's series and values), where building a
    DataFrame only to iterate it cost about as much as the query (a day-cube read: ~10 ms with
    the frame, ~7 ms without)."""
    return _measure_rows(cur, source, unit_ids, measure_id, start, end, time).fetchall()


def _measure_rows(
    cur: Cursor, source: str, unit_ids: Sequence[str], measure_id: str, start: date, end: date, time: str
) -> Cursor:
    table, col = pick("time", time, MEASURE_CUBES)
    return cur.execute(
        f"""
        SELECT unit_id, {col} AS t, sum(num) AS num, sum(den) AS den, sum(num2) AS num2, sum(den2) AS den2
        FROM {table}
        WHERE source = ? AND measure_id = ? AND list_contains(?::VARCHAR[], unit_id)
          AND {col} BETWEEN ? AND ?
        GROUP BY unit_id, {col}
        ORDER BY unit_id, {col}
        """,
        [source, measure_id, list(unit_ids), start, end],
    )


def measure_tuples_split(
    cur: Cursor,
    source: str,
    unit_ids: Sequence[str],
    measure_id: str,
    head: tuple[date, date] | None,
    months: tuple[date, date],
    tail: tuple[date, date] | None,
) -> list[tuple[Any, ...]]:
    """A range's rows for a total over it, in one read: its whole months (`months`: the first
    day of the first and of the last) from the month cube, one row per unit and month with t
    the month's first day, and only its edge days (`head`, `tail`: first and last day, or None)
    from the day cube. A month row is the sum of its days, so a flow's total over these rows is
    its total over the range's days (DataAccess._values decides when that holds); a custom
    range of ten months reads ~40 day rows a unit instead of ~300. Each part is a range of its
    own cube's ordering column, so each prunes by the cube's zone maps as a plain read does.
    (unit_id, t, num, den, num2, den2), NULL as None."""
    day_part = """
        SELECT unit_id, day AS t, sum(num) AS num, sum(den) AS den, sum(num2) AS num2, sum(den2) AS den2
        FROM cube_measure_day
        WHERE source = ? AND measure_id = ? AND list_contains(?::VARCHAR[], unit_id)
          AND day BETWEEN ? AND ?
        GROUP BY unit_id, day"""
    month_part = """
        SELECT unit_id, month AS t, sum(num) AS num, sum(den) AS den, sum(num2) AS num2, sum(den2) AS den2
        FROM cube_measure_month
        WHERE source = ? AND measure_id = ? AND list_contains(?::VARCHAR[], unit_id)
          AND month BETWEEN ? AND ?
        GROUP BY unit_id, month"""
    parts, params = [month_part], [source, measure_id, list(unit_ids), *months]
    for edge in (head, tail):
        if edge is not None:
            parts.append(day_part)
            params += [source, measure_id, list(unit_ids), *edge]
    sql = " UNION ALL ".join(parts) + " ORDER BY unit_id, t"
    return cur.execute(sql, params).fetchall()


def measure_rows_units(
    cur: Cursor, source: str, unit_ids: Sequence[str], measure_ids: Sequence[str], start: date, end: date,
    time: str
) -> pd.DataFrame:
    """Several measures of one source for several units per day or month: [unit_id,
    measure_id, t, num, den, num2, den2], ordered by unit, measure and time (the scorecards of a
    force's units in one read per source)."""
    table, col = pick("time", time, MEASURE_CUBES)
    return cur.execute(
        f"""
        SELECT unit_id, measure_id, {col} AS t, sum(num) AS num, sum(den) AS den, sum(num2) AS num2,
               sum(den2) AS den2
        FROM {table}
        WHERE source = ? AND list_contains(?::VARCHAR[], unit_id)
          AND list_contains(?::VARCHAR[], measure_id)
          AND {col} BETWEEN ? AND ?
        GROUP BY unit_id, measure_id, {col}
        ORDER BY unit_id, measure_id, {col}
        """,
        [source, list(unit_ids), list(measure_ids), start, end],
    ).df()


def measure_months(
    cur: Cursor,
    sources: Sequence[str],
    unit_ids: Sequence[str],
    measure_ids: Sequence[str],
    first: date,
    last: date,
) -> pd.DataFrame:
    """Measures per source, unit and month: [source, unit_id, month, measure_id, num, den, num2].
    Units may come from different forces with different sources (an MSF group, or the
    comparators of other forces); the caller keeps the (source, unit) pairs it wants.

    A long list of units (every force) is matched with `IN (SELECT unnest(?))`: the same rows
    (one cube row per group) by a hash semi-join, where `list_contains` scans the list for every
    row the month range keeps, i.e. every force's (43 forces x 12 months from the national cube:
    ~21 -> ~12 ms of CPU). For a short list (an MSF group of ~8) `list_contains` is faster
    (~6 against ~9 ms), so it stays below `LONG_LIST` units."""
    units = ("unit_id IN (SELECT unnest(?::VARCHAR[]))" if len(unit_ids) > LONG_LIST
             else "list_contains(?::VARCHAR[], unit_id)")
    return cur.execute(
        f"""
        SELECT source, unit_id, month, measure_id, sum(num) AS num, sum(den) AS den,
               sum(num2) AS num2, sum(den2) AS den2
        FROM cube_measure_month
        WHERE list_contains(?::VARCHAR[], source) AND {units}
          AND list_contains(?::VARCHAR[], measure_id) AND month BETWEEN ? AND ?
        GROUP BY source, unit_id, month, measure_id
        ORDER BY source, unit_id, month, measure_id
        """,
        [list(sources), list(unit_ids), list(measure_ids), first, last],
    ).df()


def force_measure_cube(
    cur: Cursor, force_id: str, levels: Sequence[str], measure_ids: Sequence[str], first: date, last: date
) -> pd.DataFrame:
    """Every unit of one force at the given levels, every month, for the given measures, in ONE
    read: [source, dataset, unit_id, month, measure_id, num, den, num2]. What the exceptions
    scan and targets start from."""
    return cur.execute(
        """
        SELECT source, dataset, unit_id, month, measure_id,
               sum(num) AS num, sum(den) AS den, sum(num2) AS num2, sum(den2) AS den2
        FROM cube_measure_month
        WHERE force_id = ? AND list_contains(?::VARCHAR[], level)
          AND list_contains(?::VARCHAR[], measure_id) AND month BETWEEN ? AND ?
        GROUP BY ALL
        ORDER BY unit_id, measure_id, month
        """,
        [force_id, level_list(levels), list(measure_ids), first, last],
    ).df()


def harm_by_category(cur: Cursor, source: str, unit_id: str, first: date, last: date) -> pd.DataFrame:
    """Crime harm per category over a span of months for one unit: [category, n, harm, harm2,
    harm_approx] (harm_approx: crimes weighted by their category's approximate weight), with
    the weights the version holds: [weight, min_weight, max_weight, codes] of the category."""
    return cur.execute(
        """
        SELECT c.category, sum(c.n)::BIGINT AS n, sum(c.harm) AS harm, sum(c.harm2) AS harm2,
               sum(c.harm_approx)::BIGINT AS harm_approx,
               TRY_CAST(any_value(w.weight) AS DOUBLE) AS weight,
               TRY_CAST(any_value(w.min_weight) AS DOUBLE) AS min_weight,
               TRY_CAST(any_value(w.max_weight) AS DOUBLE) AS max_weight,
               TRY_CAST(any_value(w.codes) AS BIGINT) AS codes
        FROM cube_crime_month c
        LEFT JOIN ref_crime_severity_category w ON w.category = c.category
        WHERE c.source = ? AND c.unit_id = ? AND c.month BETWEEN ? AND ?
              AND c.category <> 'anti-social-behaviour'
        GROUP BY c.category
        ORDER BY c.category
        """,
        [source, unit_id, first, last],
    ).df()
