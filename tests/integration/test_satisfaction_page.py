"""The Satisfaction page: its numbers are the assessment's and agree with a count of the demo
survey's respondents; the too-few-responses rule; the chart titles name the weakest."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from dashboard import state as url_state
from dashboard.analysis import assessment
from dashboard.app import render
from dashboard.data.facade import DataAccess
from dashboard.data.model import View
from dashboard.data.warehouse import WarehouseReader
from dashboard.pages import NAV
from dashboard.pages import satisfaction as page

BCU = "cheshire/northern"
NPU = "cheshire/northern/widnes"


@pytest.fixture(scope="module")
def data(demo_link: Path) -> DataAccess:
    access = DataAccess(WarehouseReader(demo_link))
    yield access
    access.reader.close()


@pytest.fixture(scope="module")
def respondents(demo_link: Path) -> pd.DataFrame:
    """The demo survey's respondents, read from the lake's files (not through the cubes)."""
    lake = demo_link.parent / (demo_link.stem + ".lake") / "satisfaction"
    files = sorted(lake.rglob("*.parquet"))
    assert files
    return pd.concat([pd.read_parquet(f) for f in files], ignore_index=True)


def view_of(data: DataAccess, search: str) -> View:
    view = data.resolve(url_state.parse(search))
    assert view is not None
    return view


def test_page_is_in_nav_and_renders(data: DataAccess) -> None:
    assert ("Satisfaction", "/satisfaction", page) in NAV
    out = repr(render("/satisfaction", f"?unit={BCU}", data))
    assert "Coming soon" not in out
    for words in ("Kept informed", "Whole experience", "Anti-social behaviour", "95% interval (Wilson)",
                  "Respondents", "quarterly basis", "satisfaction-questions-table"):
        assert words in out, words


def test_questions_are_the_assessment_and_the_respondents(data: DataAccess,
                                                          respondents: pd.DataFrame) -> None:
    view = view_of(data, f"?unit={BCU}")
    df = page.process_questions(data, view).set_index("measure_id")
    p = view.period
    want = assessment.assess(data, BCU, p.start, p.end,
                             measure_ids=list(page.QUESTIONS)).set_index("measure_id")
    assert list(df.index) == list(page.QUESTIONS)
    month = pd.to_datetime(respondents["month"]).dt.date
    mine = respondents[respondents["npu_id"].astype(str).str.startswith(BCU + "/")
                       & (month >= p.start) & (month <= p.end)]
    for mid in page.QUESTIONS:
        for col in ("value", "lower", "upper", "numerator", "denominator", "verdict", "peer_text"):
            a, b = df.at[mid, col], want.at[mid, col]
            assert a == b or (pd.isna(a) and pd.isna(b)), (mid, col)
        q = mid.removeprefix("satisfaction_")
        answered = mine[q].dropna()
        assert df.at[mid, "respondents"] == len(answered)
        assert df.at[mid, "numerator"] == int((answered <= 3).sum())
        assert df.at[mid, "value"] == pytest.approx(100 * (answered <= 3).mean())
        assert df.at[mid, "lower"] <= df.at[mid, "value"] <= df.at[mid, "upper"]
        assert df.at[mid, "satisfied_text"] == f"{df.at[mid, 'value']:.1f}%"
    # incident types: the whole experience of each type's respondents
    types = page.process_types(data, view).set_index("measure_id")
    for mid in page.INCIDENT_TYPES:
        kind = mid.removeprefix("satisfaction_whole_experience_")
        answered = mine.loc[mine["incident_type"] == kind, "whole_experience"].dropna()
        assert types.at[mid, "respondents"] == len(answered), mid


def test_weakest_question_title_names_the_lowest(data: DataAccess) -> None:
    for unit in ("cheshire", BCU, NPU):
        df = page.process_questions(data, view_of(data, f"?unit={unit}"))
        drivers = df[(df["measure_id"] != page.WHOLE) & df["enough"]]
        low = drivers.loc[drivers["value"].idxmin()]
        title = page.weakest_title(df)
        whole = float(df.loc[df["measure_id"] == page.WHOLE, "value"].iloc[0])
        assert title == (f"{low['item']} is the weakest question: {low['value']:.0f}% against "
                         f"{whole:.0f}% for the whole experience"), unit
        fig = page.create_dots(df, view_of(data, f"?unit={unit}"), title, "x", whole, "Whole experience")
        assert title in fig["layout"]["title"]["text"].replace("<br>", " ")
        assert "data to" in fig["layout"]["title"]["text"]


def test_too_few_responses_is_said_not_judged(data: DataAccess) -> None:
    view = view_of(data, f"?unit={NPU}")
    types = page.process_types(data, view)
    few = types[types["respondents"] < page.MIN_RESPONDENTS]
    assert not few.empty   # an NPU's racist-incident respondents are few in the demo
    for r in few.itertuples():
        n, least = r.respondents, page.MIN_RESPONDENTS
        assert r.satisfied_text == f"too few responses (n = {n}; at least {least} needed)"
        assert r.interval_text == "" and not r.enough
    enough = types[types["respondents"] >= page.MIN_RESPONDENTS]
    assert enough["satisfied_text"].str.endswith("%").all()
    out = repr(page.create_table(types, view, "Incident type", "t"))
    assert "too few responses (n = " in out and "not judged" in out
    # the chart draws no dot for them, and its title names only a judged type
    fig = page.create_dots(types, view, page.types_title(types), "x")
    drawn = [y for t in fig["data"] if t.get("name") for y in t["y"]]
    assert not any("too few" in y for y in drawn)
    assert page.too_few_text(23) == "too few responses (n = 23; at least 50 needed)"


def test_children_are_their_assessments(data: DataAccess) -> None:
    view = view_of(data, f"?unit={BCU}")
    kids = page.process_children(data, view)
    p = view.period
    ids = sorted(u.unit_id for u in data.children(BCU))
    assert sorted(kids["unit_id"]) == ids
    want = assessment.assess_many(data, ids, p.start, p.end, measure_ids=[page.WHOLE]).set_index("unit_id")
    for r in kids.itertuples():
        assert r.value == want.at[r.unit_id, "value"] and r.verdict == want.at[r.unit_id, "verdict"]
    low = kids.loc[kids["value"].idxmin(), "item"]
    assert page.children_title(kids, view, 75.0).startswith(f"{low} has the lowest")


def test_trend_follows_the_grain(data: DataAccess) -> None:
    quarterly = view_of(data, f"?unit={BCU}&grain=quarter")
    q = page.process_trend(data, quarterly)
    assert set(q["grain"]) == {"quarter"} and len(q) == 4
    p = quarterly.period
    series = data.series(page.WHOLE, BCU, p.start, p.end, "quarter")
    assert list(q["value"]) == list(series["value"])
    monthly = page.process_trend(data, view_of(data, f"?unit={BCU}&grain=month"))
    assert set(monthly["grain"]) == {"month"} and len(monthly) == 12
    # an NPU's months hold too few respondents: quarters instead, and the subtitle says why
    npu_view = view_of(data, f"?unit={NPU}&grain=month")
    npu = page.process_trend(data, npu_view)
    assert set(npu["grain"]) == {"quarter"}
    fig = page.create_trend(npu, npu_view)
    assert "as months hold fewer than 50 respondents" in fig["layout"]["title"]["text"]
    assert page.trend_title(q).startswith("Whole-experience satisfaction ")


def test_exports_are_the_drawn_rows(data: DataAccess) -> None:
    view = view_of(data, f"?unit={BCU}")
    frame, stem = page.export_children(data, view)
    assert stem == "satisfaction-by-unit"
    assert list(frame["role"]) == ["reference"] + ["unit below"] * len(data.children(BCU))
    assert frame["unit_id"].iloc[0] == BCU
    questions, _ = page.export_questions(data, view)
    assert list(questions["measure_id"]) == list(page.QUESTIONS)


def test_last_year_is_the_survey_of_the_same_period_last_year(data: DataAccess,
                                                              respondents: pd.DataFrame) -> None:
    """The demo's survey covers its first year from its first day, so this financial year is
    compared with the last one (issue 14, item 1: "against ... last year"), with its test; the
    expected shares are counted here from the lake's respondents."""
    first_month = pd.to_datetime(respondents["month"]).min().date()
    # the dashboard compares with last year only when every day of it is loaded
    assert pd.to_datetime(respondents["interview_date"]).min().date() == first_month
    view = view_of(data, f"?unit={NPU}&preset=fytd")
    p = view.period
    start, end = p.start.replace(year=p.start.year - 1), p.end.replace(year=p.end.year - 1)
    assert start >= first_month
    day = pd.to_datetime(respondents["interview_date"]).dt.date
    before = respondents[(respondents["npu_id"].astype(str) == NPU) & (day >= start) & (day <= end)]
    df = page.process_questions(data, view).set_index("measure_id")
    for mid in page.QUESTIONS:
        answered = before[mid.removeprefix("satisfaction_")].dropna()
        assert len(answered) >= page.MIN_RESPONDENTS, mid
        assert df.at[mid, "previous"] == pytest.approx(100 * (answered <= 3).mean()), mid
        assert df.at[mid, "previous_text"] == f"{100 * (answered <= 3).mean():.1f}%"
        assert "p = " in df.at[mid, "change_text"], (mid, df.at[mid, "change_text"])
    drawn = repr(page.layout(data, view))
    assert "no data for the same period last year" not in drawn
    # the incident types too, but anti-social behaviour: surveyed from April 2007 only (HMIC L675)
    types = page.process_types(data, view).set_index("measure_id")
    for mid in page.INCIDENT_TYPES:
        kind = mid.removeprefix("satisfaction_whole_experience_")
        answered = before.loc[before["incident_type"] == kind, "whole_experience"].dropna()
        if kind == "asb":
            assert answered.empty and pd.isna(types.at[mid, "previous"])
            continue
        assert types.at[mid, "previous"] == pytest.approx(100 * (answered <= 3).mean()), mid
