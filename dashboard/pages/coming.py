"""Pages of the PIM that are not built yet: they say so plainly (and keep the pickers, so the
unit and period travel with the user to the pages that are built)."""

from __future__ import annotations

from typing import Any

import dash_bootstrap_components as dbc
from dash import html

from dashboard.components.common import page_header
from dashboard.components.controls import controls
from dashboard.data.facade import DataAccess
from dashboard.data.model import View

COMING: dict[str, str] = {
    "/satisfaction": "User satisfaction survey results with their confidence intervals.",
    "/calls": "Calls answered and attended in time, by channel and grade.",
    "/vulnerable-people": "Domestic violence, missing people and offender management.",
    "/actions": "What last month's PIM agreed, who owns it and whether it is done.",
    "/packs": "Printable PIM packs with their charts and data.",
}


def layout(label: str, path: str, data: DataAccess | None, view: View | None) -> list[Any]:
    out: list[Any] = [*page_header(label, view, with_measure=False)]
    if data is not None and view is not None:
        out.append(controls(data, view))
    out.append(
        dbc.Alert(
            [
                html.P("Coming soon: this page is not built yet.", className="mb-1 fw-semibold"),
                html.P(COMING.get(path, ""), className="mb-0"),
            ],
            color="info",
            id="coming",
        )
    )
    return out
