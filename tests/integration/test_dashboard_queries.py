"""The query layer and the period logic, against numbers computed independently.

Demo numbers are counted with pandas from `etl.demo.generate()` (the same seed the warehouse
was built from); real numbers are counted from the data.police.uk CSVs with the csv module.
"""

from __future__ import annotations

import math
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pytest
from dashboard_support import demo_facts, demo_link, raw_counts, real_link
from hypothesis import given, settings
from hypothesis import strategies as st

from dashboard import metrics, periods, queries
from dashboard import state as url_state
from dashboard.components.controls import next_href
from dashboard.data import OFFICER_OFF, DataAccess, GrainUnavailable
from dashboard.periods import Period, bucket_label, buckets, preset_period
from dashboard.warehouse import WarehouseReader
from etl.measures import ALL_CRIME, ASB, MEASURES
from etl.warehouse import WarehousePaths, new_version, writer_lock

FY = (date(2007, 4, 1), date(2008, 3, 31))
WIDNES = "cheshire/northern/widnes"


@pytest.fixture(scope="module")
def data() -> DataAccess:
    access = DataAccess(WarehouseReader(demo_link()))
    yield access
    access.reader.close()


@pytest.fixture(scope="module")
def crimes() -> pd.DataFrame:
    c = demo_facts().crimes.copy()
    c["day"] = c["date"].dt.date
    c["bcu_id"] = c["npu_id"].str.rsplit("/", n=1).str[0]
    return c


def _between(c: pd.DataFrame, start: date, end: date) -> pd.DataFrame:
    return c[(c["day"] >= start) & (c["day"] <= end)]


# -- periods -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("preset", "as_of", "start", "end", "label"),
    [
        ("month", date(2008, 3, 31), date(2008, 3, 1), date(2008, 3, 31), "Mar 2008"),
        ("month", date(2008, 3, 15), date(2008, 2, 1), date(2008, 2, 29), "Feb 2008"),
        ("qtd", date(2008, 3, 31), date(2008, 1, 1), date(2008, 3, 31), "Jan 2008 – Mar 2008"),
        ("qtd", date(2007, 5, 9), date(2007, 4, 1), date(2007, 5, 9), "1 Apr 2007 – 9 May 2007"),
        ("fytd", date(2008, 3, 31), date(2007, 4, 1), date(2008, 3, 31), "Apr 2007 – Mar 2008 (FY 2007/08)"),
        (
            "fytd",
            date(2008, 2, 29),
            date(2007, 4, 1),
            date(2008, 2, 29),
            "Apr 2007 – Feb 2008 (FY 2007/08 to date)",
        ),
        ("fytd", date(2008, 4, 1), date(2008, 4, 1), date(2008, 4, 1), "1 Apr 2008 (FY 2008/09 to date)"),
        ("12m", date(2008, 3, 15), date(2007, 3, 1), date(2008, 2, 29), "Mar 2007 – Feb 2008"),
    ],
)
def test_presets(preset: str, as_of: date, start: date, end: date, label: str) -> None:
    p = preset_period(preset, as_of)
    assert (p.start, p.end) == (start, end)
    assert p.label == label


def test_financial_year_and_quarters() -> None:
    assert periods.fy_label(date(2008, 3, 31)) == "2007/08"
    assert periods.fy_label(date(2008, 4, 1)) == "2008/09"
    assert periods.fy_label(date(1999, 6, 1)) == "1999/00"
    assert [bucket_label(date(2007, m, 1), "quarter") for m in (4, 7, 10)] == [
        "Q1 2007/08",
        "Q2 2007/08",
        "Q3 2007/08",
    ]
    assert bucket_label(date(2008, 1, 1), "quarter") == "Q4 2007/08"
    assert bucket_label(date(2007, 4, 1), "fy") == "FY 2007/08"
    assert periods.bucket_start(date(2007, 4, 5), "week") == date(2007, 4, 2)  # a Monday
    assert periods.bucket_start(date(2008, 2, 10), "fy") == date(2007, 4, 1)
    assert Period(date(2008, 3, 1), date(2008, 3, 31)).last_year() == Period(
        date(2007, 3, 1), date(2007, 3, 31)
    )
    leap = Period(date(2008, 2, 1), date(2008, 2, 29)).last_year()
    assert (leap.start, leap.end) == (date(2007, 2, 1), date(2007, 2, 28))
    with pytest.raises(ValueError, match="unknown grain"):
        periods.bucket_start(date(2007, 1, 1), "fortnight")
    with pytest.raises(ValueError, match="YYYY-MM-DD"):
        periods.parse_date("2007-13-01")
    with pytest.raises(ValueError, match="before it starts"):
        Period(date(2008, 1, 2), date(2008, 1, 1))


