"""The columns the drill-down's table of children adds: each child's SPC status and its
position among its own peers. (The scorecard's columns are the unit's assessments:
dashboard/analysis/assessment.py.)
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import TYPE_CHECKING, Any

import pandas as pd

from dashboard.analysis import assessment
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
    data.check_scorecard(unit_ids, start, end)
    # a preset period: each child's stored assessment of the measure holds the same chart's
    # verdict and the same position (assessment._add_spc, _add_peer); a measure loaded for it
    # is read from there, the rest charted and placed below
    found = {uid: {"unit_id": uid,
                   "spc_verdict": row["spc_verdict"] or "",
                   "spc_text": SPC_ICON.get(row["spc_verdict"], "") if row["spc_verdict"] else "no chart",
                   "peer_position": row["peer_position"], "peer_text": row["peer_text"]}
             for uid, row in assessment.stored_rows(data, unit_ids, start, end, measure_id,
                                                    sensitivity).items()
             if row["verdict"] != "not loaded"}
    rest = [uid for uid in unit_ids if uid not in found]
    if rest:
        found.update(_charted(data, rest, measure_id, start, end, sensitivity))
    return pd.DataFrame([found[uid] for uid in unit_ids], columns=CHILD_EXTRA)


def _charted(data: DataAccess, unit_ids: list[str], measure_id: str, start: date, end: date,
             sensitivity: str) -> dict[str, dict[str, Any]]:
    end_month = month_start(last_complete_month(end))
    sens = ew.sensitivity(sensitivity)
    # the children's panels in one read, their groups' months in one per family, and every
    # child's position in one vectorised funnel call: not a query and four scipy calls each
    ew.prefetch_unit_panels(data, unit_ids, end_month)
    compare.prefetch_many(data, unit_ids, [measure_id], start, end)
    positions = compare.msf_positions(data, [(uid, measure_id) for uid in unit_ids], start, end)
    rows = {}
    for uid, pos in zip(unit_ids, positions, strict=True):
        chart = ew.chart_for(data, uid, measure_id, end_month, sens)
        rows[uid] = {"unit_id": uid, "spc_verdict": chart.verdict if chart else "",
                     "spc_text": SPC_ICON.get(chart.verdict, "") if chart else "no chart",
                     "peer_position": pos["position"], "peer_text": pos["text"]}
    return rows
