"""Click handlers without a browser or a warehouse: a click on a bar goes down the hierarchy.
The pages on the demo warehouse are in tests/integration/test_dashboard_pages.py."""

from __future__ import annotations

from dashboard import state as url_state
from dashboard.pages import drilldown

NPU = "cheshire/northern/widnes"


def test_clicks_go_down_the_hierarchy() -> None:
    click = {"points": [{"customdata": [NPU, 1.0, 2.0, "x"], "y": "Widnes"}]}
    assert drilldown.unit_from_click(click) == NPU
    assert drilldown.unit_from_click({"points": [{"x": 1}]}) is None
    assert drilldown.unit_from_click(None) is None
    state = url_state.parse("?unit=cheshire&measure=crime_burglary&preset=qtd&grain=week&rank=npu")
    assert state.href("/drill-down", unit=NPU, rank=None) == (
        "/drill-down?unit=cheshire/northern/widnes&measure=crime_burglary&preset=qtd&grain=week"
    )
