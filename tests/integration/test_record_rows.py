"""drilldown.record_rows (fastui7): a page of the drill-through table as the rows the grid
receives, built from lists, equals `shape_records(...).to_dict("records")` (pandas' labels,
dates and missing values, which the CSV export keeps) cell for cell, on the demo's records:
the force, a BCU and an NPU, several measures, sort orders and pages, and an empty page."""

from __future__ import annotations

from datetime import date

import pytest

from dashboard.data.facade import DataAccess
from dashboard.pages import drilldown

START, END = date(2007, 4, 1), date(2008, 3, 31)


@pytest.mark.parametrize("unit", ["cheshire", "cheshire/eastern", "cheshire/eastern/congleton"])
@pytest.mark.parametrize("measure", ["total_crime", "sanction_detection_rate", "crime_burglary"])
def test_record_rows_equal_the_shaped_frame(demo_data: DataAccess, unit: str, measure: str) -> None:
    seen_sanction = set()
    for order_by, descending, offset in (("date", False, 0), ("category", True, 300), ("npu_id", False, 50),
                                         ("date", False, 10**6)):
        frame = demo_data.records(measure, unit, START, END, offset=offset, limit=100, order_by=order_by,
                                  descending=descending)
        want = drilldown.shape_records(demo_data, frame).to_dict("records")
        got = drilldown.record_rows(demo_data, frame)
        assert got == want
        # the same Python types too (JSON would not tell "1" from 1)
        assert [[type(v) for v in r.values()] for r in got] == [[type(v) for v in r.values()] for r in want]
        assert all(list(r) == list(w) for r, w in zip(got, want, strict=True))
        seen_sanction |= {r["sanction"] for r in got}
        if offset == 10**6:
            assert got == []
        else:
            assert len(got) == 100
    assert seen_sanction == {"Yes", "No"}
