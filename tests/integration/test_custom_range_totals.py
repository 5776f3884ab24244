"""A custom range's totals read its whole months from the month cube and only its edge days from
the day cube (DataAccess._total_rows, cubes.measure_tuples_split; issue 11 item 3): the same
numbers as adding up every day. Expected values are our own SQL sums over the day cube, not the
code under test; the split read is shown to be the one taken, and not taken where it would not
give the same total (a range inside one month, a stock, crime harm)."""

from __future__ import annotations

import math
from datetime import date
from pathlib import Path

import duckdb
import pytest

from dashboard.analysis import kinds, metrics
from dashboard.data.facade import DataAccess
from dashboard.data.queries import cubes
from etl.measures.registry import MEASURES

FORCE = "cheshire"


@pytest.fixture
def data(demo_data: DataAccess) -> DataAccess:
    return demo_data


def _day_sums(link: Path, measure: str, unit: str, first: date, last: date) -> tuple[float, float | None]:
    """sum(num), sum(den) of the unit's day rows over [first, last]: what adding up every day gives."""
    with duckdb.connect(str(link.resolve()), read_only=True) as con:
        num, den = con.execute(
            "SELECT sum(num), sum(den) FROM cube_measure_day WHERE measure_id = ? AND unit_id = ? "
            "AND day BETWEEN ? AND ?", [measure, unit, first, last]).fetchone()
    return (0.0 if num is None else float(num)), (None if den is None else float(den))


Sums = dict[tuple[str, str, date, date], tuple[float, float | None]]


def _every_day_sum(link: Path, units: tuple[str, ...], ranges: list[tuple[date, date]]) -> Sums:
    """`_day_sums` of every measure and of each of `units` over each range, keyed by (measure,
    unit, start, end), from one connection and one grouped query a range (not a connection and a
    scan of the day cube for each of the ~1,000 measure x range x unit sums: most of this file's
    time). A (measure, unit) with no day row in the range is absent: `_day_sums` gives (0.0, None)."""
    out = {}
    marks = ", ".join("?" for _ in units)
    with duckdb.connect(str(link.resolve()), read_only=True) as con:
        for first, last in ranges:
            for measure, unit, num, den in con.execute(
                    f"SELECT measure_id, unit_id, sum(num), sum(den) FROM cube_measure_day WHERE unit_id IN "
                    f"({marks}) AND day BETWEEN ? AND ? GROUP BY measure_id, unit_id",
                    [*units, first, last]).fetchall():
                out[(measure, unit, first, last)] = ((0.0 if num is None else float(num)),
                                                     (None if den is None else float(den)))
    return out


def _day_measures(link: Path) -> list[str]:
    with duckdb.connect(str(link.resolve()), read_only=True) as con:
        rows = con.execute("SELECT DISTINCT measure_id FROM cube_measure_day WHERE force_id = ? ORDER BY 1",
                           [FORCE]).fetchall()
    return [r[0] for r in rows]


def _split_calls(monkeypatch: pytest.MonkeyPatch) -> list[tuple[object, ...]]:
    calls: list[tuple[object, ...]] = []
    real = cubes.measure_tuples_split

    def spy(*args: object) -> list[tuple[object, ...]]:
        calls.append(args)
        return real(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(cubes, "measure_tuples_split", spy)
    return calls


# (start, end): both edges partial; starting on a 1st; ending on a month's last day (a leap
# February); a range inside one month; two partial months and no whole one between them
RANGES = [(date(2007, 5, 9), date(2008, 1, 20)), (date(2007, 4, 1), date(2007, 12, 15)),
          (date(2007, 6, 17), date(2008, 2, 29)), (date(2007, 7, 3), date(2007, 7, 30)),
          (date(2007, 7, 3), date(2007, 8, 30))]


def test_every_flow_measure_totals_as_its_days_add_up(demo_link: Path, data: DataAccess,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    calls = _split_calls(monkeypatch)
    bcus = sorted(u.unit_id for u in data.children(FORCE))
    units = (FORCE, *bcus, sorted(n.unit_id for n in data.children(bcus[0]))[0])
    measures = _day_measures(demo_link)
    assert len(measures) > 40   # the demo's crime, calls, satisfaction, custody... measures
    sums = _every_day_sum(demo_link, units, RANGES)
    checked = 0
    for measure_id in measures:
        m = MEASURES[measure_id]
        for start, end in RANGES:
            data.clear_cache()
            got = data.values(measure_id, units, start, end).set_index("unit_id")
            for uid in units:
                num, den = sums.get((measure_id, uid, start, end), (0.0, None))
                if metrics.aggregate_kind(m) == "sum":
                    want = pytest.approx(num, rel=1e-12, abs=1e-9)
                    assert got.at[uid, "numerator"] == want, (measure_id, uid)
                if (den is not None and kinds.kind(m).denominator not in ("none", "population")
                        and not kinds.denominator_is_stock(m)):
                    assert got.at[uid, "denominator"] == pytest.approx(den, rel=1e-12), (measure_id, uid)
                checked += 1
    assert checked == len(measures) * len(RANGES) * len(units)
    # the split read was the one taken, for flows over a range holding a whole month, only
    split = {(a[3], a[5]) for a in calls}
    assert ("crime_burglary", (date(2007, 6, 1), date(2007, 12, 1))) in split   # May 9 - Jan 20
    assert ("crime_burglary", (date(2007, 4, 1), date(2007, 11, 1))) in split   # Apr 1 - Dec 15
    assert ("crime_burglary", (date(2007, 7, 1), date(2008, 2, 1))) in split    # Jun 17 - Feb 29
    assert not any(a[5][0] > a[5][1] for a in calls)   # no whole month inside: every day read
    assert not {a[3] for a in calls} & {"crime_harm", "stop_search_rr_black_white"}


def test_the_split_reads_only_the_edge_days(demo_link: Path, data: DataAccess) -> None:
    """The rows behind 9 May 2007 - 20 Jan 2008 for the force: its 23 + 20 edge days and 7 whole
    months, and their sum is the day cube's sum."""
    source = data.source_for(FORCE).source   # type: ignore[union-attr]
    with data.cursor() as cur:
        rows = cubes.measure_tuples_split(cur, source, (FORCE,), "total_crime",
                                          (date(2007, 5, 9), date(2007, 5, 31)),
                                          (date(2007, 6, 1), date(2007, 12, 1)),
                                          (date(2008, 1, 1), date(2008, 1, 20)))
    months = [r[1] for r in rows if date(2007, 6, 1) <= r[1] <= date(2007, 12, 1)]
    days = [r[1] for r in rows if not date(2007, 6, 1) <= r[1] <= date(2007, 12, 1)]
    assert months == [date(2007, m, 1) for m in range(6, 13)]
    assert len(days) == 23 + 20
    assert math.fsum(r[2] for r in rows) == _day_sums(demo_link, "total_crime", FORCE, date(2007, 5, 9),
                                                      date(2008, 1, 20))[0]
