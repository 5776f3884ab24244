"""The columns the scorecard and the drill-down add from this module family: SPC status, MSF
(or peer group) position, and the target's outlook, per measure or per unit.

One call per table, not per cell: the SPC status and the target outlook come from the unit's
own early-warning panel (one small read: the unit and its force), the MSF positions from one
read of the group's months (compare.prefetch), the targets from the resolved targets file.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date
from typing import TYPE_CHECKING

import pandas as pd

from dashboard.analysis import exception_scan as ew
from dashboard.analysis import peer_comparison as compare
from dashboard.analysis import targets as tg
from dashboard.analysis.metrics import headline_ids
from dashboard.periods import last_complete_month, month_start

if TYPE_CHECKING:
    from dashboard.data.facade import DataAccess

SCORECARD_EXTRA = [
    "measure_id", "spc_verdict", "spc_text", "spc_signals", "msf_position", "msf_rank", "msf_of", "msf_text",
    "msf_label", "target_status", "target_text", "projection", "projection_lower", "projection_upper",
    "probability",
]
SPC_ICON = {   # words first; the symbol is a reminder, never the only carrier of meaning
    "special_cause_concern": "▲ concern",
    "special_cause_improvement": "★ improvement",
    "special_cause_neutral": "● special cause",
    "common_cause": "common cause",
}


def scorecard_extra(data: DataAccess, unit_id: str, start: date, end: date,
                    sensitivity: str = ew.DEFAULT_SENSITIVITY, measure_ids: Sequence[str] | None = None
                    ) -> pd.DataFrame:
    """One row per measure (headline by default): SPC status at the period's last whole month,
    position in the unit's MSF or peer group over the period, and the target's outlook."""
    ids = list(measure_ids) if measure_ids is not None else list(headline_ids())
    end_month = month_start(last_complete_month(end))

    def compute() -> pd.DataFrame:
        unit = data.unit(unit_id)
        if unit is None:
            raise KeyError(f"unknown unit {unit_id!r}")
        spc = ew.spc_status(data, unit_id, end_month, sensitivity).set_index("measure_id")
        compare.prefetch(data, unit_id, ids, start, end)
        try:
            tg.warehouse_targets(data)
            outlooks = ew.unit_target_outlooks(data, unit_id, end_month)
        except Exception as exc:   # a refused targets file: say so in the column, keep the rest
            outlooks = {}
            target_error = str(exc)
        else:
            target_error = ""
        rows = []
        for mid in ids:
            s = spc.loc[mid] if mid in spc.index else None
            pos = compare.msf_position(data, unit_id, mid, start, end)
            o = outlooks.get(mid)
            rows.append(
                {
                    "measure_id": mid,
                    "spc_verdict": s["verdict"] if s is not None else "",
                    "spc_text": SPC_ICON.get(s["verdict"], s["status_text"]) if s is not None else "",
                    "spc_signals": s["signals_text"] if s is not None else "",
                    "msf_position": pos["position"],
                    "msf_rank": pos["rank"],
                    "msf_of": pos["of"],
                    "msf_text": pos["text"],
                    "msf_label": pos["label"],
                    "target_status": o.status if o else "",
                    "target_text": o.text
                    if o
                    else (f"targets file refused: {target_error}" if target_error else ""),
                    "projection": o.projection if o else math.nan,
                    "projection_lower": o.lower if o else math.nan,
                    "projection_upper": o.upper if o else math.nan,
                    "probability": o.probability if o else math.nan,
                }
            )
        return pd.DataFrame(rows, columns=SCORECARD_EXTRA)

    return data.cached("pim_status.scorecard", (unit_id, start, end, sensitivity, tuple(ids)), compute)


CHILD_EXTRA = ["unit_id", "spc_verdict", "spc_text", "peer_position", "peer_text"]


def children_extra(data: DataAccess, unit_ids: Sequence[str], measure_id: str, start: date, end: date,
                   sensitivity: str = ew.DEFAULT_SENSITIVITY) -> pd.DataFrame:
    """For the drill-down's table of children: each child's SPC status for the measure and its
    position among its own peers (BCUs among BCUs, an NPU in its cluster)."""
    end_month = month_start(last_complete_month(end))
    sens = ew.sensitivity(sensitivity)
    rows = []
    for uid in unit_ids:
        chart = ew.chart_for(data, uid, measure_id, end_month, sens)
        pos = compare.msf_position(data, uid, measure_id, start, end)
        rows.append({"unit_id": uid, "spc_verdict": chart.verdict if chart else "",
                     "spc_text": SPC_ICON.get(chart.verdict, "") if chart else "no chart",
                     "peer_position": pos["position"], "peer_text": pos["text"]})
    return pd.DataFrame(rows, columns=CHILD_EXTRA)
