"""Reads of the call-handling facts (the `calls` lake dataset): demand by hour of day and
day of week, for the Calls page's heat map.

Counted exactly as the call measures are cubed: every call received in the period, at the
force; at a BCU or NPU, the calls that came from it (a call whose NPU is not known counts only
at the force). Values travel as bound parameters; the unit's column is
chosen from a whitelist.
"""

from __future__ import annotations

from datetime import date

import pandas as pd

from dashboard.data.queries import Cursor, pick

DEMAND_COLUMNS = ("weekday", "hour", "channel", "calls")   # weekday 1 = Monday ... 7 = Sunday
# unit level -> the expression holding the unit's id, in the statement below
_LEVEL_COLUMN: dict[str, str] = {"force": "f.force_id", "bcu": "n.parent_id", "npu": "f.npu_id"}


def demand_by_hour(cur: Cursor, files: list[str], level: str, unit_id: str, start: date, end: date
                   ) -> pd.DataFrame:
    """Calls received per (ISO weekday, hour of day, channel) in [start, end] (dates, inclusive)."""
    if not files:
        return pd.DataFrame(columns=list(DEMAND_COLUMNS))
    col = pick("level", level, _LEVEL_COLUMN)
    sql = f"""
        SELECT isodow(f.received) AS weekday, hour(f.received) AS hour,
               CAST(f.channel AS VARCHAR) AS channel, count(*) AS calls
        FROM read_parquet(?, hive_partitioning = false, union_by_name = true) f
        LEFT JOIN dim_unit n ON n.unit_id = f.npu_id
        WHERE CAST(f.received AS DATE) BETWEEN ? AND ? AND {col} = ?
        GROUP BY 1, 2, 3
        ORDER BY 1, 2, 3
    """
    return cur.execute(sql, [files, start, end, unit_id]).df()
