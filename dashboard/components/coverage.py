"""How many records a force's figures hold that no BCU or NPU does: a blank LSOA, an LSOA
outside the force's local authorities, or one no mapping places (month_status.unassigned).

They count for the force, so its BCUs and NPUs add up to less than it; the drill-down says by
how much, for the period shown, so nobody reads the gap as an error.
"""

from __future__ import annotations

from typing import Any

import dash_bootstrap_components as dbc
import pandas as pd

from dashboard.data.facade import DataAccess
from dashboard.data.model import View


def unassigned(data: DataAccess, view: View) -> tuple[int, int]:
    """(records not assigned to an NPU, all records incl. ASB) of the view's force and period."""
    if view.source is None:
        return (0, 0)
    frame = data.month_status(view.source.source, view.unit.force_id)
    if frame.empty or "unassigned" not in frame:
        return (0, 0)
    months = pd.to_datetime(frame["month"]).dt.date
    inside = frame[(months >= view.period.start) & (months <= view.period.end)]
    return (int(inside["unassigned"].fillna(0).sum()),
            int(inside["crimes"].fillna(0).sum() + inside["asb"].fillna(0).sum()))


def unassigned_note(data: DataAccess, view: View) -> Any:
    """An info line for a force's drill-down, or None when every record has an NPU."""
    if view.unit.level != "force":
        return None
    n, total = unassigned(data, view)
    if n <= 0:
        return None
    return dbc.Alert(
        f"{n:,} of {total:,} records ({n / total:.1%}) in {view.period.label} have a blank LSOA or "
        f"one outside {view.unit.name}'s area: they count for {view.unit.name}, not for any BCU "
        "or NPU, so the units below add up to less than the force.",
        color="info", className="small py-2", id="unassigned-note")
