"""The store for a page, and the one line the scorecard shows about a unit's open actions.

Pages reach the store only through the service (dashboard/store/actions.py); this module says
which store belongs to the warehouse a page reads (`store_for`), so every page and the packs
agree on it.
"""

from __future__ import annotations

import logging
from datetime import date
from typing import Any

from dash import dcc, html
from sqlalchemy.exc import SQLAlchemyError

from dashboard.data.facade import DataAccess
from dashboard.data.model import View
from dashboard.store import actions
from dashboard.store.db import Store, open_store
from dashboard.store.errors import StoreError

log = logging.getLogger(__name__)


def store_for(data: DataAccess) -> Store:
    """The store beside the warehouse `data` reads (or $LG_STORE_URL)."""
    return open_store(data.reader.link)


def visible(data: DataAccess, found: list[actions.Action]) -> list[actions.Action]:
    """The actions whose unit the request's actor may see (dashboard/data/access.py decides);
    an action for a unit no longer in the warehouse stays visible under its id to those who
    may see every unit."""
    out = []
    for a in found:
        unit = data.unit(a.unit_id)
        if data.may_see(unit) if unit is not None else data.may_see_retired_units():
            out.append(a)
    return out


def open_actions_line(data: DataAccess, view: View, today: date | None = None) -> Any:
    """'Actions: 3 open for Western BCU and below, 1 overdue. See the actions ›' — one small
    line, so the scorecard's answer stays above the fold. Says nothing when the store cannot
    be opened (the scorecard must not fail because of it; the Actions page says why)."""
    try:
        found = visible(
            data,
            actions.list_actions(store_for(data), unit_id=view.unit.unit_id, statuses=actions.OPEN_STATUSES),
        )
    except (StoreError, SQLAlchemyError, OSError):
        log.exception("reading the action store failed")
        return None
    today = today or date.today()
    overdue = sum(a.overdue(today) for a in found)
    href = view.state.href("/actions")
    if not found:
        words = f"No open actions for {view.unit.title} or the units below it."
    else:
        words = (
            f"{len(found)} open action{'s' if len(found) != 1 else ''} for {view.unit.title} and below"
            + (f", {overdue} overdue." if overdue else ", none overdue.")
        )
    return html.P(
        [
            html.Span("PIM actions: ", className="fw-semibold"),
            html.Span(words, id="scorecard-actions-text"),
            " ",
            dcc.Link("See the actions ›", href=href, id="scorecard-actions-link"),
        ],
        className="small mb-2",
        id="scorecard-actions",
    )
