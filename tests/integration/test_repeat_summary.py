"""DataAccess.repeat_summary (fastui7): what the concentration card reads of the map points (four
totals and the top repeat points) equals what it derived from every point (`repeat_locations`,
`concentration.repeats`, the first ten points with 2+ crimes), on the warehouse the real loader
builds from a small street file (repeat points present): custom ranges, which read the totals
only, and a stored period; a role that may not see records gets no point listed."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from pandas.testing import assert_frame_equal

from dashboard.analysis import concentration
from dashboard.data.access import Actor, Grant
from dashboard.data.facade import DataAccess
from dashboard.data.warehouse import WarehouseReader
from tests.conftest import build_once
from tests.support import place

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Path]]:
    return build_once(tmp_path_factory, "place-tiny", lambda folder: place.build(REPO, folder))


@pytest.fixture
def data(built: tuple[Path, list[Path]]) -> DataAccess:
    d = DataAccess(WarehouseReader(built[0]))
    d.store.enabled = False   # the module's shared warehouse is not written beside
    return d


@pytest.mark.parametrize("unit_id", ["cheshire", "cheshire/northern"])
@pytest.mark.parametrize("start, end", [
    (date(2018, 12, 1), date(2019, 2, 28)),   # a custom range over both months of data
    (date(2019, 1, 9), date(2019, 1, 20)),    # read as its whole month (a monthly source)
    (date(2019, 2, 1), date(2019, 2, 28)),    # the latest month: a preset period, the stored frame's way
])
@pytest.mark.parametrize("top", [10, 2])
def test_repeat_summary_equals_what_every_point_gives(data: DataAccess, unit_id: str, start: date, end: date,
                                                      top: int) -> None:
    chief = Actor("chief", (Grant("chief_officer", "cheshire"),))
    with data.request(chief):
        points = data.repeat_locations(unit_id, start, end)
        want = concentration.repeats(points["crimes"]) if len(points) else concentration.repeats([])
        data.clear_cache()
        period = data._place_cell(unit_id, "total_crime", start, end)[2]
        stored = data._place_stored(data.unit(unit_id), period)
        assert stored == (start == date(2019, 2, 1))   # both ways are read
        totals, first = data.repeat_summary(unit_id, start, end, at_least=2, top=top)
        assert concentration.Repeats(*totals) == want
        assert want.repeat_locations > 0   # the file has repeat points: the top is really read
        assert first is not None
        assert_frame_equal(first, points[points["crimes"] >= 2].head(top), check_exact=True)
    member = Actor("member", (Grant("police_authority"),))
    with data.request(member):
        totals, first = data.repeat_summary(unit_id, start, end, at_least=2, top=top)
        assert concentration.Repeats(*totals) == want and first is None
