"""The comparison numbers (dashboard/analysis/peer_comparison.py) on the real police.uk data:
the proxy group."""

from __future__ import annotations

import math
from datetime import date
from pathlib import Path

import pytest

from dashboard.analysis import peer_comparison as compare
from dashboard.data.facade import DataAccess
from dashboard.data.warehouse import WarehouseReader

REAL_FORCES = ("cheshire", "derbyshire", "leicestershire", "merseyside", "north-wales", "northamptonshire",
               "nottinghamshire", "staffordshire", "warwickshire")


def test_compare_on_the_real_data_cheshire_against_the_other_forces(real_link: Path) -> None:
    data = DataAccess(WarehouseReader(real_link))
    try:
        start, end = date(2018, 4, 1), date(2019, 2, 28)   # the default FY to date: clipped to the data
        c = compare.compare(data, "cheshire", "total_crime", start, end)
        assert c.group.label == "proxy, not the Home Office group" and c.group.is_proxy
        assert c.period.start == date(2018, 10, 1) and len(c.months) == 5
        assert len(c.group.members) == 7 and set(c.group.members) <= set(REAL_FORCES)
        assert c.members["in_average"].sum() == 7 and math.isfinite(c.average)
        everyone = compare.compare(data, "cheshire", "total_crime", start, end, scope="all")
        assert set(everyone.group.members) == set(REAL_FORCES) - {"cheshire"}
        assert everyone.members["value"].notna().all() and len(everyone.members) == 9
        # the numbers: crimes per 1,000 residents over the 5 months, from the cube
        ch = everyone.focus
        assert ch["value"] == pytest.approx(ch["k"] / (data.unit("cheshire").population / 1000))
        sdr = compare.compare(data, "cheshire", "sanction_detection_rate", start, end, scope="all")
        assert sdr.basis.kind == "proportion" and 0 < sdr.average < 100
        assert not compare.funnel_curves(sdr).empty
        # BCUs of real data have their 2011 Census population (default hierarchy), so they
        # are compared per 1,000 residents: Northern = Halton + Warrington, 327,974 residents
        b = compare.compare(data, "cheshire/northern", "crime_burglary", start, end)
        assert b.members["value"].notna().all() and len(b.members) == 3
        assert data.unit("cheshire/northern").population == 125_746 + 202_228
        assert b.focus["value"] == pytest.approx(b.focus["k"] / 327.974)
    finally:
        data.reader.close()
