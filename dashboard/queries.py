"""Every SQL statement the dashboard runs, in one place.

Pages call these with a per-request cursor from `WarehouseReader.cursor()` and get pandas
DataFrames back; they never build SQL. Values always travel as bound parameters (`?`),
never formatted into the statement, so nothing a user types or a data file contains can
change a query.

For now only the Data page's queries live here; the PIM pages add theirs as they arrive.
"""

from __future__ import annotations

import duckdb
import pandas as pd

Cursor = duckdb.DuckDBPyConnection


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
