"""The columns the drill-down's table of children adds: each child's SPC status and its
position among its own peers. (The scorecard's columns are the unit's assessments:
dashboard/analysis/assessment.py.)
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import TYPE_CHECKING

import pandas as pd

from dashboard.analysis import exception_scan as ew
from dashboard.analysis import peer_comparison as compare
from dashboard.analysis.assessment import SPC_ICON
from dashboard.periods import last_complete_month, month_start

if TYPE_CHECKING:
    from dashboard.data.facade import DataAccess

CHILD_EXTRA = ["unit_id", "spc_verdict", "spc_text", "peer_position", "peer_text"]


def children_extra(data: DataAccess, unit_ids: Sequence[str], measure_id: str, start: date, end: date,
                   sensitivity: str = ew.DEFAULT_SENSITIVITY) -> pd.DataFrame:
    """For the drill-down's table of children: each child's SPC status for the measure and its
    position among its own peers (BCUs among BCUs, an NPU in its cluster)."""
    end_month = month_start(last_complete_month(end))
    sens = ew.sensitivity(sensitivity)
    # the children's panels in one read, their groups' months in one per family, and every
    # child's position in one vectorised funnel call: not a query and four scipy calls each
    ew.prefetch_unit_panels(data, unit_ids, end_month)
    compare.prefetch_many(data, unit_ids, [measure_id], start, end)
    positions = compare.msf_positions(data, [(uid, measure_id) for uid in unit_ids], start, end)
    rows = []
    for uid, pos in zip(unit_ids, positions, strict=True):
        chart = ew.chart_for(data, uid, measure_id, end_month, sens)
        rows.append({"unit_id": uid, "spc_verdict": chart.verdict if chart else "",
                     "spc_text": SPC_ICON.get(chart.verdict, "") if chart else "no chart",
                     "peer_position": pos["position"], "peer_text": pos["text"]})
    return pd.DataFrame(rows, columns=CHILD_EXTRA)
