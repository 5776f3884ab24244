"""Targets (dashboard/analysis/targets.py): the file is checked row by row; contributory shares add up
exactly; projections use dashboard/analysis/stats.py. The targets on the demo warehouse are in
tests/integration/test_targets.py."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dashboard.analysis import stats
from dashboard.analysis import targets as tg
from dashboard.periods import Period
from etl.errors import InputRefused
from etl.measures.registry import MEASURES

FY = "2007/08"


def write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "targets.csv"
    path.write_text("# a comment line\nunit,measure,period,target,note\n" + body)
    return path


# -- the file --------------------------------------------------------------------------------------------


def test_shipped_targets_file_parses() -> None:
    rows = tg.parse_targets()
    assert rows and all(r.unit_id == "cheshire" for r in rows)
    by = {(r.measure_id, r.quarter): r for r in rows}
    assert (
        by[("total_crime", None)].rule == "pct_better_than_last_year"
        and by[("total_crime", None)].rule_arg == 5
    )
    assert by[("crime_burglary", None)].rule_arg == 10
    assert by[("sanction_detection_rate", None)].value == 27
    assert {q for (m, q) in by if m == "satisfaction_whole_experience"} == {1, 2, 3, 4}


def test_good_rows(tmp_path: Path) -> None:
    rows = tg.parse_targets(write(tmp_path, "cheshire,total_crime,2007/08,70000,plan\n"
                                            "cheshire/northern,crime_burglary,2007/08 Q2,\"1,500\",\n"
                                            "cheshire,sanction_detection_rate,2007/08,27%,\n"))
    assert [(r.value, r.quarter, r.line) for r in rows] == [
        (70000.0, None, 3),
        (1500.0, 2, 4),
        (27.0, None, 5),
    ]
    assert rows[1].period == Period(date(2007, 7, 1), date(2007, 9, 30))


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ("cheshire,no_such_measure,2007/08,5\n", "unknown measure"),
        ("cheshire,total_crime,2007-08,5\n", "not a financial year"),
        ("cheshire,total_crime,2007/09,5\n", "must follow each other"),
        ("cheshire,total_crime,2007/08 Q5,5\n", "not a financial year"),
        ("cheshire,total_crime,2007/08,lots\n", "neither a number nor a rule"),
        ("cheshire,total_crime,2007/08,-5\n", "must be a number >= 0"),
        ("cheshire,sanction_detection_rate,2007/08,127\n", "above 100"),
        ("cheshire,total_crime,2007/08,msf_average\n", "give a quarter"),
        ("cheshire,total_crime,2007/08,pct_better_than_last_year:150\n", "100% or more"),
        ("cheshire,total_crime,2007/08,pct_better_than_last_year\n", "write the rule as"),
        ("cheshire,calls_101_answer_time,2007/08,30\n", "takes no target"),
        ("chesh ire,total_crime,2007/08,5\n", "not a unit id"),
        ("cheshire,total_crime,2007/08,5\ncheshire,total_crime,2007/08,6\n", "a second target"),
    ],
)
def test_bad_rows_refuse_the_file_with_line_and_problem(tmp_path: Path, body: str, problem: str) -> None:
    path = write(tmp_path, body)
    with pytest.raises(InputRefused) as err:
        tg.parse_targets(path)
    assert problem in err.value.problem
    assert err.value.line == 2 + body.count("\n")      # the last row, counting the comment and header
    assert str(path) in str(err.value)


def test_missing_file_means_no_targets(tmp_path: Path) -> None:
    assert tg.parse_targets(tmp_path / "none.csv") == []


# -- contributory targets ----------------------------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(total=st.integers(0, 200_000), weights=st.lists(st.floats(0, 1e5, allow_nan=False), min_size=1,
                                                      max_size=20))
def test_largest_remainder_adds_up_exactly(total: int, weights: list[float]) -> None:
    shares = tg.largest_remainder(total, weights)
    assert sum(shares) == total and all(s >= 0 for s in shares)
    w = np.array(weights)
    if w.sum() > 0:
        exact = total * w / w.sum()
        assert all(abs(s - e) < 1 for s, e in zip(shares, exact, strict=True))   # never more than one off


def test_apportion_keeps_explicit_targets_and_shares_the_rest() -> None:
    last = {"a": 100.0, "b": 300.0, "c": 600.0}
    assert tg.apportion(900, last) == {"a": 90, "b": 270, "c": 540}
    out = tg.apportion(900, last, {"c": 500})
    assert out["c"] == 500 and sum(out.values()) == 900 and out == {"a": 100, "b": 300, "c": 500}


def test_review_dates_are_quarterly() -> None:
    assert [d for _, d in tg.review_dates(FY)] == [date(2007, 7, 1), date(2007, 10, 1), date(2008, 1, 1),
                                                   date(2008, 4, 1)]
    assert tg.next_review(date(2007, 8, 15)) == ("Q2 2007/08", date(2007, 10, 1))
    assert tg.next_review(date(2008, 3, 31)) == ("Q4 2007/08", date(2008, 4, 1))


# -- projection and the chance of meeting it --------------------------------------------------------


def test_count_outlook_is_stats_projection() -> None:
    m = MEASURES["crime_burglary"]
    period = tg.fy_period(FY)
    so_far = [550, 560, 540, 530, 600, 610]
    last = [560, 570, 550, 540, 610, 620, 650, 640, 600, 580, 560, 570]
    o = tg.outlook(m, 6500, period, so_far, last_year_num=last)
    proj = stats.project_year_end(so_far, 12, last)
    assert (o.projection, o.lower, o.upper) == (proj.point, proj.lower, proj.upper)
    assert o.probability == pytest.approx(stats.probability_of_meeting(proj, 6500, "down"))
    assert o.status in ("on track", "at risk", "off track") and "chance of meeting" in o.text
    done = tg.outlook(m, 6500, period, last)
    assert done.status == "missed" and done.projection == sum(last)


def test_rate_outlook_narrows_as_the_year_goes_on() -> None:
    m = MEASURES["sanction_detection_rate"]
    period = tg.fy_period(FY)
    k, n = [260] * 12, [1000] * 12
    early = tg.outlook(m, 27.0, period, k[:3], n[:3])
    late = tg.outlook(m, 27.0, period, k[:9], n[:9])
    assert early.projection == pytest.approx(26.0) and late.projection == pytest.approx(26.0)
    assert late.upper - late.lower < early.upper - early.lower
    assert late.probability < early.probability < 0.5
    assert tg.outlook(m, 27.0, period, k, n).status == "missed"
    assert tg.outlook(m, 25.0, period, k, n).status == "met"
    up = tg.outlook(m, 25.0, period, k[:6], n[:6])
    assert up.probability > 0.9 and up.status == "on track"


