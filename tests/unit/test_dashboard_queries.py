"""Periods, buckets, URL state and the controls: pure functions, no warehouse. The query layer on
the demo warehouse is in tests/integration/test_dashboard_queries.py, on the real data in
tests/realdata/test_dashboard_queries.py."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dashboard import periods
from dashboard import state as url_state
from dashboard.components.controls import next_href
from dashboard.periods import Period, bucket_label, buckets, preset_period

WIDNES = "cheshire/northern/widnes"


@pytest.mark.parametrize(
    ("preset", "as_of", "start", "end", "label"),
    [
        ("month", date(2008, 3, 31), date(2008, 3, 1), date(2008, 3, 31), "Mar 2008"),
        ("month", date(2008, 3, 15), date(2008, 2, 1), date(2008, 2, 29), "Feb 2008"),
        ("qtd", date(2008, 3, 31), date(2008, 1, 1), date(2008, 3, 31), "Q4 2007/08"),
        ("qtd", date(2007, 5, 9), date(2007, 4, 1), date(2007, 5, 9),
         "1 Apr 2007 – 9 May 2007 (Q1 2007/08 to date)"),
        ("qtd", date(2008, 2, 29), date(2008, 1, 1), date(2008, 2, 29),
         "Jan 2008 – Feb 2008 (Q4 2007/08 to date)"),
        ("fytd", date(2008, 3, 31), date(2007, 4, 1), date(2008, 3, 31), "2007/08"),
        (
            "fytd",
            date(2008, 2, 29),
            date(2007, 4, 1),
            date(2008, 2, 29),
            "Apr 2007 – Feb 2008 (FY 2007/08 to date)",
        ),
        ("fytd", date(2008, 4, 1), date(2008, 4, 1), date(2008, 4, 1), "1 Apr 2008 (FY 2008/09 to date)"),
        ("12m", date(2008, 3, 15), date(2007, 3, 1), date(2008, 2, 29), "Mar 2007 – Feb 2008"),
        ("12m", date(2008, 3, 31), date(2007, 4, 1), date(2008, 3, 31), "2007/08"),
    ],
)
def test_presets(preset: str, as_of: date, start: date, end: date, label: str) -> None:
    p = preset_period(preset, as_of)
    assert (p.start, p.end) == (start, end)
    assert p.label == label


def test_labels_name_quarters_and_financial_years() -> None:
    assert Period(date(2007, 10, 1), date(2007, 12, 31)).label == "Q3 2007/08"
    assert Period(date(2008, 1, 1), date(2008, 3, 31)).label == "Q4 2007/08"
    assert Period(date(2005, 4, 1), date(2006, 3, 31)).label == "2005/06"
    # a calendar year is not a financial year, and two quarters are not one
    assert Period(date(2007, 1, 1), date(2007, 12, 31)).label == "Jan 2007 – Dec 2007"
    assert Period(date(2007, 4, 1), date(2007, 9, 30)).label == "Apr 2007 – Sep 2007"


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
