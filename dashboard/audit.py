"""The app's side of the audit log: the sink the access seam records through, which adds the
request's route and writes to the store, and the plain answer when it cannot.

The access seam (dashboard/data/facade.py) decides what is individual-level and when it is
handed out; `StoreAuditSink.record` adds where (the HTTP path; for a Dash callback its output,
the export or chart it makes, and the page's URL; for the API its query) and writes the entry
to the store's append-only `audit_log` (dashboard/store/audit.py), committed before the data
is returned. `install(app)` wires it and answers `AuditUnavailable` anywhere with a 503 in
plain words (the router draws the same words on a page: it shows a refusal's text).
"""

from __future__ import annotations

import json
import logging
from typing import Any

import dash
import flask

from dashboard.data.audit import UNAVAILABLE, AuditEvent, AuditUnavailable
from dashboard.data.facade import DataAccess
from dashboard.store import audit as audit_store
from dashboard.store.db import open_store

log = logging.getLogger(__name__)

CALLBACK_PATH = "/_dash-update-component"
# Dash outputs that are downloads (dashboard/exports.py): a callback writing them is an export.
DOWNLOAD_OUTPUTS = ("download.data", "download-image.data")
PAGE_OUTPUT = "page.children"


def _first_output(output: str) -> str:
    """'page.children' of Dash's '..page.children...nav-x.active..' (several outputs)."""
    return output.strip(".").split("...")[0].split("@")[0][:200]


def _url(items: list[Any]) -> str:
    """The page's URL from a callback's inputs and state (the 'url' location's pathname and
    search), when the callback reads it."""
    parts = {"pathname": "", "search": ""}
    for item in items:
        if isinstance(item, dict) and item.get("id") == "url" and item.get("property") in parts:
            value = item.get("value")
            parts[item["property"]] = value if isinstance(value, str) else ""
    return (parts["pathname"] + parts["search"])[:600]


def _trigger(changed: Any) -> dict[str, Any]:
    """The pattern id of the button that fired a download ({'type': 'csv', 'export': ...})."""
    if not isinstance(changed, list) or not changed or not isinstance(changed[0], str):
        return {}
    ident = changed[0].rsplit(".", 1)[0]
    try:
        found = json.loads(ident)
    except ValueError:
        return {}
    return found if isinstance(found, dict) else {}


def request_route() -> tuple[str, str]:
    """(via, route) of the request being served: how the data left the server and by what.

    via: 'api' (/api/...), 'export' (a CSV/XLSX or chart download), 'page' (the router drawing a
    page), 'callback' (any other Dash callback: the records grid's pages), 'other'."""
    if not flask.has_request_context():
        return "other", "(no web request)"
    request = flask.request
    path = request.path
    if path == CALLBACK_PATH:
        body = request.get_json(silent=True)
        body = body if isinstance(body, dict) else {}
        output = _first_output(str(body.get("output", "")))
        items = [*(body.get("inputs") or []), *(body.get("state") or [])]
        items = [i for i in items if isinstance(i, dict)]
        route = f"{path} {output}".rstrip()
        via = "page" if output == PAGE_OUTPUT else "callback"
        if output in DOWNLOAD_OUTPUTS:
            via = "export"
            trigger = _trigger(body.get("changedPropIds"))
            name = trigger.get("export") or trigger.get("chart")
            fmt = trigger.get("type") if "export" in trigger else trigger.get("fmt")
            if name:
                route += f" export={str(name)[:80]} ({str(fmt)[:10]})"
        url = _url(items)
        if url:
            route += f" page={url}"
        return via, route
    query = request.query_string.decode("latin-1")
    route = path + ("?" + query if query else "")
    return ("api" if path.startswith("/api/") else "other"), route


class StoreAuditSink:
    """Writes the seam's events to the store beside the warehouse `link` reads (or
    $LG_STORE_URL), with the request's route. Raises if the write fails: the seam then
    withholds the data."""

    def __init__(self, data: DataAccess) -> None:
        self.data = data

    def record(self, event: AuditEvent) -> None:
        via, route = request_route()
        audit_store.append(open_store(self.data.reader.link), event, via, route)


def _unavailable(exc: AuditUnavailable) -> flask.Response:
    response = flask.jsonify({"error": UNAVAILABLE})
    response.status_code = 503
    return response


def install(app: dash.Dash, data: DataAccess) -> None:
    """Record the seam's hand-outs in the store, and answer a failure to in plain words."""
    data.audit_sink = StoreAuditSink(data)
    app.server.register_error_handler(AuditUnavailable, _unavailable)
