"""The pure parts of the one assessment: a target restated for the row's own period, Making
Data Count's assurance, and how a police paper names a period. Expected values are worked by
hand in the comments, not taken from the code."""

from __future__ import annotations

import math
from datetime import date

import numpy as np
import pandas as pd
import pytest

from dashboard.analysis import assessment as a
from dashboard.analysis import exception_scan as ew
from dashboard.periods import Period, add_months
from etl.measures.registry import MEASURES

FY = Period(date(2007, 4, 1), date(2008, 3, 31))


def _targets(kind: str, annual: float | None = None,
             quarters: dict[int, float] | None = None) -> pd.DataFrame:
    rows = []
    if annual is not None:
        rows.append({"quarter": math.nan, "target": annual, "kind": kind, "how": "file",
                     "period_start": FY.start, "period_end": FY.end})
    for q, t in (quarters or {}).items():
        rows.append({"quarter": q, "target": t, "kind": kind, "how": f"Q{q}",
                     "period_start": FY.start, "period_end": FY.end})
    return pd.DataFrame(rows)


BURGLARY = MEASURES["crime_burglary"]
SATISFACTION = MEASURES["satisfaction_whole_experience"]


def test_a_year_count_target_for_one_month_is_its_share_of_last_year() -> None:
    # last year: 100 a month except March 2007 with 200 -> 1,300 in the year; March's share is
    # 200 / 1,300, so March 2008's part of a 6,500 target is 6,500 x 200 / 1,300 = 1,000.
    last = {add_months(date(2006, 4, 1), i): 100.0 for i in range(12)}
    last[date(2007, 3, 1)] = 200.0
    march = Period(date(2008, 3, 1), date(2008, 3, 31))
    pt = a.period_target(BURGLARY, march, _targets("count", annual=6500.0), last)
    assert pt is not None
    assert pt.value == pytest.approx(1000.0)
    assert pt.period == "March 2008"
    assert "last year's months" in pt.basis


def test_without_last_year_a_count_target_is_pro_rated_by_days() -> None:
    # April to September 2007 is 183 of the year's 366 days (2008 is a leap year): 366 x 183/366
    q12 = Period(date(2007, 4, 1), date(2007, 9, 30))
    pt = a.period_target(BURGLARY, q12, _targets("count", annual=366.0), None)
    assert pt is not None and pt.value == pytest.approx(183.0)
    assert "pro-rated by days" in pt.basis
    assert pt.period == "Apr–Sep 2007"


def test_the_whole_year_gets_the_whole_target() -> None:
    pt = a.period_target(BURGLARY, FY, _targets("count", annual=6055.0), None)
    assert pt is not None and pt.value == 6055.0 and pt.period == "2007/08"
    assert pt.basis == "the target for the whole period"


def test_a_rate_target_for_part_of_a_year_is_the_months_average_of_its_quarters() -> None:
    # Apr-Nov: Q1 (3 months) 80, Q2 (3) 81, Q3 (Oct, Nov: 2) 84 -> (240 + 243 + 168) / 8 = 81.375
    ytd = Period(date(2007, 4, 1), date(2007, 11, 30))
    pt = a.period_target(SATISFACTION, ytd, _targets("rate", quarters={1: 80.0, 2: 81.0, 3: 84.0, 4: 90.0}))
    assert pt is not None and pt.value == pytest.approx(81.375)
    assert pt.period == "Apr–Nov 2007"
    q4 = Period(date(2008, 1, 1), date(2008, 3, 31))
    only = a.period_target(SATISFACTION, q4, _targets("rate", quarters={1: 80.0, 2: 81.0, 3: 84.0, 4: 90.0}))
    assert only is not None and only.value == 90.0 and only.period == "Q4 2007/08"


def test_a_period_across_two_financial_years_has_no_target() -> None:
    across = Period(date(2007, 10, 1), date(2008, 9, 30))
    assert a.period_target(BURGLARY, across, _targets("count", annual=100.0)) is None


@pytest.mark.parametrize(("period", "words"), [
    (FY, "2007/08"),
    (Period(date(2008, 1, 1), date(2008, 3, 31)), "Q4 2007/08"),
    (Period(date(2007, 4, 1), date(2007, 6, 30)), "Q1 2007/08"),
    (Period(date(2007, 5, 1), date(2007, 7, 31)), "May–Jul 2007"),
    (Period(date(2007, 11, 1), date(2008, 2, 29)), "Nov 2007–Feb 2008"),
    (Period(date(2008, 3, 1), date(2008, 3, 31)), "March 2008"),
])
def test_period_words(period: Period, words: str) -> None:
    assert a.period_words(period) == words


def _chart(lcl: float, ucl: float) -> ew.Chart:
    months = [add_months(date(2007, 1, 1), i) for i in range(3)]
    arr = np.array([50.0, 50.0, 50.0])
    return ew.Chart("u", "crime_burglary", months, ["ok"] * 3, [""] * 3, arr, np.full(3, np.nan), arr,
                    arr, np.full(3, lcl), np.full(3, ucl), [], "c", None, False, "common_cause")


@pytest.mark.parametrize(("target", "expected"), [
    (70.0, "consistently passing"),    # burglary (down is good): a target above the upper limit
    (30.0, "consistently failing"),    # ... below the lower limit: the process cannot meet it
    (52.0, "hit and miss"),
])
def test_mdc_assurance_for_a_measure_where_down_is_good(target: float, expected: str) -> None:
    assert a.assurance(BURGLARY, _chart(35.0, 65.0), target) == expected


def test_mdc_assurance_flips_for_a_measure_where_up_is_good() -> None:
    assert a.assurance(SATISFACTION, _chart(35.0, 65.0), 70.0) == "consistently failing"
    assert a.assurance(SATISFACTION, _chart(35.0, 65.0), 30.0) == "consistently passing"
