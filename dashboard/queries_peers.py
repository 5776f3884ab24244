"""The SQL of peer comparison, early warning and targets (see dashboard/queries.py for the rules).

Values travel as bound parameters only. The one identifier a caller influences, the unit level,
is checked against `LEVELS` and then bound as a value too. Every function returns aggregated
rows (a unit x month x category cube slice at most), never facts.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import pandas as pd

from dashboard.queries import Cursor

LEVELS: tuple[str, ...] = ("force", "bcu", "npu", "team", "officer")


def _levels(levels: Sequence[str]) -> list[str]:
    bad = [lv for lv in levels if lv not in LEVELS]
    if bad:
        raise ValueError(f"unknown unit level(s) {bad}; known: {', '.join(LEVELS)}")
    return list(levels)


def force_cube(cur: Cursor, source: str, force_id: str, levels: Sequence[str], first: date,
               last: date) -> pd.DataFrame:
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
        [source, force_id, _levels(levels), first, last],
    ).df()


def unit_month_counts(cur: Cursor, sources: Sequence[str], unit_ids: Sequence[str],
                      categories: Sequence[str], first: date, last: date) -> pd.DataFrame:
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


def unit_category_months(cur: Cursor, sources: Sequence[str], unit_ids: Sequence[str], first: date,
                         last: date) -> pd.DataFrame:
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


def unit_category_totals(cur: Cursor, source: str, unit_ids: Sequence[str], first: date,
                         last: date) -> pd.DataFrame:
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


def service_month_rows(cur: Cursor, sources: Sequence[str], unit_ids: Sequence[str],
                       measure_ids: Sequence[str], first: date, last: date) -> pd.DataFrame:
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


def force_service_cube(cur: Cursor, force_id: str, levels: Sequence[str], measure_ids: Sequence[str],
                       first: date, last: date) -> pd.DataFrame:
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
        [force_id, _levels(levels), list(measure_ids), first, last],
    ).df()


def suspect_months(cur: Cursor, force_ids: Sequence[str]) -> pd.DataFrame:
    """Suspect months of the given forces, every source: [source, force_id, month, reason]."""
    return cur.execute(
        """
        SELECT source, force_id, month, reason
        FROM month_status
        WHERE suspect AND list_contains(?::VARCHAR[], force_id)
        ORDER BY source, force_id, month
        """,
        [list(force_ids)],
    ).df()
