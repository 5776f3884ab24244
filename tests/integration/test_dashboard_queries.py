"""The query layer against numbers computed independently: demo numbers are counted with pandas
from `etl.demo.generate()` (the same seed the warehouse was built from). The period logic and URL
state are in tests/unit/test_dashboard_queries.py; the real data.police.uk files in
tests/realdata/test_dashboard_queries.py."""

from __future__ import annotations

import math
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pytest

from dashboard import periods
from dashboard import state as url_state
from dashboard.analysis import metrics
from dashboard.data.access import OFFICER_OFF
from dashboard.data.facade import DataAccess
from dashboard.data.model import GrainUnavailable
from dashboard.data.queries import cubes as queries
from dashboard.data.warehouse import WarehouseReader
from etl.demo.force import DemoData
from etl.measures.registry import MEASURES
from tests.support.tiny import cube_row, manifest_row, publish, status_row, unit_row

FY = (date(2007, 4, 1), date(2008, 3, 31))
WIDNES = "cheshire/northern/widnes"


@pytest.fixture(scope="module")
def data(demo_link: Path) -> DataAccess:
    access = DataAccess(WarehouseReader(demo_link))
    yield access
    access.reader.close()


@pytest.fixture(scope="module")
def crimes(demo_facts: DemoData) -> pd.DataFrame:
    c = demo_facts.crimes.copy()
    c["day"] = c["date"].dt.date
    c["bcu_id"] = c["npu_id"].str.rsplit("/", n=1).str[0]
    return c


def _between(c: pd.DataFrame, start: date, end: date) -> pd.DataFrame:
    return c[(c["day"] >= start) & (c["day"] <= end)]


# -- the demo warehouse against its own facts ----------------------------------------------


def test_monthly_series_of_an_npu_matches_the_facts(data: DataAccess, crimes: pd.DataFrame) -> None:
    got = data.series("crime_burglary", WIDNES, *FY, "month")
    c = _between(crimes[(crimes["npu_id"] == WIDNES) & (crimes["category"] == "burglary")], *FY)
    want = c.groupby(c["month"].dt.date).size()
    assert list(got["period_start"]) == list(want.index)
    assert list(got["numerator"]) == [float(v) for v in want]
    assert got["denominator"].isna().all() and not got["missing"].any()
    lo, hi = metrics.interval(MEASURES["crime_burglary"], float(want.iloc[0]), math.nan)
    assert (got["lower"].iloc[0], got["upper"].iloc[0]) == (lo, hi)


def test_weekly_detection_rate_of_a_team_matches_the_facts(data: DataAccess, crimes: pd.DataFrame) -> None:
    team = "cheshire/northern/widnes/cid"
    start, end = date(2007, 10, 3), date(2007, 12, 24)
    got = data.series("sanction_detection_rate", team, start, end, "week")
    c = _between(crimes[(crimes["team_id"] == team) & ~crimes["is_asb"]], start, end)
    week = c["day"].map(lambda d: d - timedelta(days=d.weekday()))
    want = c.groupby(week).agg(n=("sanction", "size"), sd=("sanction", "sum"))
    assert got["partial"].iloc[0] and got["period_start"].iloc[0] == start
    by_week = {
        periods.bucket_start(d, "week"): (num, den)
        for d, num, den in zip(got["period_start"], got["numerator"], got["denominator"], strict=True)
    }
    for wk, row in want.iterrows():
        assert by_week[wk] == (float(row["sd"]), float(row["n"]))
    assert got["value"].iloc[1] == pytest.approx(got["numerator"].iloc[1] / got["denominator"].iloc[1] * 100)


def test_custom_range_needs_days_and_quarters_are_clipped(data: DataAccess, crimes: pd.DataFrame) -> None:
    start, end = date(2007, 5, 15), date(2007, 11, 20)
    got = data.series("total_crime", "cheshire/western", start, end, "quarter")
    c = _between(crimes[(crimes["bcu_id"] == "cheshire/western") & ~crimes["is_asb"]], start, end)
    assert got["numerator"].sum() == len(c)
    assert list(got["label"]) == ["Q1 2007/08", "Q2 2007/08", "Q3 2007/08"]
    assert list(got["days"]) == [47, 92, 51] and got["partial"].tolist() == [True, False, True]


def test_rate_per_1000_uses_the_population_for_the_period(demo_facts: DemoData, data: DataAccess,
                                                         crimes: pd.DataFrame) -> None:
    units = demo_facts.units.set_index("unit_id")
    got = data.values("crime_per_1000", (WIDNES,), *FY).iloc[0]
    n = len(_between(crimes[(crimes["npu_id"] == WIDNES) & ~crimes["is_asb"]], *FY))
    assert got["denominator"] == units.at[WIDNES, "population"]
    assert got["value"] == pytest.approx(n / units.at[WIDNES, "population"] * 1000)
    assert "not annualised" in metrics.unit_text(MEASURES["crime_per_1000"])