def test_week_buckets_are_clipped_to_the_period() -> None:
    bs = buckets(Period(date(2007, 4, 1), date(2007, 4, 30)), "week")
    assert bs[0].start == date(2007, 3, 26) and bs[0].first == date(2007, 4, 1) and bs[0].partial
    assert bs[1].first == date(2007, 4, 2) and bs[1].days == 7 and not bs[1].partial
    assert bs[-1].last == date(2007, 4, 30) and bs[-1].partial


@settings(max_examples=150, deadline=None)
@given(
    start=st.dates(min_value=date(2000, 1, 1), max_value=date(2030, 1, 1)),
    length=st.integers(min_value=0, max_value=900),
    grain=st.sampled_from(list(periods.GRAINS)),
)
def test_buckets_partition_any_period(start: date, length: int, grain: str) -> None:
    period = Period(start, start + timedelta(days=length))
    bs = buckets(period, grain)
    assert bs[0].first == period.start and bs[-1].last == period.end
    assert sum(b.days for b in bs) == period.days
    for a, b in zip(bs, bs[1:], strict=False):
        assert b.first == a.last + timedelta(days=1)
        assert periods.bucket_start(b.first, grain) == b.start
    assert all(periods.bucket_start(b.last, grain) == b.start for b in bs)


# -- URL state and the controls ----------------------------------------------------------------


def test_url_state_round_trips_and_keeps_slashes() -> None:
    s = url_state.ViewState(
        unit=WIDNES,
        measure="crime_burglary",
        preset="custom",
        start="2007-05-15",
        end="2007-11-20",
        grain="week",
    )
    q = s.query()
    assert q == (
        "?unit=cheshire/northern/widnes&measure=crime_burglary&preset=custom"
        "&from=2007-05-15&to=2007-11-20&grain=week"
    )
    assert url_state.parse(q) == s
    assert url_state.parse("?from=2007-01-01&to=2007-02-01").preset == "custom"
    assert url_state.parse("?preset=fytd&from=2007-01-01").start is None
    assert url_state.parse("?evil=1&unit=%3Cb%3E").unit == "<b>"
    assert url_state.parse(None) == url_state.ViewState()


def test_controls_change_only_what_the_user_changed() -> None:
    rendered = {
        "unit": "cheshire",
        "measure": "total_crime",
        "preset": "fytd",
        "from": "2007-04-01",
        "to": "2008-03-31",
        "grain": "month",
        "rank": "npu",
        "query": "?unit=cheshire&measure=total_crime&preset=fytd&grain=month&rank=npu",
    }
    same = {k: v for k, v in rendered.items() if k != "query"}
    assert next_href("/drill-down", rendered, same) is None  # re-drawn, nothing changed
    href = next_href("/drill-down", rendered, {**same, "unit": "cheshire/northern"})
    assert href == "/drill-down?unit=cheshire/northern&measure=total_crime&preset=fytd&grain=month"
    href = next_href("/scorecard", rendered, {**same, "from": "2007-06-01"})
    assert href is not None and "preset=custom&from=2007-06-01&to=2008-03-31" in href
    href = next_href("/scorecard", rendered, {**same, "preset": "qtd"})
    assert href is not None and "preset=qtd" in href and "from=" not in href
    assert "grain=week" in (next_href("/x", rendered, {**same, "grain": "week"}) or "")


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


def test_rate_per_1000_uses_the_population_for_the_period(data: DataAccess, crimes: pd.DataFrame) -> None:
    units = demo_facts().units.set_index("unit_id")
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


def test_scorecard_against_the_facts_and_exceptions_first(data: DataAccess, crimes: pd.DataFrame) -> None:
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
    # Exceptions first, for every unit: a 'worse' row never follows a row that is not.
    for unit in ["cheshire", *[u.unit_id for u in data.units_at("cheshire", "npu")]]:
        order = list(data.scorecard(unit, *FY)["verdict"])
        worse = [v == "worse" for v in order]
        assert worse == sorted(worse, reverse=True), (unit, order)


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
    with pytest.raises(PermissionError, match="access control"):
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
    assert view.unit.level == "team" and OFFICER_OFF in view.notes[0]
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


