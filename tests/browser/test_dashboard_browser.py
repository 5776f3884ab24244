"""The dashboard in headless Chromium (dash_duo): every page loads with an empty console and
only local requests and passes the accessibility checks (tests.support.axe.check_accessibility,
issue 14 item 9, in the same visit), a click path drills from the force to an NPU and exports its records,
and a pasted URL restores the same view. Screenshots of every page are taken at 1366x768 and
at A4 print width (794 px) into a temporary folder, and also into $LG_SCREENSHOTS if set
(e.g. `LG_SCREENSHOTS=docs/screenshots pytest -m browser`)."""

from __future__ import annotations

import csv
import os
import shutil
import time
from pathlib import Path

from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By

from dashboard import state as url_state
from dashboard.data.facade import DataAccess
from dashboard.data.warehouse import WarehouseReader
from dashboard.pages import NAV
from tests.support.axe import check_accessibility
from tests.support.browser import requests as _requests
from tests.support.browser import settled as _settled
from tests.support.browser import wait as _wait

A4_WIDTH = 794
SCREEN = (1366, 768)


def _statement(dash_duo) -> str:  # noqa: ANN001
    return dash_duo.find_element("#view-statement").text


def _full_page(driver, path: Path, width: int) -> None:  # noqa: ANN001
    """The whole page at `width` (charts are responsive: give them a moment to redraw)."""
    driver.set_window_size(width, SCREEN[1])
    time.sleep(0.3)
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(width, min(int(height) + 20, 12000))
    time.sleep(0.3)
    driver.save_screenshot(str(path))
    driver.set_window_size(*SCREEN)


def test_every_page_loads_clean_local_passes_axe_and_is_screenshot(demo_duo, tmp_path_factory) -> None:  # noqa: ANN001
    """One visit of each page (an NPU's view) serves two walks that each loaded every page: this
    file's (the page loads with an empty console, says whose view it is, and is screenshot) and
    the accessibility walk (axe-core's WCAG 2.2 A/AA rules with the pickers open, every chart out
    of the Tab order but for its controls, with a caption that states a finding, and no Plotly
    logo or share link); the screenshots are taken first, before the pickers are opened for axe.
    Every failure names the page and the check."""
    shots = tmp_path_factory.mktemp("screenshots")
    dash_duo = demo_duo
    driver = dash_duo.driver
    query = "?unit=cheshire/northern/widnes&measure=crime_burglary&preset=fytd&grain=month"
    for label, path, _ in NAV:
        slug = path.strip("/")
        driver.set_window_size(*SCREEN)
        dash_duo.wait_for_page(url=f"{dash_duo.server_url}{path}{query}", timeout=20)
        dash_duo.wait_for_text_to_equal("#page h1", label, timeout=20)
        _settled(dash_duo)
        if path == "/drill-down":
            dash_duo.wait_for_element("#map-card .main-svg", timeout=20)
            _wait(lambda: driver.find_elements(By.CSS_SELECTOR, "#records-grid .ag-row"), what="records")
        assert "Widnes" in _statement(dash_duo), f"{path}: the view statement does not name Widnes"
        assert "cheshire/northern/widnes" in driver.current_url, f"{path}: the URL lost the unit"
        driver.save_screenshot(str(shots / f"{slug}-1366x768.png"))
        _full_page(driver, shots / f"{slug}-a4-794.png", A4_WIDTH)
        assert dash_duo.get_logs() == [], f"{path}: the console has entries"
        check_accessibility(dash_duo, path)
        assert dash_duo.get_logs() == [], f"{path}: the console has entries after the pickers opened"
    outside = [u for u in _requests(driver) if not u.startswith(("http://127.0.0.1", "http://localhost"))]
    assert outside == []
    assert len(list(shots.glob("*.png"))) == 2 * len(NAV)
    target = os.environ.get("LG_SCREENSHOTS")
    if target:
        Path(target).mkdir(parents=True, exist_ok=True)
        for png in shots.glob("*.png"):
            shutil.copy(png, Path(target) / png.name)


def _click(driver, element) -> None:  # noqa: ANN001
    """Scroll the element to the middle of the window and click it like a user."""
    driver.execute_script("arguments[0].scrollIntoView({block: 'center', behavior: 'instant'})", element)
    time.sleep(0.2)
    ActionChains(driver).move_to_element(element).click().perform()


def _click_bar(dash_duo, index: int) -> None:  # noqa: ANN001
    bars = _wait(
        lambda: dash_duo.driver.find_elements(By.CSS_SELECTOR, "#drill-bar .bars .point path"), what="bars"
    )
    _click(dash_duo.driver, bars[index])


