"""The officer level's shared pieces: the list of officers a page links to (by name, never
ranked by a figure: no league table), for the drill-down at a team and the Officer page."""

from __future__ import annotations

from typing import Any

from dash import dcc, html

from dashboard.components.common import section
from dashboard.data.facade import DataAccess
from dashboard.data.model import Unit, View

OFFICER_PATH = "/officer"
NOT_RANKED = ("Officers are not ranked against each other (no league table): open an officer's "
              "page from the list to see them against officers in the same role and team size.")


def officers_below(data: DataAccess, view: View) -> list[Unit]:
    """The officers under the view's unit that the actor may open, by name."""
    if view.unit.level == "officer":
        return []
    return data.officers_under(view.unit.unit_id)


def officer_list(units: list[Unit], view: View, limit: int = 200) -> Any:
    """Links to officers' pages, alphabetical, with no figure beside them."""
    items = [html.Li(dcc.Link(u.title, href=view.state.href(OFFICER_PATH, unit=u.unit_id, rank=None)))
             for u in units[:limit]]
    more = (html.P(f"{len(units) - limit} more: choose a team first.", className="small mb-0")
            if len(units) > limit else None)
    return section(
        f"Officers of {view.unit.title}",
        [html.P(NOT_RANKED, className="small text-body-secondary"),
         html.Ul(items, className="small", style={"columns": "14em"}), more],
        card_id="officer-list",
    )