def test_children_of_a_bcu_match_the_facts(data: DataAccess, crimes: pd.DataFrame) -> None:
    kids = data.children("cheshire/northern")
    assert len(kids) == 6 and {k.level for k in kids} == {"npu"}
    got = data.values("asb_incidents", tuple(k.unit_id for k in kids), *FY).set_index("unit_id")
    c = _between(crimes[crimes["is_asb"] & (crimes["bcu_id"] == "cheshire/northern")], *FY)
    want = c.groupby("npu_id").size()
    assert got["numerator"].to_dict() == {k: float(v) for k, v in want.items()}
    assert data.children(WIDNES + "/cid") == []  # officers stay off screen


def test_scorecard_numbers_against_the_facts(data: DataAccess, crimes: pd.DataFrame) -> None:
    sc = data.scorecard("cheshire", *FY).set_index("measure_id")
    now = _between(crimes, *FY)
    before = _between(crimes, date(2006, 4, 1), date(2007, 3, 31))
    crime_now, crime_before = now[~now["is_asb"]], before[~before["is_asb"]]
    assert sc.at["total_crime", "value"] == len(crime_now)
    assert sc.at["total_crime", "previous"] == len(crime_before)
    assert sc.at["asb_incidents", "value"] == now["is_asb"].sum()
    assert sc.at["sanction_detection_rate", "value"] == pytest.approx(
        crime_now["sanction"].sum() / len(crime_now) * 100
    )
    assert sc.at["crime_burglary", "pct_change"] == pytest.approx(
        ((crime_now["category"] == "burglary").sum() / (crime_before["category"] == "burglary").sum() - 1)
        * 100
    )
    march = crime_now[crime_now["day"] >= date(2008, 3, 1)]
    assert sc.at["total_crime", "spark"][-1] == len(march)
    assert len(sc.at["total_crime", "spark"]) == 13
    assert set(metrics.headline_ids()) == set(sc.index)
    # The numbers come in the registry's order; the assessment (its own tests) orders them.
    assert list(sc.index) == list(metrics.headline_ids())


def test_scorecard_sparklines_share_their_months(data: DataAccess) -> None:
    """A period ending mid-month: sources with days and sources with months only (satisfaction,
    workforce) must still draw the same 13 months, the last whole month before the end; the
    export writes them as one set of columns (issue 11)."""
    sc = data.scorecard("cheshire", date(2007, 4, 1), date(2008, 2, 15))
    want = [date(2007, m, 1) for m in range(1, 13)] + [date(2008, 1, 1)]
    assert all(list(months) == want for months in sc["spark_months"]), sc["spark_months"].tolist()
    assert all(len(s) == 13 for s in sc["spark"])


def test_records_and_map_are_the_raw_facts_of_the_cell(data: DataAccess, crimes: pd.DataFrame) -> None:
    start, end = date(2007, 6, 10), date(2007, 8, 20)
    c = _between(crimes[(crimes["npu_id"] == WIDNES) & (crimes["category"] == "vehicle-crime")], start, end)
    assert data.record_count("crime_vehicle_crime", WIDNES, start, end) == len(c)
    page1 = data.records("crime_vehicle_crime", WIDNES, start, end, limit=10, order_by="crime_id")
    page2 = data.records("crime_vehicle_crime", WIDNES, start, end, limit=10, offset=10, order_by="crime_id")
    assert list(page1["crime_id"]) + list(page2["crime_id"]) == sorted(c["crime_id"])[:20]
    assert "officer_id" not in page1.columns
    team = "cheshire/northern/widnes/response-a"
    t = _between(crimes[(crimes["team_id"] == team) & ~crimes["is_asb"]], start, end)
    assert data.record_count("total_crime", team, start, end) == len(t)
    assert data.record_count("total_crime", "cheshire/northern", start, end) == len(
        _between(crimes[(crimes["bcu_id"] == "cheshire/northern") & ~crimes["is_asb"]], start, end)
    )
    pts = data.map_points("crime_vehicle_crime", WIDNES, start, end)
    assert len(pts) == len(c) and pts["longitude"].between(-3.1, -2.0).all()
    assert len(data.map_points("total_crime", WIDNES, *FY, limit=100)) == 100
    officer = crimes["officer_id"].iloc[0]
    with pytest.raises(PermissionError, match="not available to your role"):
        data.records("total_crime", officer, start, end)
    with pytest.raises(ValueError, match="cannot sort"):
        data.records("total_crime", WIDNES, start, end, order_by="date; DROP TABLE dim_unit")


