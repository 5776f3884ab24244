"""DataAccess.read_ahead (fastui6): the cube rows a page announces come in one query, and
every read it covers answers exactly what it answers without it (values, series by month and
by day, last year's too), on the demo warehouse; reads it does not cover still query."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from dashboard.data import facade
from dashboard.data.facade import DataAccess
from dashboard.periods import month_end

FORCE = "cheshire"


@pytest.fixture
def data(demo_data: DataAccess) -> DataAccess:
    return demo_data


def _reads(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, ...]]:
    """Every cube read of measure rows (cubes.measure_tuples) from here on: its unit ids."""
    seen: list[tuple[str, ...]] = []
    real = facade.cubes.measure_tuples

    def counting(cur, source, unit_ids, *args):  # noqa: ANN001, ANN202 - a pass-through
        seen.append(tuple(unit_ids))
        return real(cur, source, unit_ids, *args)

    monkeypatch.setattr(facade.cubes, "measure_tuples", counting)
    return seen


def _page_reads(data: DataAccess, measure: str, unit: str, parent: str, children: tuple[str, ...],
                start: date, end: date, last_start: date, last_end: date
                ) -> list[pd.DataFrame]:
    """What the drill-down reads: the children's values with the unit, the trend by month of
    the unit and its parent, last year's trend and value, and a day trend."""
    return [
        data.values(measure, (*children, unit), start, end),
        *data.series_many(measure, (unit, parent), start, end, "month").values(),
        data.series(measure, unit, last_start, last_end, "month"),
        data.values(measure, (unit,), last_start, last_end),
        data.series(measure, unit, start, end, "day"),
        data.series(measure, unit, last_start, last_end, "week"),
    ]


@pytest.mark.parametrize("measure", ["total_crime", "sanction_detection_rate", "crime_per_1000"])
def test_covered_reads_answer_the_same_in_one_query(data: DataAccess, monkeypatch: pytest.MonkeyPatch,
                                                    measure: str) -> None:
    bcu = sorted(u.unit_id for u in data.children(FORCE))[0]
    npus = tuple(sorted(u.unit_id for u in data.children(bcu)))
    last = max(data.source_for(FORCE).months)   # type: ignore[union-attr]
    start, end = date(last.year - 1, last.month, 1), month_end(last)
    last_start, last_end = date(start.year - 1, start.month, 1), date(end.year - 1, end.month, end.day)
    args = (data, measure, bcu, FORCE, npus, start, end, last_start, last_end)
    reads = _reads(monkeypatch)
    without = _page_reads(*args)
    assert len(reads) == 6   # one query per read without it (no two of them share a cache key)
    data.clear_cache()
    reads.clear()
    with data.read_ahead(measure, (bcu, FORCE, *npus), last_start, end, "month"), \
            data.read_ahead(measure, (bcu, FORCE), last_start, end, "day"):
        within = _page_reads(*args)
    # one read by month (values, the trends by month and last year's value) and one by day
    # (the day and week trends), each of every unit announced
    assert sorted(reads) == sorted([tuple(sorted((bcu, FORCE, *npus))), tuple(sorted((bcu, FORCE)))])
    for a, b in zip(without, within, strict=True):
        pd.testing.assert_frame_equal(a, b, check_exact=True)


def test_reads_it_does_not_cover_still_query(data: DataAccess, monkeypatch: pytest.MonkeyPatch) -> None:
    bcus = sorted(u.unit_id for u in data.children(FORCE))
    last = max(data.source_for(FORCE).months)   # type: ignore[union-attr]
    start, end = date(last.year - 1, last.month, 1), month_end(last)
    reads = _reads(monkeypatch)
    with data.read_ahead("total_crime", (FORCE,), start, end, "month"):
        data.values("total_crime", (FORCE,), start, end)              # covered: the read ahead
        data.values("total_crime", (bcus[0],), start, end)            # another unit
        data.values("crime_burglary", (FORCE,), start, end)           # another measure
        data.values("total_crime", (bcus[1],), date(start.year - 2, 4, 1), end)   # and span
    assert reads == [(FORCE,), (bcus[0],), (FORCE,), (bcus[1],)]
    # outside, nothing is announced: a read queries as before
    data.clear_cache()
    data.values("total_crime", (FORCE,), start, end)
    assert reads[-1] == (FORCE,) and len(reads) == 5
