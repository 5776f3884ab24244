"""DataAccess.records (fastui7): a page in the default order of a monthly source reads only the
files of the months its rows lie in, the months before it skipped by their counts in the crime
cube. The rows served equal the page read from every file of the period, at every offset
around the months' boundary, on the warehouse the real loader builds from two months of a
data.police.uk street file (the expected page is read here with facts.records over all files)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from dashboard.data.access import Actor, Grant
from dashboard.data.facade import DataAccess
from dashboard.data.queries import facts
from dashboard.data.warehouse import WarehouseReader
from dashboard.pages import drilldown
from etl.measures.registry import MEASURES
from tests.conftest import build_once
from tests.support import place

REPO = Path(__file__).resolve().parents[2]
START, END = date(2018, 12, 1), date(2019, 2, 28)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Path]]:
    return build_once(tmp_path_factory, "place-tiny", lambda folder: place.build(REPO, folder))


@pytest.mark.parametrize("unit_id", ["cheshire", "cheshire/northern"])
@pytest.mark.parametrize("measure", ["total_crime", "crime_burglary"])
def test_a_deep_page_equals_the_page_read_from_every_file(built: tuple[Path, list[Path]], unit_id: str,
                                                          measure: str) -> None:
    data = DataAccess(WarehouseReader(built[0]))
    data.store.enabled = False
    with data.request(Actor("chief", (Grant("chief_officer", "cheshire"),))):
        unit, source, period, time, lo, hi = data._cell(measure, unit_id, START, END)
        assert time == "month"
        crime, outcome = data._cell_files(unit, source, period)
        assert len(crime) == 2   # January and February 2019
        total = data.record_count(measure, unit_id, START, END)
        january = data.record_count(measure, unit_id, date(2019, 1, 1), date(2019, 1, 31))
        assert 0 < january < total   # the boundary: offsets around it skip January or not
        offsets = {0, 1, january - 7, january - 1, january, january + 1, total - 3, total, total + 10}
        for offset in sorted(offsets):
            got = data.records(measure, unit_id, START, END, offset=offset, limit=20, order_by="month")
            with data.cursor() as cur:
                want = facts.records(cur, crime, outcome, unit.level, unit.unit_id,
                                     MEASURES[measure].categories, lo, hi, columns=data.record_columns(),
                                     time=time, limit=20, offset=offset, order_by="month")
            assert drilldown.record_rows(data, got) == drilldown.record_rows(data, want)
            assert len(got) == max(0, min(20, total - offset))
    data.reader.close()
