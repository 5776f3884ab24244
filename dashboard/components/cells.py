"""Table cells more than one page draws from an assessment row (dashboard/analysis/assessment.py)."""

from __future__ import annotations

import math
from typing import Any

from dash import dcc, html

from dashboard.components.common import VERDICT_STYLE
from dashboard.data.model import View


def _empty(v: Any) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v)) or v == ""


def msf_cell(row: Any, view: View) -> Any:
    """'1 of 5 · better (99.8%)': rank (1 = best) and the funnel verdict in two words; the full
    sentence and the group's basis on hover. A proxy group is always said on the cell."""
    if _empty(row["peer_rank"]):
        return html.Span(row["peer_text"] or "no group", className="text-body-secondary small")
    if int(row["peer_of"]) <= 1:   # a group of one: no other unit has figures for this measure
        return html.Span("no comparator data", className="text-body-secondary small",
                         title=f"No other member of the group has figures. Group: {row['peer_group']}.")
    pos = row["peer_position"]
    style: dict[str, Any] = {}
    verdict = ""
    if isinstance(pos, str):
        if pos == "within":
            verdict = "within limits"
        else:
            above = pos.startswith("above")
            level = "99.8%" if pos.endswith("99.8") else "95%"
            word = row["peer_verdict"]
            if word in ("better", "worse"):
                style = VERDICT_STYLE[word]
                verdict = f"{'▲' if above else '▼'} {word} ({level})"
            else:
                verdict = f"{'▲ above' if above else '▼ below'} ({level})"
    proxy = row["peer_group"] == "proxy, not the Home Office group"
    return html.Div([
        dcc.Link(f"{int(row['peer_rank'])} of {int(row['peer_of'])}",
                 href=view.state.href("/compare", measure=row["measure_id"]), className="fw-semibold"),
        html.Span(f" · {verdict}" if verdict else "", style=style),
        html.Div("proxy group", className="text-body-secondary") if proxy else None,
    ], className="small", title=f"{row['peer_text']}. Group: {row['peer_group']}. {row['peer_limits_note']}")
