"""Requests nobody's browser sends (issue 13): extreme periods, malformed callback bodies, API
parameters given twice, unknown or over-long, unknown static paths, version strings. Pure
functions and the app with no warehouse behind it: every refusal here happens before any data
is read."""

from __future__ import annotations

import json
import re
from datetime import date, timedelta
from pathlib import Path

import flask.testing
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dashboard import guard
from dashboard import state as url_state
from dashboard.app import create_app
from dashboard.periods import (
    GRAINS,
    MAX_BUCKETS,
    Period,
    bucket_count,
    buckets,
    fitting_grain,
    outside_window,
)


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> flask.testing.FlaskClient:
    return create_app(tmp_path_factory.mktemp("empty") / "warehouse.duckdb").server.test_client()


# -- periods -------------------------------------------------------------------------------


@settings(max_examples=150, deadline=None)
@given(
    start=st.dates(min_value=date(1990, 1, 1), max_value=date(2030, 12, 31)),
    days=st.integers(min_value=0, max_value=1200),
    grain=st.sampled_from(list(GRAINS)),
)
def test_bucket_count_is_the_number_of_buckets(start: date, days: int, grain: str) -> None:
    period = Period(start, start + timedelta(days=days))
    assert bucket_count(period, grain) == len(buckets(period, grain))


def test_bucket_count_of_huge_ranges_is_exact_and_instant() -> None:
    # The API used to answer "5001 buckets" for anything over 40,000 days.
    huge = Period(date(2, 1, 1), date(9997, 12, 31))
    # 9,996 years of 365 days and 2,424 leap days
    assert bucket_count(huge, "day") == (huge.end - huge.start).days + 1 == 9996 * 365 + 2424
    assert bucket_count(huge, "month") == 9996 * 12
    assert bucket_count(huge, "fy") == 9997  # FY 0001/02 (holding Jan 0002) to FY 9997/98
    assert bucket_count(Period(date(2024, 1, 1), date(2024, 1, 7)), "week") == 1  # Mon-Sun
    assert bucket_count(Period(date(2024, 1, 7), date(2024, 1, 8)), "week") == 2  # Sun, Mon


def test_a_page_asking_for_too_many_buckets_gets_the_next_grain_that_fits() -> None:
    twenty_years = Period(date(1990, 1, 1), date(2009, 12, 31))
    assert bucket_count(twenty_years, "day") > MAX_BUCKETS
    assert fitting_grain(twenty_years, "day") == "week"
    assert fitting_grain(twenty_years, "month") == "month"
    assert fitting_grain(Period(date(2007, 4, 1), date(2008, 3, 31)), "day") == "day"


def test_ranges_far_outside_the_data_are_refused_with_the_window() -> None:
    first, last = date(2006, 4, 1), date(2008, 3, 31)
    assert outside_window(Period(date(1997, 1, 1), date(2018, 12, 31)), first, last) is None
    for start, end in [(date(1, 1, 1), date(1, 12, 31)), (date(2000, 1, 1), date(9999, 12, 31)),
                       (date(1000, 1, 1), date(2008, 3, 31))]:
        problem = outside_window(Period(start, end), first, last)
        assert problem is not None and "1996-01-01" in problem and "2018-12-31" in problem


def test_url_state_never_fails_and_bounds_what_it_keeps() -> None:
    for odd in (5, [], {"a": 1}, None, "?" + "&".join(["unit=x"] * 10000)):
        assert isinstance(url_state.parse(odd), url_state.ViewState)  # type: ignore[arg-type]
    state = url_state.parse("?unit=" + "x" * 300 + "&from=" + "9" * 500)
    assert state.unit is not None and len(state.unit) == url_state.MAX_VALUE
    assert state.start is not None and len(state.start) == url_state.MAX_VALUE
    # Only the first MAX_QUERY characters are read: what lies beyond is not looked at.
    assert url_state.parse("?unit=" + "x" * 10_000 + "&grain=day").grain == "month"


# -- the callback endpoint -------------------------------------------------------------------

ROUTE = {
    "output": "..page.children..",
    "outputs": [{"id": "page", "property": "children"}],
    "inputs": [{"id": "url", "property": "pathname", "value": "/scorecard"},
               {"id": "url", "property": "search", "value": "?preset=fytd"}],
    "changedPropIds": ["url.pathname"],
    "state": [],
}


