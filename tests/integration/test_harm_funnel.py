"""Crime harm on the Compare page's funnel, on the demo warehouse: the group's weight scale
kappa (sum of squared weights over sum of weights) read again here with plain SQL from the
measure cube, each member's interval against the normal approximation of its compound Poisson
variance, and the funnel and positions drawn at all (they were not before)."""

from __future__ import annotations

import math
from datetime import date
from pathlib import Path

import duckdb
import pytest

from dashboard.analysis import peer_comparison as compare
from dashboard.data.facade import DataAccess
from dashboard.data.warehouse import WarehouseReader
from etl.lake.warehouse import WarehousePaths

FY = (date(2007, 4, 1), date(2008, 3, 31))


@pytest.fixture(scope="module")
def data(demo_link: Path) -> DataAccess:
    access = DataAccess(WarehouseReader(demo_link))
    yield access
    access.reader.close()


def test_harm_funnel_of_a_bcu_among_its_peers(data: DataAccess, demo_link: Path) -> None:
    c = compare.compare(data, "cheshire/northern", "crime_harm_per_1000", *FY)
    assert c.basis.weighted
    others = ("cheshire/eastern", "cheshire/western")
    live = WarehousePaths(demo_link).live()
    with duckdb.connect(str(live), read_only=True) as con:
        s, v = con.execute(
            "SELECT sum(num), sum(num2) FROM cube_measure_month WHERE measure_id = 'crime_harm_per_1000' "
            "AND unit_id IN (?, ?) AND month BETWEEN ? AND ?", [*others, *FY]).fetchone()
        per_unit = dict(((u, (a, b)) for u, a, b in con.execute(
            "SELECT unit_id, sum(num), sum(num2) FROM cube_measure_month WHERE measure_id = "
            "'crime_harm_per_1000' AND level = 'bcu' AND month BETWEEN ? AND ? GROUP BY unit_id",
            list(FY)).fetchall()))
    assert c.kappa == pytest.approx(v / s, rel=1e-9)
    for row in c.members.itertuples():
        s_u, v_u = per_unit[row.unit_id]
        assert row.k == pytest.approx(s_u, rel=1e-9)
        # a 95% interval of harm per 1,000 residents: about 1.96 sqrt(V) / n either side
        # (the gamma interval is close to the normal one for millions of harm)
        half = 1.96 * math.sqrt(v_u) / row.n * 12
        assert row.lower < row.value < row.upper
        assert (row.upper - row.lower) / 2 == pytest.approx(half, rel=0.02)
        assert row.position in ("within", "above_95", "below_95", "above_99.8", "below_99.8")
    curves = compare.funnel_curves(c)
    assert not curves.empty
    # the limits widen by sqrt(kappa) against a count's: at n, hi95 - average ~ 1.96 sqrt(p0 kappa / n)
    p0 = c.average / 12
    row = curves.iloc[len(curves) // 2]
    expected = 1.96 * math.sqrt(p0 * c.kappa / row["n"]) * 12
    assert (row["hi95"] - c.average) == pytest.approx(expected, rel=0.03)
