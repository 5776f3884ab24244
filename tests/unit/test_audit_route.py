"""How the audit sink names the route of a request (dashboard/audit.py `request_route`): from
the Flask request alone, the bodies Dash's renderer sends for the router, the records grid and
a download, and an API query. Pure: a Flask request context, no warehouse."""

from __future__ import annotations

import json

import flask

from dashboard.audit import request_route

APP = flask.Flask(__name__)
SEARCH = "?unit=cheshire/northern/widnes&measure=total_crime&preset=fytd"


def route_of(path: str, body: object | None = None, query: str = "") -> tuple[str, str]:
    with APP.test_request_context(path, method="POST" if body is not None else "GET", json=body,
                                  query_string=query):
        return request_route()


def test_outside_a_request() -> None:
    assert request_route() == ("other", "(no web request)")


def test_the_router_drawing_a_page() -> None:
    body = {"output": "..page.children...nav-scorecard.active...nav-data.href..",
            "inputs": [{"id": "url", "property": "pathname", "value": "/officer"},
                       {"id": "url", "property": "search", "value": SEARCH}]}
    assert route_of("/_dash-update-component", body) == (
        "page", f"/_dash-update-component page.children page=/officer{SEARCH}")


def test_the_records_grid_and_a_download() -> None:
    grid = {"output": "records-grid.getRowsResponse",
            "inputs": [{"id": "records-grid", "property": "getRowsRequest", "value": {"startRow": 0}}],
            "state": [{"id": "url", "property": "search", "value": SEARCH}]}
    assert route_of("/_dash-update-component", grid) == (
        "callback", f"/_dash-update-component records-grid.getRowsResponse page={SEARCH}")
    ident = json.dumps({"export": "drill-records", "type": "xlsx"}, separators=(",", ":"), sort_keys=True)
    download = {"output": "download.data", "inputs": [[], []], "changedPropIds": [ident + ".n_clicks"],
                "state": [{"id": "url", "property": "search", "value": SEARCH}]}
    assert route_of("/_dash-update-component", download) == (
        "export", f"/_dash-update-component download.data export=drill-records (xlsx) page={SEARCH}")
    chart = json.dumps({"chart": "drill-map", "fmt": "png", "type": "image"}, separators=(",", ":"))
    image = {"output": "download-image.data", "changedPropIds": [chart + ".n_clicks"], "state": []}
    assert route_of("/_dash-update-component", image) == (
        "export", "/_dash-update-component download-image.data export=drill-map (png)")


def test_a_malformed_body_still_names_the_path() -> None:
    """The guard refuses such bodies before any callback; the sink must not fail on one either."""
    malformed = ["not", "an", "object"]
    assert route_of("/_dash-update-component", malformed) == ("callback", "/_dash-update-component")
    odd = {"output": "download.data", "changedPropIds": ["{not json.n_clicks"], "inputs": "x"}
    assert route_of("/_dash-update-component", odd)[0] == "export"


def test_the_api_with_its_query() -> None:
    assert route_of("/api/v1/units", query="format=csv") == ("api", "/api/v1/units?format=csv")
    assert route_of("/api/v1/units") == ("api", "/api/v1/units")