def test_the_callback_body_check_passes_what_the_renderer_sends() -> None:
    guard.check_callback_body(ROUTE)
    download = {
        "output": "download.data", "outputs": {"id": "download", "property": "data"},
        # the download callback's inputs: the CSV buttons, then the XLSX buttons
        "inputs": [[{"id": {"export": "scorecard", "type": "csv"}, "property": "n_clicks", "value": 1}], []],
        "changedPropIds": ['{"export":"scorecard","type":"csv"}.n_clicks'],
        "state": [{"id": "url", "property": "search", "value": ""}],
    }
    guard.check_callback_body(download)
    # A switch or checkbox sends a boolean value (Compare's adjustment, Early warning's list).
    checkbox = {
        "output": "ew-body.children", "outputs": {"id": "ew-body", "property": "children"},
        "inputs": [{"id": "ew-sensitivity", "property": "value", "value": "standard"},
                   {"id": "ew-improvements", "property": "value", "value": False}],
        "changedPropIds": ["ew-improvements.value"],
        "state": [{"id": "url", "property": "search", "value": "?preset=fytd"}],
    }
    guard.check_callback_body(checkbox)


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ([], "JSON object"),
        ("text", "JSON object"),
        ({**ROUTE, "output": 3}, "output must be text"),
        ({**ROUTE, "inputs": {"a": 1}}, "inputs must be a list"),
        ({**ROUTE, "inputs": [5]}, "inputs[0] must be an object"),
        ({**ROUTE, "inputs": [{"id": 1, "property": "search"}]}, "must name an id"),
        ({**ROUTE, "inputs": [{"id": "url", "property": "search", "value": 12}]}, "search must be"),
        ({**ROUTE, "inputs": [{"id": "url", "property": "pathname", "value": ["/"]}]}, "pathname must be"),
        ({**ROUTE, "inputs": [{"id": "g", "property": "getRowsRequest", "value": "all"}]}, "getRowsRequest"),
        ({**ROUTE, "inputs": [[{"id": {"export": "x"}, "property": "n_clicks", "value": True}]]}, "n_clicks"),
        ({**ROUTE, "changedPropIds": [1]}, "changedPropIds"),
    ],
)
def test_malformed_callback_bodies_are_a_400_saying_what_is_wrong(
    client: flask.testing.FlaskClient, body: object, words: str
) -> None:
    with pytest.raises(guard.BadCallback, match=re.escape(words)):
        guard.check_callback_body(body)
    resp = client.post(guard.CALLBACK_PATH, data=json.dumps(body), content_type="application/json")
    assert resp.status_code == 400 and words in resp.get_json()["error"]


def test_non_json_and_huge_callback_bodies_are_4xx(client: flask.testing.FlaskClient) -> None:
    not_json = client.post(guard.CALLBACK_PATH, data=b"\xff\xfe{", content_type="application/json")
    assert not_json.status_code == 400
    assert client.post(guard.CALLBACK_PATH, data=b"a=b", content_type="text/plain").status_code == 400
    big = json.dumps({**ROUTE, "pad": "x" * (guard.MAX_BODY + 1)})
    assert client.post(guard.CALLBACK_PATH, data=big, content_type="application/json").status_code == 413


def test_a_callback_on_a_missing_warehouse_is_a_503_without_paths(
    client: flask.testing.FlaskClient, tmp_path: Path
) -> None:
    body = {
        "output": "download.data", "outputs": {"id": "download", "property": "data"},
        # the download callback's inputs: the CSV buttons, then the XLSX buttons
        "inputs": [[{"id": {"export": "scorecard", "type": "csv"}, "property": "n_clicks", "value": 1}], []],
        "changedPropIds": ['{"export":"scorecard","type":"csv"}.n_clicks'],
        "state": [{"id": "url", "property": "search", "value": ""}],
    }
    client.get("/")  # the callbacks are registered on the first request
    resp = client.post(guard.CALLBACK_PATH, json=body)
    assert resp.status_code == 503
    assert "python -m etl demo" in resp.get_json()["error"] and "/tmp" not in resp.get_data(as_text=True)


def test_a_section_callback_on_a_missing_warehouse_says_so_in_the_section(
    client: flask.testing.FlaskClient,
) -> None:
    """A section drawn by its own callback shows the message instead of staying empty (a 503
    draws nothing in Dash's renderer)."""
    body = {
        "output": "scorecard-exceptions.children",
        "outputs": {"id": "scorecard-exceptions", "property": "children"},
        "inputs": [{"id": "scorecard-exceptions-view", "property": "data", "value": "?unit=cheshire"}],
        "changedPropIds": ["scorecard-exceptions-view.data"],
        "state": [],
    }
    client.get("/")
    resp = client.post(guard.CALLBACK_PATH, json=body)
    assert resp.status_code == 200
    drawn = resp.get_json()["response"]["scorecard-exceptions"]["children"]
    text = json.dumps(drawn)
    assert "python -m etl demo" in text and "no-warehouse" in text and "/tmp" not in text