def test_click_from_force_scorecard_down_to_an_npu_and_export(demo_duo, demo_link: Path) -> None:  # noqa: ANN001
    dash_duo = demo_duo
    dash_duo.wait_for_page()  # the home page: the force's scorecard
    dash_duo.wait_for_element("#scorecard-table", timeout=20)
    assert "Cheshire Constabulary" in _statement(dash_duo)
    # 1: the Burglary row of the force scorecard opens its drill-down.
    _settled(dash_duo)
    link = dash_duo.find_element("#scorecard-table a[href*='measure=crime_burglary']")
    dash_duo.driver.execute_script(
        "arguments[0].scrollIntoView({block: 'center', behavior: 'instant'}); arguments[0].click()", link
    )
    dash_duo.wait_for_contains_text("#view-statement", "Burglary, Cheshire Constabulary,", timeout=20)
    _settled(dash_duo)
    # 2: a bar takes us to a BCU, 3: a bar of that BCU to one of its NPUs.
    _click_bar(dash_duo, 0)
    _wait(
        lambda: url_state.parse(dash_duo.driver.current_url.split("?", 1)[1]).unit.count("/") == 1,
        what="a BCU in the URL",
    )
    dash_duo.wait_for_contains_text("#breadcrumbs", "BCU", timeout=20)
    _settled(dash_duo)
    _click_bar(dash_duo, 0)
    _wait(
        lambda: url_state.parse(dash_duo.driver.current_url.split("?", 1)[1]).unit.count("/") == 2,
        what="an NPU in the URL",
    )
    dash_duo.wait_for_contains_text("#view-statement", "NPU", timeout=20)
    dash_duo.wait_for_element("#map-card .main-svg", timeout=20)
    _settled(dash_duo)
    unit = url_state.parse(dash_duo.driver.current_url.split("?", 1)[1]).unit
    assert len(dash_duo.driver.find_elements(By.CSS_SELECTOR, "#breadcrumbs li")) == 3
    # ...and export the NPU's records.
    _wait(lambda: dash_duo.driver.find_elements(By.CSS_SELECTOR, "#records-grid .ag-row"), what="records")
    _click(dash_duo.driver, dash_duo.find_element("#records-card button[id*='drill-records']"))
    files = _wait(lambda: list(Path(dash_duo.download_path).glob("*records*.csv")), what="the CSV download")
    with open(files[0], newline="") as fh:
        rows = list(csv.DictReader(fh))
    data = DataAccess(WarehouseReader(demo_link))
    try:
        view = data.resolve(url_state.parse(dash_duo.driver.current_url.split("?", 1)[1]))
        assert len(rows) == data.record_count("crime_burglary", unit, view.period.start, view.period.end)
    finally:
        data.reader.close()
    assert {r["category"] for r in rows} == {"Burglary"} and "officer" not in ",".join(rows[0])
    # A click on a breadcrumb goes back up.
    _click(dash_duo.driver, dash_duo.find_element("#breadcrumbs a"))
    dash_duo.wait_for_contains_text("#view-statement", "Burglary, Cheshire Constabulary,", timeout=20)
    assert dash_duo.get_logs() == []


def test_a_pasted_url_restores_the_view(demo_duo) -> None:  # noqa: ANN001
    dash_duo = demo_duo
    url = (
        f"{dash_duo.server_url}/drill-down?unit=cheshire/eastern/crewe&measure=crime_robbery"
        "&preset=custom&from=2007-05-15&to=2007-11-20&grain=week"
    )
    expected = "Robbery, Cheshire Constabulary / Eastern BCU / Crewe NPU, 15 May 2007 – 20 Nov 2007"

    def check() -> None:
        dash_duo.wait_for_contains_text("#view-statement", expected, timeout=20)
        _settled(dash_duo)
        assert dash_duo.find_element("input[id*='from']").get_attribute("value") == "2007-05-15"
        assert dash_duo.find_element("input[id*='\"to\"']").get_attribute("value") == "2007-11-20"
        assert "Custom range" in dash_duo.find_element("#controls").text
        assert "Week" in dash_duo.find_element("#controls").text
        dash_duo.wait_for_contains_text("#trend-card", "by week", timeout=20)
        assert dash_duo.driver.current_url == url  # the URL is already canonical: nothing rewrote it

    dash_duo.wait_for_page(url=url, timeout=20)
    check()
    dash_duo.driver.refresh()
    check()
    # The nav carries the view to the next page, and Back brings this one back.
    _click(dash_duo.driver, dash_duo.find_element("#nav-scorecard"))
    dash_duo.wait_for_element("#scorecard-table", timeout=20)
    assert "Crewe NPU, 15 May 2007 – 20 Nov 2007" in _statement(dash_duo)
    assert "unit=cheshire/eastern/crewe" in dash_duo.driver.current_url
    dash_duo.driver.back()
    check()
    # Changing a control changes the URL, and only what was changed.
    _click(dash_duo.driver, dash_duo.find_element("button[id*='grain']"))
    option = _wait(
        lambda: [
            o for o in dash_duo.driver.find_elements(By.CSS_SELECTOR, "[role=option]") if o.text == "Quarter"
        ],
        what="the Quarter option",
    )
    _click(dash_duo.driver, option[0])
    _wait(lambda: "grain=quarter" in dash_duo.driver.current_url, what="grain=quarter in the URL")
    assert "from=2007-05-15&to=2007-11-20" in dash_duo.driver.current_url
    dash_duo.wait_for_contains_text("#trend-card", "by quarter", timeout=20)
    assert dash_duo.get_logs() == []
