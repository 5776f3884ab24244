"""What is loaded: meta, load_log, month_status, quarantine and lake_manifest.

Read for the Data page, for which months each source covers, and for suspect months.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from dashboard.data.queries import Cursor


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


def suspect_counts(cur: Cursor) -> list[tuple[str, str, int]]:
    """How many suspect months each (source, force) has: [(source, force_id, n)]."""
    rows = cur.execute(
        "SELECT source, force_id, count(*) FILTER (WHERE suspect) FROM month_status GROUP BY ALL"
    ).fetchall()
    return [(str(s), str(f), int(n)) for s, f, n in rows]


def month_status(cur: Cursor, source: str, force_id: str) -> pd.DataFrame:
    """The months one source has for one force, with their suspect flags."""
    return cur.execute(
        """
        SELECT month, crimes, asb, suspect, reason, unassigned
        FROM month_status WHERE source = ? AND force_id = ?
        ORDER BY month
        """,
        [source, force_id],
    ).df()


def suspect_months_of(cur: Cursor, force_ids: Sequence[str]) -> pd.DataFrame:
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


def lake_summary(cur: Cursor) -> pd.DataFrame:
    """Fact files in the lake by dataset, source and force: where the numbers come from.
    `files` counts the distinct files holding the force's rows: a force-level dataset's month
    file holds every force of its load, so it is counted once for each force it holds."""
    return cur.execute(
        """
        SELECT dataset, source, force_id, count(DISTINCT path) AS files, sum(rows) AS rows,
               min(month) AS first_month, max(month) AS last_month,
               max(loaded_at) AS last_loaded, sum(duplicates) AS duplicates
        FROM lake_manifest
        GROUP BY dataset, source, force_id
        ORDER BY dataset, source, force_id
        """
    ).df()
