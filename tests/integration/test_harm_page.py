"""The harm card, its CSV and the NPU map on the demo warehouse, checked against the measure
cube's own totals (read through the API's series, a different path from the card's)."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from dashboard import exports
from dashboard import state as url_state
from dashboard.components import harm as harm_component  # registers the 'drill-harm' export
from dashboard.components.coverage import unassigned_note
from dashboard.components.maps import map_figure
from dashboard.data.facade import DataAccess
from dashboard.data.model import View
from dashboard.data.warehouse import WarehouseReader


@pytest.fixture(scope="module")
def data(demo_link: Path) -> DataAccess:
    access = DataAccess(WarehouseReader(demo_link))
    yield access
    access.reader.close()


def view_of(data: DataAccess, search: str) -> View:
    view = data.resolve(url_state.parse(search))
    assert view is not None
    return view


def test_harm_card_csv_adds_up_to_the_measures(data: DataAccess) -> None:
    view = view_of(data, "?unit=cheshire/northern&measure=crime_harm&preset=fytd&grain=month")
    assert exports.EXPORTS["drill-harm"][0] is harm_component.export_harm
    frame, name = exports.EXPORTS["drill-harm"][0](data, view)
    assert name == "crime_harm-harm-by-category"
    p = view.period
    total = data.values("total_crime", ("cheshire/northern",), p.start, p.end).iloc[0]
    harm = data.values("crime_harm", ("cheshire/northern",), p.start, p.end).iloc[0]
    assert frame["crimes"].sum() == total["numerator"]
    assert frame["harm"].sum() == pytest.approx(harm["numerator"], abs=0.5)
    assert frame["harm_share"].sum() == pytest.approx(100.0)
    assert frame["harm"].is_monotonic_decreasing
    assert set(frame["weighted_by"]) == {"offence"}            # the demo carries offence codes
    assert frame["weights"].iloc[0].startswith("Exact: all ")
    v = frame.set_index("category").loc["violent-crime"]
    assert v["weight_range"] == "7.5 to 7,973 over 52 offences"
    assert v["lower"] < v["harm"] < v["upper"]


def test_npu_map_colours_each_msoa_by_its_npus_value(data: DataAccess) -> None:
    view = view_of(data, "?unit=cheshire&measure=crime_per_1000&preset=fytd&grain=month")
    fig = map_figure(data, view)
    assert fig is not None
    trace = fig["data"][0]
    assert trace["type"] == "choropleth" and len(trace["locations"]) == 139
    p = view.period
    npus = sorted(set(trace["customdata"]))
    assert len(npus) == 18
    values = data.values("crime_per_1000", tuple(npus), p.start, p.end).set_index("unit_id")["value"]
    for z, npu in zip(trace["z"], trace["customdata"], strict=True):
        assert math.isclose(z, values[npu])
    assert "per 1,000" in trace["colorbar"]["title"]["text"]
    assert p.label in fig["layout"]["title"]["text"]
    assert unassigned_note(data, view) is None     # every demo record has an NPU
