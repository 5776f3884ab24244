"""The query layer on the real data.police.uk files, counted independently with the csv module."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from dashboard import state as url_state
from dashboard.data.facade import DataAccess
from dashboard.data.model import GrainUnavailable
from dashboard.data.warehouse import WarehouseReader
from etl.measures.crime import ALL_CRIME, ASB
from tests.support.warehouses import raw_counts


def test_real_data_matches_the_raw_files(shared_data: Path, real_link: Path) -> None:
    raw = raw_counts(shared_data)
    data = DataAccess(WarehouseReader(real_link))
    try:
        forces = sorted({f for f, _, _ in raw})
        assert len(forces) == 9
        start, end = date(2018, 10, 1), date(2019, 2, 28)
        for force in forces:
            total = data.series("total_crime", force, start, end, "month")
            months = [p for p in total["period_start"]]
            want = [
                sum(
                    v
                    for (f, m, k), v in raw.items()
                    if f == force and m == month and k != "Anti-social behaviour"
                )
                for month in months
            ]
            assert total["numerator"].tolist() == [float(w) for w in want], force
            asb = data.series("asb_incidents", force, start, end, "quarter")
            assert asb["numerator"].sum() == sum(
                v for (f, _, k), v in raw.items() if f == force and k == "Anti-social behaviour"
            )
        burglary = data.values("crime_burglary", ("cheshire",), start, end).iloc[0]
        assert burglary["numerator"] == sum(
            v for (f, _, k), v in raw.items() if f == "cheshire" and k == "Burglary"
        )
        # Month-only data: a custom range is widened to whole months, and weeks are refused.
        view = data.resolve(url_state.parse("?unit=cheshire&preset=custom&from=2018-10-10&to=2018-11-05"))
        assert (view.period.start, view.period.end) == (date(2018, 10, 1), date(2018, 11, 30))
        with pytest.raises(GrainUnavailable):
            data.series("total_crime", "cheshire", start, end, "week")
        assert set(ALL_CRIME) & {ASB} == set()
    finally:
        data.reader.close()
