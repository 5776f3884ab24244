"""Rows read column by column (session 12, fastui8): the API's JSON rows, the scorecard table's
rows and the ranking's added columns, each against what the pandas call it replaced gives, with
the expected cells written out by hand."""

from __future__ import annotations

import math
from datetime import date

import numpy as np
import pandas as pd

from dashboard.analysis import ranking, stats
from dashboard.api import _rows
from dashboard.pages.scorecard import _records
from etl.measures.registry import MEASURES


def _frame() -> pd.DataFrame:
    return pd.DataFrame({
        "period_start": [date(2024, 4, 1), date(2024, 5, 1)],
        "label": ["Apr 2024", None],
        "days": np.array([30, 31], dtype="int64"),
        "value": [1.5, math.nan],
        "partial": [False, True],
        "when": pd.to_datetime(["2024-04-30", None]),
        "n": pd.array([3, None], dtype="Int64"),
    })


def test_api_rows_are_json_safe_cells_in_column_order() -> None:
    got = _rows(_frame())
    assert got == [
        {"period_start": "2024-04-01", "label": "Apr 2024", "days": 30, "value": 1.5, "partial": False,
         "when": "2024-04-30", "n": 3},
        # a missing datetime is null, like every other missing cell (it was the text "NaT"
        # until session 13: NaT is a datetime whose isoformat() says so)
        {"period_start": "2024-05-01", "label": None, "days": 31, "value": None, "partial": True,
         "when": None, "n": None},
    ]
    assert [list(r) for r in got] == [list(_frame().columns)] * 2
    assert type(got[0]["days"]) is int and type(got[1]["partial"]) is bool


def test_api_rows_of_an_empty_frame() -> None:
    assert _rows(_frame().iloc[0:0]) == []


def test_scorecard_records_are_the_cells_iterrows_gives() -> None:
    frame = _frame().set_index(pd.Index([7, 3]))
    got = _records(frame)
    assert [i for i, _ in got] == [7, 3]
    first = got[0][1]
    assert first["label"] == "Apr 2024" and first["days"] == 30 and first["value"] == 1.5
    assert first["period_start"] == date(2024, 4, 1) and first["when"] == pd.Timestamp("2024-04-30")
    assert math.isnan(got[1][1]["value"]) and got[1][1]["partial"] is True
    for (i, row), (j, series) in zip(got, frame.iterrows(), strict=True):
        assert i == j and list(row) == list(series.index)
        for k, v in row.items():
            w = series[k]
            assert v is w or v == w or (v != v and w != w) or (v is pd.NA and w is pd.NA), k


def test_ranking_adds_its_columns_once_with_their_dtypes() -> None:
    measure = MEASURES["crime_burglary"]
    rows = []
    for name, k, pop in [("Eastern", 2400, 400_000.0), ("Western", 2300, 300_000.0),
                         ("Northern", 1500, 300_000.0)]:
        lo, hi = stats.poisson_interval(k)
        rows.append({"unit_id": f"f/{name.lower()}", "name": name, "level": "bcu", "population": pop,
                     "numerator": float(k), "denominator": math.nan, "num2": math.nan, "value": float(k),
                     "lower": lo, "upper": hi})
    kids = pd.DataFrame(rows, index=[5, 6, 7])
    parent = pd.Series({"unit_id": "f", "name": "Force", "level": "force", "population": 1_000_000.0,
                        "numerator": 6200.0, "denominator": math.nan, "num2": math.nan, "value": 6200.0,
                        "lower": math.nan, "upper": math.nan})
    before = kids.copy()
    ranked = ranking.rank_against(measure, kids, parent, "the force")
    pd.testing.assert_frame_equal(kids, before)   # the input is not changed
    assert list(ranked.columns) == ["rank", *kids.columns, "rate", "rate_lower", "rate_upper", "position",
                                    "vs_parent", "vs_parent_text", "parent_rate", "per_head"]
    assert list(ranked.index) == [0, 1, 2] and list(ranked["rank"]) == [1, 2, 3]
    assert list(ranked["name"]) == ["Western", "Eastern", "Northern"]
    assert ranked["rate"].dtype == np.float64 and ranked["per_head"].dtype == np.bool_
    assert ranked["parent_rate"].tolist() == [6.2, 6.2, 6.2]
    assert ranked["rate"].tolist()[0] == 2300 / 300_000 * 1000
    # a frame that already has one of the added columns: overwritten, as column assignment does
    again = ranking.rank_against(measure, kids.assign(rate=0.0), parent, "the force")
    assert list(again.columns) == list(ranked.columns[:11]) + ["rate"] + list(ranked.columns[12:])
    assert again["rate"].tolist() == ranked["rate"].tolist()
