"""DataAccess.values read as plain rows and cached unit by unit (issue 11 item 3): the drill-down's
ranked children, the unit's own value in the trend's title and the NPUs' map share one read.
The numbers are the cube's, summed here with SQL of our own; a unit's row is the same whichever
call read it first and in whatever company; and the rows come back in the order asked for."""

from __future__ import annotations

import math
from datetime import date
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from dashboard.data.facade import DataAccess
from dashboard.periods import month_end

FORCE = "cheshire"


@pytest.fixture
def data(demo_data: DataAccess) -> DataAccess:
    return demo_data


def _cube_sum(link: Path, table: str, col: str, measure: str, unit: str, first: date, last: date) -> float:
    with duckdb.connect(str(link.resolve()), read_only=True) as con:
        got = con.execute(
            f"SELECT sum(num) FROM {table} WHERE measure_id = ? AND unit_id = ? AND {col} BETWEEN ? AND ?",  # noqa: S608
            [measure, unit, first, last]).fetchone()
    return float(got[0]) if got and got[0] is not None else 0.0


@pytest.mark.parametrize("measure", ["total_crime", "crime_burglary"])
def test_values_are_the_cubes_sums_whichever_call_read_them(demo_link: Path, data: DataAccess,
                                                            measure: str) -> None:
    bcus = sorted(u.unit_id for u in data.children(FORCE))
    npus = sorted(n.unit_id for b in bcus for n in data.children(b))
    last = max(data.source_for(FORCE).months)   # type: ignore[union-attr]
    # a custom range of days (the day cube) and whole months (the month cube)
    periods = [(date(last.year - 1, 5, 9), date(last.year - 1, 11, 20), "cube_measure_day", "day"),
               (date(last.year - 1, 4, 1), month_end(last), "cube_measure_month", "month")]
    for start, end, table, col in periods:
        asked = (*bcus, FORCE)
        together = data.values(measure, asked, start, end)
        assert list(together["unit_id"]) == list(asked)           # the order asked for
        for uid in (FORCE, *bcus, npus[0]):
            want = _cube_sum(demo_link, table, col, measure, uid, start, end)
            alone = data.values(measure, (uid,), start, end)      # cached with `together` or not
            assert alone["numerator"].iloc[0] == pytest.approx(want, rel=1e-12)
            if uid in asked:
                pd.testing.assert_series_equal(
                    alone.iloc[0], together.set_index("unit_id", drop=False).loc[uid], check_names=False)
        # a fresh cache, the units asked in another order: the same rows
        data.clear_cache()
        fresh = data.values(measure, (FORCE, *reversed(bcus)), start, end).set_index("unit_id")
        pd.testing.assert_frame_equal(fresh.loc[list(asked)], together.set_index("unit_id"))
        assert all(math.isfinite(v) for v in together["value"])
