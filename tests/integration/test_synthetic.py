"""Issue 14 item 10: the demo's 42 comparison forces are synthetic, and say so -- in dim_unit,
in every API row that names a force or unit (JSON and CSV), and on every chart that draws them."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import duckdb
import flask.testing
import pytest

from dashboard import state as url_state
from dashboard.app import create_app
from dashboard.data.facade import DataAccess
from dashboard.data.warehouse import WarehouseReader
from dashboard.pages import compare as compare_page
from etl.reference.forces import FORCES

FY = "from=2007-04-01&to=2008-03-31"
MARK = "Comparison forces: synthetic demo data"


@pytest.fixture(scope="module")
def client(demo_link: Path) -> flask.testing.FlaskClient:
    app = create_app(demo_link)
    yield app.server.test_client()
    app.server.extensions["looking_glass_reader"].close()


def _csv(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_every_demo_force_is_marked_synthetic_in_the_warehouse(demo_link: Path) -> None:
    con = duckdb.connect(str(demo_link), read_only=True)
    try:
        forces = dict(con.execute("SELECT unit_id, synthetic FROM dim_unit WHERE level = 'force'").fetchall())
    finally:
        con.close()
    # the 43 forces of England and Wales: Cheshire-shaped demo force and 42 comparators
    assert set(forces) == {f.slug for f in FORCES} and len(forces) == 43
    assert all(forces.values())


def test_units_api_says_synthetic_for_every_force(client: flask.testing.FlaskClient) -> None:
    body = client.get("/api/v1/units").get_json()
    forces = [u for u in body["units"] if u["level"] == "force"]
    assert len(forces) == 43 and {u["synthetic"] for u in forces} == {True}
    rows = _csv(client.get("/api/v1/units?format=csv").get_data(as_text=True))
    essex = next(r for r in rows if r["unit_id"] == "essex")
    assert essex["synthetic"] == "True"


def test_assessments_and_exceptions_carry_synthetic_per_row(client: flask.testing.FlaskClient) -> None:
    body = client.get(f"/api/v1/assessments?unit=cheshire&{FY}").get_json()
    assert body["assessments"] and all(r["synthetic"] is True for r in body["assessments"])
    # every MSF position of the demo is against invented forces, and the row says so
    assert all(r["peers_synthetic"] is True for r in body["assessments"])
    rows = _csv(client.get(f"/api/v1/assessments?unit=cheshire&{FY}&format=csv").get_data(as_text=True))
    assert {r["synthetic"] for r in rows} == {"True"} and {r["peers_synthetic"] for r in rows} == {"True"}
    ex = client.get(f"/api/v1/exceptions?unit=cheshire&{FY}").get_json()
    assert ex["exceptions"] and all(r["synthetic"] is True for r in ex["exceptions"])
    rows = _csv(client.get(f"/api/v1/exceptions?unit=cheshire&{FY}&format=csv").get_data(as_text=True))
    assert rows and {r["synthetic"] for r in rows} == {"True"}
    rows = _csv(client.get(f"/api/v1/series?measure=crime_burglary&unit=cheshire&{FY}&format=csv")
                .get_data(as_text=True))
    assert rows and {r["synthetic"] for r in rows} == {"True"}


def test_every_compare_chart_of_the_force_says_its_comparators_are_synthetic(demo_link: Path) -> None:
    data = DataAccess(WarehouseReader(demo_link))
    try:
        view = data.resolve(url_state.parse("?unit=cheshire&measure=crime_burglary"))
        c = compare_page.process_comparison(data, view)
        assert c.synthetic_peers
        for make in (compare_page.create_funnel, compare_page.create_ranked_bar, compare_page.create_trend):
            assert MARK in make(c, view)["layout"]["title"]["text"], make.__name__
        frame = compare_page.members_frame(c)
        assert frame["synthetic"].all() and len(frame) == 8
        # a BCU's peers are the demo force's own (invented) BCUs: said in the same place
        bcu = data.resolve(url_state.parse("?unit=cheshire/northern&measure=crime_burglary"))
        cb = compare_page.process_comparison(data, bcu)
        assert "Comparison units: synthetic demo data" in compare_page.create_funnel(cb, bcu)["layout"][
            "title"]["text"]
    finally:
        data.reader.close()
