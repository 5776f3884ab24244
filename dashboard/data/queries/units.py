"""Reads of dim_unit: the organisation, force to officer."""

from __future__ import annotations

import pandas as pd

from dashboard.data.queries import Cursor
from etl import hierarchy


def units(cur: Cursor) -> pd.DataFrame:
    """Every unit of the organisation (dim_unit), parents before children (levels in the
    hierarchy's order, bound as a list)."""
    return cur.execute(
        """
        SELECT unit_id, level, parent_id, force_id, name, population, households, area_km2,
               synthetic, note
        FROM dim_unit
        ORDER BY force_id, coalesce(list_position(?::VARCHAR[], level), 99), name, unit_id
        """,
        [list(hierarchy.LEVEL_IDS)],
    ).df()


def lsoa_npus(cur: Cursor, force_id: str) -> pd.DataFrame:
    """A force's LSOA -> NPU mapping (dim_lsoa: its own file or the default hierarchy):
    [lsoa_code, npu_id], LSOAs no NPU takes left out."""
    return cur.execute(
        "SELECT lsoa_code, npu_id FROM dim_lsoa WHERE force_id = ? AND npu_id IS NOT NULL "
        "ORDER BY lsoa_code",
        [force_id],
    ).df()