def test_unknown_values_are_only_ever_parameters(data: DataAccess) -> None:
    with data.cursor() as cur:
        evil = "x' OR '1'='1"
        assert queries.series_counts(cur, "demo", evil, *FY, ["burglary"], "month").empty
        assert queries.period_counts(cur, "demo", [evil], *FY, "day").empty
        with pytest.raises(ValueError, match="time must be"):
            queries.series_counts(cur, "demo", WIDNES, *FY, ["burglary"], "month; DROP TABLE x")


def test_resolve_falls_back_and_says_why(data: DataAccess) -> None:
    view = data.resolve(url_state.parse("?unit=nowhere&measure=nope&preset=soon&grain=hour"))
    assert view is not None and view.unit.unit_id == "cheshire" and view.measure.id == "total_crime"
    assert len(view.notes) == 4
    officer = data.units()[data.units()["level"] == "officer"]["unit_id"].iloc[0]
    view = data.resolve(url_state.parse(f"?unit={officer}"))
    # the default unit, not the officer's team (which would say where the officer is)
    assert view.unit.unit_id == "cheshire" and OFFICER_OFF in view.notes[0]
    view = data.resolve(url_state.parse("?unit=kent&grain=week&preset=custom&from=2007-05-10&to=2007-06-10"))
    assert view.grain == "month" and (view.period.start, view.period.end) == (
        date(2007, 5, 1),
        date(2007, 6, 30),
    )
    with pytest.raises(GrainUnavailable):
        data.series("total_crime", "kent", *FY, "day")
    view = data.resolve(
        url_state.parse(
            "?unit=cheshire/eastern&measure=crime_robbery&preset=custom"
            "&from=2007-05-15&to=2007-11-20&grain=week"
        )
    )
    assert view.statement() == (
        "Robbery, Cheshire Constabulary / Eastern BCU, 15 May 2007 – 20 Nov 2007, source: synthetic demo data"
    )
    assert view.state.query() == (
        "?unit=cheshire/eastern&measure=crime_robbery&preset=custom&from=2007-05-15&to=2007-11-20&grain=week"
    )


# -- sources, coverage and the cache, on a small hand-built warehouse ----------------------------


def test_one_source_per_force_missing_months_are_gaps_and_the_cache_follows_versions(tmp_path: Path) -> None:
    link = tmp_path / "warehouse.duckdb"
    jan, feb, mar = date(2019, 1, 1), date(2019, 2, 1), date(2019, 3, 1)
    publish(
        link,
        {
            "dim_unit": [unit_row("cheshire", '=HYPERLINK("http://x")')],
            "lake_manifest": [manifest_row("police_uk", "cheshire", m) for m in (jan, feb, mar)]
            + [manifest_row("demo", "cheshire", m) for m in (jan, mar)],
            "month_status": [status_row("police_uk", "cheshire", m) for m in (jan, feb, mar)]
            + [status_row("demo", "cheshire", jan), status_row("demo", "cheshire", mar, suspect=True)],
            "cube_crime_month": [cube_row("police_uk", "cheshire", m, 100) for m in (jan, feb, mar)]
            + [cube_row("demo", "cheshire", jan, 7)],
        },
    )
    data = DataAccess(WarehouseReader(link))
    try:
        assert data.source_for("cheshire").source == "demo"  # preferred over police.uk
        got = data.series("crime_burglary", "cheshire", jan, date(2019, 3, 31), "month")
        assert got["numerator"].tolist()[0] == 7.0
        assert math.isnan(got["numerator"].tolist()[1]) and got["missing"].tolist() == [False, True, False]
        assert got["numerator"].tolist()[2] == 0.0 and got["suspect"].tolist() == [False, False, True]
        before = data.misses
        data.series("crime_burglary", "cheshire", jan, date(2019, 3, 31), "month")
        assert data.misses == before and data.hits > 0
        publish(
            link,
            {
                "dim_unit": [unit_row("cheshire", "Cheshire")],
                "lake_manifest": [manifest_row("police_uk", "cheshire", m) for m in (jan, feb, mar)],
                "month_status": [status_row("police_uk", "cheshire", m) for m in (jan, feb, mar)],
                "cube_crime_month": [cube_row("police_uk", "cheshire", m, 100) for m in (jan, feb, mar)],
            },
        )
        again = data.series("crime_burglary", "cheshire", jan, date(2019, 3, 31), "month")
        assert again["numerator"].tolist() == [100.0, 100.0, 100.0]  # the new version, not the cache
        assert data.source_for("cheshire").source == "police_uk"
    finally:
        data.reader.close()



