"""The data API (/api/v1): units, measures, series as JSON and CSV, 400s that name the
parameter, and CSV that Excel cannot mistake for formulas."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import flask.testing
import pytest

from dashboard.app import create_app
from etl.demo.force import DemoData
from etl.measures.registry import MEASURES

FY = "from=2007-04-01&to=2008-03-31"


@pytest.fixture(scope="module")
def client(demo_link: Path) -> flask.testing.FlaskClient:
    app = create_app(demo_link)
    yield app.server.test_client()
    app.server.extensions["looking_glass_reader"].close()


def _csv(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_units(demo_facts: DemoData, client: flask.testing.FlaskClient) -> None:
    body = client.get("/api/v1/units").get_json()
    units = demo_facts.units
    levels = {u["level"] for u in body["units"]}
    assert levels == {"force", "bcu", "npu", "team"}  # no officers for the anonymous actor
    cheshire = [u for u in body["units"] if u["force_id"] == "cheshire"]
    assert len(cheshire) == int((units["level"] != "officer").sum())
    widnes = next(u for u in body["units"] if u["unit_id"] == "cheshire/northern/widnes")
    assert widnes["population"] == int(
        units.set_index("unit_id").at["cheshire/northern/widnes", "population"]
    )
    assert widnes["source"] == "demo" and widnes["daily"] is True and widnes["synthetic"] is True
    assert "Not signed in" in body["note"]
    rows = _csv(client.get("/api/v1/units?format=csv").get_data(as_text=True))
    assert len(rows) == body["count"]


def test_measures(client: flask.testing.FlaskClient) -> None:
    body = client.get("/api/v1/measures").get_json()
    assert {m["id"] for m in body["measures"]} == set(MEASURES)
    rate = next(m for m in body["measures"] if m["id"] == "crime_per_1000")
    assert rate["per"] == "population" and "not annualised" in rate["denominator_rule"]
    assert rate["polarity"] == "down" and rate["categories"][0] in MEASURES["crime_per_1000"].categories
    resp = client.get("/api/v1/measures?format=csv")
    assert resp.mimetype == "text/csv" and len(_csv(resp.get_data(as_text=True))) == len(MEASURES)


def test_series_json_is_the_facts(demo_facts: DemoData, client: flask.testing.FlaskClient) -> None:
    body = client.get(
        f"/api/v1/series?measure=sanction_detection_rate&unit=cheshire/eastern/crewe&{FY}&grain=quarter"
    ).get_json()
    c = demo_facts.crimes
    c = c[(c["npu_id"] == "cheshire/eastern/crewe") & ~c["is_asb"] & (c["date"] >= "2007-04-01")]
    q = c.groupby(c["date"].dt.quarter).agg(n=("sanction", "size"), sd=("sanction", "sum"))
    # calendar quarter 2 = Apr-Jun = Q1 of the financial year
    want = [q.loc[i] for i in (2, 3, 4, 1)]
    assert [r["label"] for r in body["rows"]] == ["Q1 2007/08", "Q2 2007/08", "Q3 2007/08", "Q4 2007/08"]
    assert [r["numerator"] for r in body["rows"]] == [float(w["sd"]) for w in want]
    assert [r["denominator"] for r in body["rows"]] == [float(w["n"]) for w in want]
    first = body["rows"][0]
    assert first["value"] == pytest.approx(first["numerator"] / first["denominator"] * 100)
    assert first["lower"] < first["value"] < first["upper"]
    assert body["source"] == "demo" and body["as_of"] == "2008-03-31" and body["synthetic"] is True
    assert body["from"] == "2007-04-01" and body["to"] == "2008-03-31" and body["grain"] == "quarter"


def test_series_csv_is_the_json(client: flask.testing.FlaskClient) -> None:
    url = f"/api/v1/series?measure=crime_burglary&unit=cheshire/western&{FY}&grain=month"
    rows = client.get(url).get_json()["rows"]
    resp = client.get(url + "&format=csv")
    assert resp.mimetype == "text/csv"
    assert "attachment" in resp.headers["Content-Disposition"]
    got = _csv(resp.get_data(as_text=True))
    assert [float(r["numerator"]) for r in got] == [r["numerator"] for r in rows]
    assert [r["period_start"] for r in got] == [r["period_start"] for r in rows]
    assert {r["unit"] for r in got} == {"cheshire/western"}


def test_defaults_and_monthly_widening(client: flask.testing.FlaskClient) -> None:
    body = client.get("/api/v1/series?measure=total_crime&unit=cheshire").get_json()
    assert (body["from"], body["to"], body["grain"]) == ("2007-04-01", "2008-03-31", "month")
    body = client.get("/api/v1/series?measure=total_crime&unit=kent&from=2007-05-10&to=2007-06-10").get_json()
    assert (body["from"], body["to"]) == ("2007-05-01", "2007-06-30") and body["notes"]
    body = client.get(
        "/api/v1/series?measure=total_crime&unit=cheshire&from=2005-01-01&to=2006-06-30&grain=quarter"
    ).get_json()
    assert body["rows"][0]["missing"] is True and body["rows"][0]["value"] is None  # before the data
    assert body["notes"]


@pytest.mark.parametrize(
    ("query", "parameter", "words"),
    [
        ("unit=cheshire", "measure", "required"),
        ("measure=nope&unit=cheshire", "measure", "unknown measure"),
        ("measure=total_crime", "unit", "required"),
        ("measure=total_crime&unit=cheshire&grain=hour", "grain", "grain must be one of"),
        ("measure=total_crime&unit=kent&grain=week", "grain", "monthly data only"),
        ("measure=total_crime&unit=cheshire&from=2007-02-30", "from", "not a date"),
        ("measure=total_crime&unit=cheshire&to=yesterday", "to", "not a date"),
        ("measure=total_crime&unit=cheshire&from=2008-01-01&to=2007-01-01", "to", "before from"),
        ("measure=total_crime&unit=cheshire&format=xlsx", "format", "format must be"),
        ("measure=total_crime&unit=cheshire&form=2007-01-01", "form", "unknown parameter"),
        ("measure=total_crime&unit=cheshire&from=1900-01-01&grain=day", "grain", "more than"),
    ],
)
def test_bad_parameters_get_a_400_naming_them(
    client: flask.testing.FlaskClient, query: str, parameter: str, words: str
) -> None:
    resp = client.get(f"/api/v1/series?{query}")
    assert resp.status_code == 400
    body = resp.get_json()
    assert body["parameter"] == parameter and words in body["error"]


def test_officers_are_refused(demo_facts: DemoData, client: flask.testing.FlaskClient) -> None:
    officer = demo_facts.crimes["officer_id"].iloc[0]
    resp = client.get(f"/api/v1/series?measure=total_crime&unit={officer}")
    unknown = client.get("/api/v1/series?measure=total_crime&unit=cheshire/no/such/unit")
    # 403, and the same words for an officer (refused) and a unit that does not exist
    assert resp.status_code == unknown.status_code == 403
    assert resp.get_json()["error"].replace(officer, "X") == unknown.get_json()["error"].replace(
        "cheshire/no/such/unit", "X")


