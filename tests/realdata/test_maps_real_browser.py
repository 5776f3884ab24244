"""The NPU map of real Cheshire in Chromium: an NPU's own MSOAs each filled by its own total
crime (distinct colours, not one NPU colour repeated), its neighbours grey, no request
leaving the app's origin; and for a proportion, the NPU-coloured map with the line saying so."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.browser import LOCAL
from tests.support.browser import settled as _settled

pytestmark = pytest.mark.browser   # and realdata, from this folder

NPU = "cheshire/northern/warrington-north"


def _requests(driver) -> list[str]:  # noqa: ANN001
    return driver.execute_script(
        "return performance.getEntriesByType('resource').map(e => e.name)"
        ".concat(performance.getEntriesByType('navigation').map(e => e.name))")


def _fills(driver) -> list[str]:  # noqa: ANN001
    return driver.execute_script(
        "return Array.from(document.querySelectorAll('#drill-map .choroplethlocation'))"
        ".map(e => getComputedStyle(e).fill)")


def test_a_real_npu_map_colours_its_own_msoas(serve_dashboard, real_link: Path) -> None:  # noqa: ANN001
    dash_duo = serve_dashboard(real_link)
    driver = dash_duo.driver
    driver.set_window_size(1366, 768)
    dash_duo.wait_for_page(url=f"{dash_duo.server_url}/drill-down?unit={NPU}&measure=total_crime"
                               "&from=2018-10-01&to=2019-02-28", timeout=30)
    dash_duo.wait_for_element("#drill-map .choroplethlayer", timeout=30)
    _settled(dash_duo, timeout=30)
    title = dash_duo.find_element("#drill-map .gtitle").text
    assert "MSOAs" in title and "has the highest" in title
    legend = dash_duo.find_element("#drill-map .cbtitle").text
    assert "crimes" in legend and "Oct 2018" in legend and "2019" in legend   # lines join with no space
    fills = _fills(driver)
    grey = "rgb(228, 228, 228)"                       # the BCU's other NPUs (maps.CONTEXT)
    assert grey in fills
    coloured = {f for f in fills if f != grey and "rgba(0, 0, 0, 0)" not in f and f}
    assert len(coloured) >= 3                          # MSOAs differ, not one NPU colour repeated
    svg = driver.find_element("css selector", "#drill-map .js-plotly-plot").get_attribute("textContent")
    assert "MSOA values are not available" not in svg
    assert "Crown copyright" in svg
    assert [u for u in _requests(driver) if not u.startswith(LOCAL)] == []
    assert dash_duo.get_logs() == []

    # a proportion has no per-MSOA figure: the Northern BCU's 6 NPUs (2 Halton, 4 Warrington), said so
    dash_duo.wait_for_page(url=f"{dash_duo.server_url}/drill-down?unit={NPU}&measure=sanction_detection_rate"
                               "&from=2018-10-01&to=2019-02-28", timeout=30)
    dash_duo.wait_for_element("#drill-map .choroplethlayer", timeout=30)
    _settled(dash_duo, timeout=30)
    svg = driver.find_element("css selector", "#drill-map .js-plotly-plot").get_attribute("textContent")
    assert "MSOA values are not available for this measure" in svg
    assert "of the 6 NPUs shown" in dash_duo.find_element("#drill-map .gtitle").text
    assert [u for u in _requests(driver) if not u.startswith(LOCAL)] == []
    assert dash_duo.get_logs() == []