def _publish(link: Path, rows: dict[str, list[tuple]]) -> None:
    paths = WarehousePaths(link)
    with writer_lock(paths), new_version(paths) as con:
        for table in ("dim_unit", "lake_manifest", "month_status", "cube_crime_month"):
            con.execute(f"DELETE FROM {table}")
        for table, values in rows.items():
            for row in values:
                con.execute(f"INSERT INTO {table} VALUES ({', '.join('?' * len(row))})", list(row))


def _unit(uid: str, name: str, pop: int | None = 1000) -> tuple:
    return (uid, "force", None, uid, name, pop, None, None, False, None, None, None)


def _manifest(source: str, force: str, month: date) -> tuple:
    return (
        "crime",
        source,
        force,
        month,
        f"x/{source}-{month}.parquet",
        1,
        "l1",
        "2026-01-01 00:00:00",
        None,
        0,
    )


def _status(source: str, force: str, month: date, suspect: bool = False) -> tuple:
    return (source, force, month, 10, 0, 0, 0, None, suspect, "far below" if suspect else None)


def _cube(source: str, force: str, month: date, n: int) -> tuple:
    return (source, force, force, "force", month, "burglary", n, 0)


def test_one_source_per_force_missing_months_are_gaps_and_the_cache_follows_versions(tmp_path: Path) -> None:
    link = tmp_path / "warehouse.duckdb"
    jan, feb, mar = date(2019, 1, 1), date(2019, 2, 1), date(2019, 3, 1)
    _publish(
        link,
        {
            "dim_unit": [_unit("cheshire", '=HYPERLINK("http://x")')],
            "lake_manifest": [_manifest("police_uk", "cheshire", m) for m in (jan, feb, mar)]
            + [_manifest("demo", "cheshire", m) for m in (jan, mar)],
            "month_status": [_status("police_uk", "cheshire", m) for m in (jan, feb, mar)]
            + [_status("demo", "cheshire", jan), _status("demo", "cheshire", mar, suspect=True)],
            "cube_crime_month": [_cube("police_uk", "cheshire", m, 100) for m in (jan, feb, mar)]
            + [_cube("demo", "cheshire", jan, 7)],
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
        _publish(
            link,
            {
                "dim_unit": [_unit("cheshire", "Cheshire")],
                "lake_manifest": [_manifest("police_uk", "cheshire", m) for m in (jan, feb, mar)],
                "month_status": [_status("police_uk", "cheshire", m) for m in (jan, feb, mar)],
                "cube_crime_month": [_cube("police_uk", "cheshire", m, 100) for m in (jan, feb, mar)],
            },
        )
        again = data.series("crime_burglary", "cheshire", jan, date(2019, 3, 31), "month")
        assert again["numerator"].tolist() == [100.0, 100.0, 100.0]  # the new version, not the cache
        assert data.source_for("cheshire").source == "police_uk"
    finally:
        data.reader.close()


# -- real data.police.uk files, counted with the csv module ----------------------------------------


@pytest.mark.realdata
def test_real_data_matches_the_raw_files(shared_data: Path) -> None:
    raw = raw_counts(shared_data)
    data = DataAccess(WarehouseReader(real_link(shared_data)))
    try:
        forces = sorted({f for f, _, _ in raw})
        assert len(forces) == 9
        start, end = date(2018, 10, 1), date(2019, 2, 28)
        for force in forces:
            total = data.series("total_crime", force, start, end, "month")
            months = [p for p in total["period_start"]]
            want = [
                sum(
                    v
                    for (f, m, k), v in raw.items()
                    if f == force and m == month and k != "Anti-social behaviour"
                )
                for month in months
            ]
            assert total["numerator"].tolist() == [float(w) for w in want], force
            asb = data.series("asb_incidents", force, start, end, "quarter")
            assert asb["numerator"].sum() == sum(
                v for (f, _, k), v in raw.items() if f == force and k == "Anti-social behaviour"
            )
        burglary = data.values("crime_burglary", ("cheshire",), start, end).iloc[0]
        assert burglary["numerator"] == sum(
            v for (f, _, k), v in raw.items() if f == "cheshire" and k == "Burglary"
        )
        # Month-only data: a custom range is widened to whole months, and weeks are refused.
        view = data.resolve(url_state.parse("?unit=cheshire&preset=custom&from=2018-10-10&to=2018-11-05"))
        assert (view.period.start, view.period.end) == (date(2018, 10, 1), date(2018, 11, 30))
        with pytest.raises(GrainUnavailable):
            data.series("total_crime", "cheshire", start, end, "week")
        assert set(ALL_CRIME) & {ASB} == set()
    finally:
        data.reader.close()
