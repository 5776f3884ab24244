"""Time-axis ticks (dashboard/components/axes.py): police-paper words and no crowding."""

from __future__ import annotations

from datetime import date

import pytest

from dashboard.components import axes
from dashboard.periods import add_months


def _months(first: date, n: int) -> list[date]:
    return [add_months(first, i) for i in range(n)]


def test_words_for_each_grain() -> None:
    assert axes.label(date(2008, 1, 1), "month") == "Jan 2008"
    assert axes.label(date(2007, 4, 1), "quarter") == "Q1 2007/08"
    assert axes.label(date(2008, 1, 1), "quarter") == "Q4 2007/08"
    assert axes.label(date(2007, 4, 1), "fy") == "2007/08"
    assert axes.label(date(2007, 4, 2), "week") == "w/c 2 Apr 2007"
    assert axes.label(date(2007, 4, 2), "day") == "2 Apr 2007"


def test_twelve_months_fit_a_wide_chart_unthinned() -> None:
    t = axes.ticks(_months(date(2007, 4, 1), 12), "month", width_px=1300)
    assert t["ticktext"][0] == "Apr 2007" and len(t["ticktext"]) == 12
    assert t["tickvals"][0] == "2007-04-01" and t["tickmode"] == "array" and t["tickangle"] == 0


@pytest.mark.parametrize("width", [500, 720, 1100, 1366])
@pytest.mark.parametrize(("grain", "starts"), [
    ("month", _months(date(2003, 4, 1), 60)),
    ("quarter", _months(date(2003, 4, 1), 60)[::3]),
    ("fy", [date(y, 4, 1) for y in range(2000, 2008)]),
    ("day", [date(2008, 1, 1).fromordinal(date(2008, 1, 1).toordinal() + i) for i in range(90)]),
])
def test_labels_never_crowd(grain: str, starts: list[date], width: int) -> None:
    t = axes.ticks(starts, grain, width_px=width)
    vals = [date.fromisoformat(v) for v in t["tickvals"]]
    assert vals == sorted(vals) and len(vals) >= 1
    plot = width - axes.MARGIN_PX
    per_point = plot / (len(starts) - 1)
    widest = max(len(x) for x in t["ticktext"]) * axes.CHAR_PX + axes.GAP_PX
    index = {d: i for i, d in enumerate(sorted(starts))}
    kept = [index[v] for v in vals]
    assert all((b - a) * per_point >= widest for a, b in zip(kept, kept[1:], strict=False))


def test_thinned_quarters_keep_q1s_and_months_keep_aprils() -> None:
    quarters = _months(date(2003, 4, 1), 60)[::3]
    t = axes.ticks(quarters, "quarter", width_px=600)
    assert set(x[:2] for x in t["ticktext"]) == {"Q1"}
    months = _months(date(2003, 1, 1), 63)
    t = axes.ticks(months, "month", width_px=700)
    assert all(x.startswith(("Apr", "Oct", "Jan", "Jul")) for x in t["ticktext"])


def test_unknown_grain_and_empty() -> None:
    with pytest.raises(ValueError, match="grain"):
        axes.ticks([date(2008, 1, 1)], "fortnight")
    assert axes.ticks([], "month")["tickvals"] == []