def test_section_outputs_names_each_section_as_dash_does() -> None:
    content = {"drawn": True}
    single = guard.section_outputs({"outputs": {"id": "compare-body", "property": "children"}}, content)
    assert single == {"multi": True, "response": {"compare-body": {"children": content}}}
    many = guard.section_outputs({"outputs": [
        {"id": "packs-preview", "property": "children"},
        {"id": "packs-theme", "property": "disabled"},          # not a section: left unchanged
        {"id": {"type": "t", "index": 2}, "property": "children@a1b2"},  # pattern id, allow_duplicate
        [{"id": {"type": "row", "index": 1}, "property": "children"}],   # ALL: length unknown, skipped
    ]}, content)
    assert many == {"multi": True, "response": {
        "packs-preview": {"children": content},
        '{"index":2,"type":"t"}': {"children": content},
    }}
    assert guard.section_outputs({"outputs": {"id": "download", "property": "data"}}, content) is None
    assert guard.section_outputs("not a body", content) is None


# -- static paths and what the page publishes ----------------------------------------------------


@pytest.mark.parametrize(
    "path",
    ["/_dash-component-suites/nope/x.js", "/_dash-component-suites/dash/nope.js",
     "/_dash-component-suites/dash/..%2F..%2Fetc%2Fpasswd", "/vendor/nope.css"],
)
def test_unknown_static_paths_are_404(client: flask.testing.FlaskClient, path: str) -> None:
    resp = client.get(path)
    assert resp.status_code == 404
    assert "registered" not in resp.get_data(as_text=True)  # Dash's list of its own paths


def test_the_page_does_not_publish_the_python_version(client: flask.testing.FlaskClient) -> None:
    import platform

    page = client.get("/").get_data(as_text=True)
    config = json.loads(re.search(r'<script id="_dash-config"[^>]*>(.*?)</script>', page, re.S).group(1))
    assert "python_version" not in config and "dash_version_url" not in config
    assert platform.python_version() not in page


def test_an_address_over_the_bound_is_refused_before_anything_reads_it(
    client: flask.testing.FlaskClient,
) -> None:
    """Over 16 KiB: the API's JSON 400 naming the longest parameter, a plain page elsewhere (the
    same against a real gunicorn: tests/integration/test_hardening_server.py)."""
    api = client.get(f"/api/v1/series?measure=total_crime&unit={'x' * 20_000}")
    assert api.status_code == 400
    assert api.get_json()["parameter"] == "unit" and "20,000 characters" in api.get_json()["error"]
    page = client.get(f"/drill-down?unit=cheshire&q={'y' * 20_000}")
    assert page.status_code == 414 and page.mimetype == "text/html"
    assert "This address is too long" in page.get_data(as_text=True)
    # under the bound the API's own check answers, and names the parameter too
    shorter = client.get(f"/api/v1/series?measure=total_crime&unit={'x' * 16_000}")
    assert shorter.status_code == 400 and shorter.get_json()["parameter"] == "unit"
    assert "the most is 200" in shorter.get_json()["error"]
    assert len(f"/api/v1/series?measure=total_crime&unit={'x' * 16_000}") <= guard.MAX_ADDRESS


# -- the API's parameters (checked before any data is read) ---------------------------------------


@pytest.mark.parametrize(
    ("query", "parameter", "words"),
    [
        ("units?unit=cheshire", "unit", "unknown parameter"),
        ("measures?x=1", "x", "unknown parameter"),
        ("units?format=json&format=csv", "format", "given 2 times"),
        ("series?measure=total_crime&measure=burglary&unit=cheshire", "measure", "given 2 times"),
        ("series?unit=" + "x" * 10_000, "unit", "10,000 characters"),
        ("assessments?unit=cheshire&from=" + "1" * 300, "from", "300 characters"),
        ("exceptions?unit=cheshire&grain=day", "grain", "unknown parameter"),
    ],
)
def test_api_refuses_unknown_repeated_and_long_parameters_on_every_route(
    client: flask.testing.FlaskClient, query: str, parameter: str, words: str
) -> None:
    resp = client.get(f"/api/v1/{query}")
    assert resp.status_code == 400 and resp.is_json
    body = resp.get_json()
    assert body["parameter"] == parameter and words in body["error"]


def test_an_empty_export_is_its_header() -> None:
    # An empty frame with Arrow-backed text columns (what a service page gives on a warehouse
    # without that service's data) made the CSV export a 500.
    import pandas as pd

    from dashboard.exports import to_csv

    frame = pd.DataFrame({"unit_id": pd.Series([], dtype="string[pyarrow]"),
                          "=n": pd.Series([], dtype=float)})
    assert to_csv(frame) == "unit_id,'=n\r\n"


def test_unknown_api_paths_and_methods_answer_json(client: flask.testing.FlaskClient) -> None:
    for resp, code in ((client.get("/api/v1/nope"), 404), (client.post("/api/v1/units"), 405),
                       (client.get("/api/v2/units"), 404)):
        assert resp.status_code == code and resp.is_json and "/api/v1/units" in resp.get_json()["error"]
