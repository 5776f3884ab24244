"""fastui7: the unit map's indexes (children, units of a force at a level) answer exactly what
a scan of every unit answers, and `cubes.measure_months`, which matches a long list of units
with `IN (SELECT unnest(?))` (a short one with `list_contains`), returns exactly the rows the
`list_contains` query returned, on the demo warehouse. The expected values come from the units
table and from SQL written here, not from the code under test."""

from __future__ import annotations

from datetime import date

import pandas as pd
from pandas.testing import assert_frame_equal

from dashboard.data.facade import DataAccess
from dashboard.data.queries import cubes

FORCE = "cheshire"


def test_children_and_units_at_equal_a_scan_of_the_units_table(demo_data: DataAccess) -> None:
    frame = demo_data.units()
    checked = 0
    for uid in frame["unit_id"]:
        # the units table's own order, as the scan read the unit map (built from it in order)
        expected = [u for u in frame.loc[frame["parent_id"] == uid, "unit_id"]
                    if demo_data.may_see(demo_data.unit(u))]
        assert [u.unit_id for u in demo_data.children(uid)] == expected
        checked += bool(expected)
    assert checked > 20   # the force, its BCUs, NPUs and teams have children
    assert demo_data.children("no-such-unit") == []
    for (force, level), part in frame.groupby(["force_id", "level"], sort=False):
        assert [u.unit_id for u in demo_data.units_at(str(force), str(level))] == list(part["unit_id"])
    assert demo_data.units_at(FORCE, "no-such-level") == []
    # a list handed out is the caller's: changing it does not change the next answer
    npus = demo_data.units_at(FORCE, "npu")
    npus.clear()
    assert demo_data.units_at(FORCE, "npu")


def _list_contains_months(cur, sources, units, measures, first, last) -> pd.DataFrame:  # noqa: ANN001
    """measure_months as it was written before (list_contains)."""
    return cur.execute(
        """
        SELECT source, unit_id, month, measure_id, sum(num) AS num, sum(den) AS den,
               sum(num2) AS num2, sum(den2) AS den2
        FROM cube_measure_month
        WHERE list_contains(?::VARCHAR[], source) AND list_contains(?::VARCHAR[], unit_id)
          AND list_contains(?::VARCHAR[], measure_id) AND month BETWEEN ? AND ?
        GROUP BY source, unit_id, month, measure_id
        ORDER BY source, unit_id, month, measure_id
        """,
        [list(sources), list(units), list(measures), first, last],
    ).df()


def test_measure_months_equals_the_list_contains_read(demo_data: DataAccess) -> None:
    units = demo_data.units()
    forces = list(units.loc[units["level"] == "force", "unit_id"])
    mine = list(units.loc[units["force_id"] == FORCE, "unit_id"])
    first, last = date(2007, 1, 1), date(2008, 3, 1)
    with demo_data.cursor() as cur:
        sources = [r[0] for r in cur.execute("SELECT DISTINCT source FROM cube_measure_month").fetchall()]
        assert len(forces) > cubes.LONG_LIST >= 5   # both ways of matching the units are read
        for ids, measures in ((forces, ["total_crime"]), (forces[:5], ["total_crime"]),
                              (mine, ["total_crime", "crime_burglary"]),
                              (forces + mine, ["sanction_detection_rate", "crime_per_1000"]),
                              ([], ["total_crime"])):
            got = cubes.measure_months(cur, sources, ids, measures, first, last)
            want = _list_contains_months(cur, sources, ids, measures, first, last)
            assert_frame_equal(got, want, check_exact=True)
            assert len(got) == 0 if not ids else len(got) > 0
