"""`exports.safe_frame`, cell by cell (fastui6 made it a Python pass over each column's values
and one frame build, in place of pandas' per-column operations): the cells, their column
dtypes and the CSV text are what the pandas version gave, written out here by hand."""

from __future__ import annotations

import math
from datetime import date

import pandas as pd

from dashboard import exports


def _frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "=unit": ["=cmd()", "+1", "plain", None],              # str dtype, one missing
            "text": pd.Series(["-3", "@x", "ok", "\tx"], dtype=object),
            "count": [1, 2, 3, 4],
            "rate": [0.5, math.nan, -1.25, 1e-05],
            "flag": [True, False, True, False],
            "nullable": pd.array([1, None, 3, -4], dtype="Int64"),
            "day": pd.to_datetime(["2007-04-01", "2007-05-01 10:30", None, "2008-03-31"], format="ISO8601"),
            "mixed": pd.Series([date(2007, 4, 1), ["a", "=b"], 1.5, "-x"], dtype=object),
            "float_text": pd.Series(["a", math.nan, "-b", None], dtype=object),
        },
    ).set_axis([10, 11, 12, 13])


def test_text_cells_made_safe_and_missing_empty() -> None:
    out = exports.safe_frame(_frame())
    assert list(out.columns) == ["'=unit", "text", "count", "rate", "flag", "nullable", "day", "mixed",
                                 "float_text"]
    assert list(out["'=unit"]) == ["'=cmd()", "'+1", "plain", ""]
    assert list(out["text"]) == ["'-3", "'@x", "ok", "'\tx"]
    assert list(out["float_text"]) == ["a", "", "'-b", ""]
    # text columns stay object (as pandas' `where` left them), with the frame's index
    assert out["'=unit"].dtype == object and out["text"].dtype == object
    assert list(out.index) == [10, 11, 12, 13]


def test_numbers_booleans_keep_their_type_dates_and_lists_become_text() -> None:
    out = exports.safe_frame(_frame())
    assert out["count"].dtype == "int64" and list(out["count"]) == [1, 2, 3, 4]
    assert out["rate"].dtype == "float64" and math.isnan(out["rate"].iloc[1])
    assert out["flag"].dtype == bool
    assert str(out["nullable"].dtype) == "Int64"
    assert out["nullable"].isna().tolist() == [False, True, False, False]
    assert list(out["day"]) == ["2007-04-01", "2007-05-01 10:30:00", "", "2008-03-31"]
    assert list(out["mixed"]) == ["2007-04-01", "a;=b", 1.5, "'-x"]


def test_csv_text() -> None:
    text = exports.to_csv(_frame())
    assert text.split("\r\n")[:3] == [
        "'=unit,text,count,rate,flag,nullable,day,mixed,float_text",
        "'=cmd(),'-3,1,0.5,True,1,2007-04-01,2007-04-01,a",
        "'+1,'@x,2,,False,,2007-05-01 10:30:00,a;=b,",
    ]


def test_an_empty_frame_keeps_its_safe_header() -> None:
    out = exports.safe_frame(pd.DataFrame({"=a": pd.Series([], dtype=str), "b": pd.Series([], dtype=float)}))
    assert list(out.columns) == ["'=a", "b"] and out.empty
