"""The NPU map in Chromium: the demo force's NPUs drawn on real Cheshire boundaries, with a
legend stating the units, a harm card saying how harm was weighted, and no request leaving
the app's origin (Plotly's geo base layers come from the app's own assets)."""

from __future__ import annotations

from tests.support.browser import LOCAL
from tests.support.browser import settled as _settled
from tests.support.browser import wait as _wait


def _requests(driver) -> list[str]:  # noqa: ANN001
    return driver.execute_script(
        "return performance.getEntriesByType('resource').map(e => e.name)"
        ".concat(performance.getEntriesByType('navigation').map(e => e.name))")


def test_the_npu_map_draws_offline_and_harm_says_how_it_was_weighted(demo_duo) -> None:  # noqa: ANN001
    dash_duo = demo_duo
    driver = dash_duo.driver
    driver.set_window_size(1366, 768)
    dash_duo.wait_for_page(url=f"{dash_duo.server_url}/drill-down?unit=cheshire&measure=crime_harm_per_1000"
                               "&preset=fytd&grain=month", timeout=30)
    dash_duo.wait_for_element("#drill-npu-map .choroplethlayer", timeout=30)
    _settled(dash_duo, timeout=30)
    # every MSOA of real Cheshire is a filled shape (139), each one of the demo's 18 NPUs
    shapes = _wait(lambda: len(driver.find_elements("css selector", "#drill-npu-map .choroplethlocation")),
                   what="the MSOA shapes")
    assert shapes == 139
    legend = dash_duo.find_element("#drill-npu-map .cbtitle").text
    assert "harm per 1,000" in legend
    assert "of the 18 NPUs shown" in dash_duo.find_element("#drill-npu-map .gtitle").text
    basis = dash_duo.find_element("#harm-basis").text
    assert basis.startswith("Exact.") and "Crown copyright" in basis
    requests = _requests(driver)
    assert any("/assets/topojson/" in u for u in requests)
    assert [u for u in requests if not u.startswith(LOCAL)] == []
    assert dash_duo.get_logs() == []

    # an NPU: its BCU's NPUs, itself outlined, its records as points on top
    dash_duo.wait_for_page(url=f"{dash_duo.server_url}/drill-down?unit=cheshire/northern/widnes"
                               "&measure=crime_burglary&preset=fytd&grain=month", timeout=30)
    dash_duo.wait_for_element("#drill-map .choroplethlayer", timeout=30)
    _settled(dash_duo, timeout=30)
    assert len(driver.find_elements("css selector", "#drill-map .scattergeo .point")) > 100
    # the demo's records carry no LSOA: each MSOA shows its NPU's value, and the map says so
    text = driver.find_element("css selector", "#drill-map .js-plotly-plot").get_attribute("textContent")
    assert "MSOA values are not available for this NPU (its records name no LSOA)" in text
    assert [u for u in _requests(driver) if not u.startswith(LOCAL)] == []
    assert dash_duo.get_logs() == []
