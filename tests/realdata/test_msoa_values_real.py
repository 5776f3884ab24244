"""Per-MSOA values of real Cheshire's NPUs: for every NPU the MSOAs' crimes add up to the
NPU's own total crime (from the cubes, a different path through the warehouse), and their
residents to the population behind the NPU's rate per 1,000."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from dashboard.data.facade import DataAccess
from dashboard.data.warehouse import WarehouseReader

FIRST, LAST = date(2018, 10, 1), date(2019, 2, 28)


@pytest.fixture(scope="module")
def data(real_link: Path) -> DataAccess:
    return DataAccess(WarehouseReader(real_link))


def test_msoa_values_add_up_to_each_real_cheshire_npu(data: DataAccess) -> None:
    npus = [u.unit_id for u in data.units_at("cheshire", "npu")]
    assert len(npus) == 18
    totals = data.values("total_crime", tuple(npus), FIRST, LAST).set_index("unit_id")["value"]
    rates = data.values("crime_per_1000", tuple(npus), FIRST, LAST).set_index("unit_id")["value"]
    msoas: set[str] = set()
    for npu in npus:
        got = data.msoa_values(npu, "total_crime", FIRST, LAST)
        assert got is not None, npu
        frame = got.msoas
        assert len(frame) >= 3, npu                       # an NPU is several whole MSOAs
        assert frame["num"].sum() == pytest.approx(totals[npu]), npu
        assert frame["num"].nunique() > 1, npu            # MSOAs differ: not the NPU's value repeated
        residents = totals[npu] / rates[npu] * 1000
        assert frame["population"].sum() == pytest.approx(residents, rel=1e-9), npu
        assert not (set(frame["msoa_code"]) & msoas), npu   # default NPUs are whole MSOAs: disjoint
        msoas |= set(frame["msoa_code"])
    assert len(msoas) == 139                              # every MSOA of Cheshire, once
