"""Per-MSOA figures from per-LSOA ones (dashboard/analysis/msoa.py): which measures have
them, and the sums, checked against figures worked out by hand."""

from __future__ import annotations

import pandas as pd
import pytest

from dashboard.analysis import msoa
from etl.measures.registry import MEASURES


@pytest.mark.parametrize("measure_id, column", [
    ("total_crime", "crimes"), ("crime_burglary", "crimes"), ("crime_per_1000", "crimes"),
    ("crime_harm", "harm"), ("crime_harm_per_1000", "harm"),
    ("sanction_detections", None), ("sanction_detection_rate", None), ("asb_incidents", None),
])
def test_which_measures_have_a_per_msoa_figure(measure_id: str, column: str | None) -> None:
    assert msoa.numerator_column(MEASURES[measure_id]) == column


def test_measures_from_other_sources_have_none() -> None:
    others = [m for m in MEASURES.values() if m.dataset != "crime"]
    assert others and all(msoa.numerator_column(m) is None for m in others)


def test_lsoas_add_up_per_msoa_and_unknown_ones_are_left_out() -> None:
    lsoas = pd.DataFrame({
        "lsoa_code": ["L1", "L2", "L3", "L9", None],
        "crimes": [3, 0, 5, 7, 2],
        "harm": [10.5, 0.0, 2.25, 1.0, 4.0],
    })
    lookup = {"L1": "M1", "L2": "M1", "L3": "M2"}
    residents = {"L1": 1500, "L2": 1600, "L3": 1400}
    out = msoa.by_msoa(lsoas, "crimes", lookup, residents)
    assert out.to_dict("records") == [
        {"msoa_code": "M1", "lsoas": 2, "num": 3.0, "population": 3100},
        {"msoa_code": "M2", "lsoas": 1, "num": 5.0, "population": 1400},
    ]
    harm = msoa.by_msoa(lsoas, "harm", lookup, residents)
    assert list(harm["num"]) == [10.5, 2.25]


def test_no_known_lsoa_gives_an_empty_frame() -> None:
    lsoas = pd.DataFrame({"lsoa_code": [None, "X"], "crimes": [1, 2], "harm": [1.0, 2.0]})
    out = msoa.by_msoa(lsoas, "crimes", {}, {})
    assert out.empty and list(out.columns) == msoa.COLUMNS
