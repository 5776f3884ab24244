"""Requests nobody's browser sends, against the demo warehouse (issue 13): extreme custom dates
and grains on every page, a fuzz of every real callback's body, the API's range checks, and
the scorecard's CSV on warehouses that are not the full demo."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import flask.testing
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dashboard import exports
from dashboard.app import create_app
from dashboard.auth import current_actor
from dashboard.data.facade import DataAccess
from dashboard.data.warehouse import WarehouseReader
from dashboard.pages import NAV

REPO = Path(__file__).resolve().parents[2]
INTERNAL = re.compile(r"Traceback|\w+Error\b|\w+Exception\b|duckdb\.|File \"|/tmp/|year \d+ is out of range")


@pytest.fixture(scope="module")
def app_client(demo_link: Path) -> Any:
    app = create_app(demo_link)
    client = app.server.test_client()
    client.get("/")  # callbacks are registered on the first request
    deps = client.get("/_dash-dependencies").get_json()
    yield client, deps
    app.server.extensions["looking_glass_reader"].close()


def _item(ident: str, prop: str, value: Any) -> Any:
    if ident.startswith("{"):  # a pattern-matching id: ALL -> a list of concrete items
        pattern = json.loads(ident)
        concrete = {k: ("unit" if v == ["ALL"] else v) for k, v in pattern.items()}
        return [{"id": concrete, "property": prop, "value": value}]
    return {"id": ident, "property": prop, "value": value}


def _outputs(output: str) -> Any:
    def one(text: str) -> dict[str, str]:
        ident, _, prop = text.rpartition(".")
        return {"id": ident, "property": prop}

    if output.startswith(".."):
        return [one(p) for p in output.strip(".").split("...")]
    return one(output)


def body_of(dep: dict[str, Any], values: list[Any]) -> dict[str, Any]:
    """The body the renderer would send for callback `dep`, with `values` for its inputs then
    its states (in order)."""
    n = len(dep["inputs"])
    inputs = [_item(i["id"], i["property"], v) for i, v in zip(dep["inputs"], values[:n], strict=True)]
    state = [_item(s["id"], s["property"], v) for s, v in zip(dep["state"], values[n:], strict=True)]
    first = dep["inputs"][0]
    return {"output": dep["output"], "outputs": _outputs(dep["output"]), "inputs": inputs, "state": state,
            "changedPropIds": [f"{first['id']}.{first['property']}"]}


def route_body(deps: list[dict[str, Any]], path: str, search: str) -> dict[str, Any]:
    dep = next(d for d in deps if d["output"].startswith("..page.children"))
    return body_of(dep, [path, search])


# -- extreme URLs: a page with a note, never a 500 or a blank screen -------------------------------

EXTREME = [
    ("/scorecard", "?preset=custom&from=0001-01-01&to=0001-12-31", "could not be used"),
    ("/scorecard", "?preset=custom&from=2000-01-01&to=9999-12-31", "could not be used"),
    ("/drill-down", "?unit=cheshire&preset=custom&from=1000-01-01&to=2008-03-31&grain=day",
     "could not be used"),
    ("/drill-down", "?unit=cheshire&preset=custom&from=1996-01-01&to=2009-12-31&grain=day",
     "showing weeks"),
    ("/compare", "?preset=custom&from=2008-03-31&to=2007-01-01", "could not be used"),
    # an unknown unit gets the access seam's words, the same as a unit out of scope
    ("/scorecard", "?unit=" + "x" * 5000, "does not exist or is not available to your role"),
    ("/scorecard", "?from=" + "%00%ff" * 50, "could not be used"),
]


@pytest.mark.parametrize(("path", "search", "note"), EXTREME)
def test_extreme_urls_draw_the_page_with_a_note(app_client: Any, path: str, search: str, note: str) -> None:
    client, deps = app_client
    resp = client.post("/_dash-update-component", json=route_body(deps, path, search))
    assert resp.status_code == 200
    text = resp.get_data(as_text=True)
    assert note in text and not INTERNAL.search(text)
    assert len(resp.data) < 2_000_000  # the capped grain keeps the page small (was 38.7 MB)


def test_every_page_survives_the_extreme_urls(app_client: Any) -> None:
    client, deps = app_client
    for _, path, _ in NAV:
        for _, search, _ in EXTREME[:3]:
            resp = client.post("/_dash-update-component", json=route_body(deps, path, search))
            assert resp.status_code == 200, (path, search)
            assert not INTERNAL.search(resp.get_data(as_text=True)), (path, search)


# -- a fuzz of the callback endpoint ----------------------------------------------------------------

SEARCHES = ["", "?preset=fytd", "?unit=cheshire/northern&grain=week",
            "?preset=custom&from=0001-01-01&to=9999-12-31",
            "?unit=cheshire&preset=custom&from=2007-04-01&to=2007-04-01&grain=day", "?measure=nope&grain=fy"]
JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**40), 2**40) | st.floats(allow_nan=False)
    | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=12,
)
VALUE = st.sampled_from(SEARCHES) | st.sampled_from(["/scorecard", "/drill-down", "/compare", "/nope"]) | JSON


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_no_callback_body_gets_a_500(app_client: Any, data: st.DataObject) -> None:
    client, deps = app_client
    dep = data.draw(st.sampled_from(deps))
    n = len(dep["inputs"]) + len(dep["state"])
    body = body_of(dep, data.draw(st.lists(VALUE, min_size=n, max_size=n)))
    mutation = data.draw(st.sampled_from(["none", "drop", "retype", "junk"]))
    if mutation == "drop":
        body.pop(data.draw(st.sampled_from(sorted(body))))
    elif mutation == "retype":
        body[data.draw(st.sampled_from(sorted(body)))] = data.draw(JSON)
    if mutation == "junk":
        resp = client.post("/_dash-update-component", data=data.draw(st.binary(max_size=200)),
                           content_type="application/json")
    else:
        resp = client.post("/_dash-update-component", json=body)
    assert resp.status_code < 500 or resp.status_code == 503, resp.get_data(as_text=True)[:300]
    if resp.status_code >= 400:
        assert not INTERNAL.search(resp.get_data(as_text=True))


# -- the API ------------------------------------------------------------------------------------------

SERIES = "series?measure=total_crime&unit=cheshire"


@pytest.mark.parametrize(
    ("query", "parameter", "words"),
    [
        (f"{SERIES}&from=1000-01-01&to=1000-12-31&grain=fy", "from", "can be shown"),
        (f"{SERIES}&from=2007-01-01&to=2100-12-31&grain=fy", "to", "can be shown"),
        (f"{SERIES}&from=0001-01-01&to=9999-12-31&grain=day", "grain",
         "3652059 day buckets"),
        ("assessments?unit=cheshire&from=0001-01-01&to=0001-12-31", "from", "can be shown"),
        ("exceptions?unit=cheshire&month=9999-12", "to", "can be shown"),
    ],
)
def test_api_ranges_far_from_the_data_are_a_400(
    app_client: Any, query: str, parameter: str, words: str
) -> None:
    client: flask.testing.FlaskClient = app_client[0]
    resp = client.get(f"/api/v1/{query}")
    assert resp.status_code == 400, resp.get_data(as_text=True)
    assert resp.get_json()["parameter"] == parameter and words in resp.get_json()["error"]


# -- the scorecard's CSV on warehouses that are not the full demo ------------------------------------


def _load(warehouse: Path, *args: str) -> None:
    done = subprocess.run([sys.executable, "-m", "etl", "load", *args, "--warehouse", str(warehouse)],
                          cwd=REPO, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize(
    "load",
    [("crimes", "docs/examples/crimes.csv"),
     ("police-uk", "docs/examples/2019-01-cheshire-stop-and-search.csv")],
    ids=["force-extract-only", "stop-and-search-only"],
)
def test_scorecard_csv_on_a_partial_warehouse(tmp_path: Path, load: tuple[str, str]) -> None:
    link = tmp_path / "warehouse.duckdb"
    _load(link, *load)
    data = DataAccess(WarehouseReader(link))
    try:
        for search in ("", "?preset=month", "?preset=12m", "?preset=custom&from=2010-01-01&to=2010-02-01"):
            with data.request(current_actor()):
                payload = exports.build(data, "scorecard", search)
            assert payload is not None and payload["filename"].endswith(".csv")
            header, *rows = payload["content"].splitlines()
            assert header.startswith("unit_id,unit,level,measure_id") and rows
    finally:
        data.reader.close()


@pytest.mark.parametrize("request_", [
    {"startRow": "abc", "endRow": None},
    {"startRow": 10**30, "endRow": 10**31, "sortModel": [{"colId": ["x"], "sort": 5}, "junk"]},
    {"startRow": -5, "endRow": float("inf"), "sortModel": {"colId": "date"}},
    {"startRow": 0, "endRow": 10, "sortModel": [{"colId": "date", "sort": "desc"}]},
])
def test_records_grid_requests_of_any_shape_get_rows(app_client: Any, request_: dict[str, Any]) -> None:
    client, deps = app_client
    dep = next(d for d in deps if d["output"] == "records-grid.getRowsResponse")
    body = body_of(dep, [request_, "?unit=cheshire/northern&preset=month"])
    resp = client.post("/_dash-update-component", data=json.dumps(body), content_type="application/json")
    assert resp.status_code == 200, resp.get_data(as_text=True)[:300]
    rows = resp.get_json()["response"]["records-grid"]["getRowsResponse"]
    assert rows["rowCount"] > 0 and len(rows["rowData"]) <= 1000
