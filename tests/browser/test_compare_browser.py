"""The Compare and Early warning pages in headless Chromium (dash_duo): they draw with an empty
console and only local requests, their settings redraw them, an exceptions row opens its chart,
and on the real police.uk data the group is labelled as a proxy."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import pytest
from dashboard_support import demo_link, real_link
from selenium.webdriver.common.by import By

from dashboard import state as url_state
from dashboard.app import create_app

pytestmark = pytest.mark.browser


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait(predicate, timeout: float = 20.0, what: str = "condition"):  # noqa: ANN001, ANN202
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            value = predicate()
        except Exception:  # noqa: BLE001 - the page is still changing under us
            value = None
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def _settled(dash_duo) -> None:  # noqa: ANN001
    _wait(lambda: dash_duo.driver.execute_script(
        "return !document.querySelector('[data-dash-is-loading=\"true\"]')"), what="callbacks to settle")
    time.sleep(0.3)


def _local_only(driver) -> None:  # noqa: ANN001
    urls = driver.execute_script("return performance.getEntriesByType('resource').map(e => e.name)"
                                 ".concat(performance.getEntriesByType('navigation').map(e => e.name))")
    assert urls and [u for u in urls if not u.startswith(("http://127.0.0.1", "http://localhost"))] == []


def _click(driver, element) -> None:  # noqa: ANN001
    driver.execute_script("arguments[0].scrollIntoView({block: 'center', behavior: 'instant'}); "
                          "arguments[0].click()", element)


def test_compare_page_on_the_demo(dash_duo) -> None:  # noqa: ANN001
    dash_duo.start_server(create_app(demo_link()), port=free_port())
    dash_duo.wait_for_page(url=f"{dash_duo.server_url}/compare?unit=cheshire&measure=sanction_detection_rate",
                           timeout=20)
    dash_duo.wait_for_text_to_equal("#compare-group-label", "MSF group (data/msf_groups.csv)", timeout=20)
    assert "7 member(s)" in dash_duo.find_element("#compare-members").text
    assert (
        "demo group, not the official Home Office list" in dash_duo.find_element("#compare-group-card").text
    )
    for graph_id in ("compare-funnel", "compare-bar", "compare-trend"):
        dash_duo.wait_for_element(f"#{graph_id} .main-svg", timeout=20)
    assert "1st = best" in dash_duo.find_element("#compare-summary").text
    _settled(dash_duo)
    # every force as the group, then back
    _click(dash_duo.driver, dash_duo.find_element("#compare-scope input[value='all']"))
    dash_duo.wait_for_contains_text("#compare-members", "member(s)", timeout=20)
    _wait(lambda: "every force with data loaded" in dash_duo.find_element("#compare-group-card").text,
          what="the all-forces group")
    _settled(dash_duo)
    assert "Left out of the averages" in dash_duo.find_element("#compare-exclusions").text   # suspect months
    # a BCU against its fellow BCUs: no 'Compare with' choice
    dash_duo.wait_for_page(url=f"{dash_duo.server_url}/compare?unit=cheshire/northern&measure=crime_burglary",
                           timeout=20)
    dash_duo.wait_for_contains_text("#compare-group-card", "the force's other BCUs", timeout=20)
    assert not dash_duo.driver.find_elements(By.ID, "compare-scope")
    _settled(dash_duo)
    assert dash_duo.get_logs() == []
    _local_only(dash_duo.driver)


def test_early_warning_page_settings_and_links(dash_duo) -> None:  # noqa: ANN001
    dash_duo.start_server(create_app(demo_link()), port=free_port())
    dash_duo.wait_for_page(url=f"{dash_duo.server_url}/early-warning?unit=cheshire&measure=total_crime",
                           timeout=20)
    dash_duo.wait_for_element("#ew-chart .main-svg", timeout=20)
    dash_duo.wait_for_element("#ew-signal-sentences", timeout=20)
    rows = _wait(
        lambda: dash_duo.driver.find_elements(By.CSS_SELECTOR, "#ew-grid .ag-row"), what="exceptions"
    )
    assert rows
    summary = dash_duo.find_element("#ew-summary").text
    _settled(dash_duo)
    # sensitivity is a setting: conservative redraws the list
    _click(dash_duo.driver, dash_duo.find_element("#ew-sensitivity input[value='conservative']"))
    _wait(lambda: dash_duo.find_element("#ew-summary").text not in ("", summary), what="the list to redraw")
    _settled(dash_duo)
    fewer = dash_duo.find_element("#ew-summary").text
    assert int(fewer.split(" with a special cause")[0].rsplit(" ", 1)[1]) < \
        int(summary.split(" with a special cause")[0].rsplit(" ", 1)[1])
    # a row's chart link opens that unit and measure
    link = _wait(lambda: dash_duo.driver.find_elements(By.CSS_SELECTOR, "#ew-grid .ag-row a"), what="a link")[
        0
    ]
    href = link.get_attribute("href")
    want = url_state.parse(href.split("?", 1)[1])
    _click(dash_duo.driver, link)
    _wait(lambda: want.unit in dash_duo.driver.current_url and want.measure in dash_duo.driver.current_url,
          what="the row's chart")
    dash_duo.wait_for_element("#ew-chart .main-svg", timeout=20)
    _settled(dash_duo)
    assert dash_duo.get_logs() == []
    _local_only(dash_duo.driver)


@pytest.mark.realdata
def test_compare_page_on_the_real_data_labels_the_proxy(dash_duo, shared_data: Path) -> None:  # noqa: ANN001
    dash_duo.start_server(create_app(real_link(shared_data)), port=free_port())
    dash_duo.wait_for_page(url=f"{dash_duo.server_url}/compare?unit=cheshire&measure=total_crime", timeout=20)
    dash_duo.wait_for_text_to_equal("#compare-group-label", "proxy, not the Home Office group", timeout=20)
    assert "7 member(s)" in dash_duo.find_element("#compare-members").text
    dash_duo.wait_for_element("#compare-funnel .main-svg", timeout=20)
    _settled(dash_duo)
    _click(dash_duo.driver, dash_duo.find_element("#compare-scope input[value='all']"))
    dash_duo.wait_for_contains_text("#compare-members", "8 member(s)", timeout=20)
    text = dash_duo.find_element("#compare-members").text
    for name in ("Derbyshire", "Leicestershire", "Merseyside", "North Wales", "Northamptonshire",
                 "Nottinghamshire", "Staffordshire", "Warwickshire"):
        assert name in text
    _settled(dash_duo)
    assert dash_duo.get_logs() == []


def test_scorecard_and_drill_down_show_spc_and_msf_position(dash_duo) -> None:  # noqa: ANN001
    dash_duo.start_server(create_app(demo_link()), port=free_port())
    dash_duo.wait_for_page(url=f"{dash_duo.server_url}/scorecard?unit=cheshire", timeout=20)
    dash_duo.wait_for_element("#scorecard-table", timeout=20)
    _wait(
        lambda: dash_duo.driver.find_elements(By.CSS_SELECTOR, "#scorecard-table a[href*='/early-warning']"),
        what="SPC cells",
    )
    _wait(lambda: dash_duo.driver.find_elements(By.CSS_SELECTOR, "#scorecard-table a[href*='/compare']"),
          what="MSF cells")
    _settled(dash_duo)
    cells = dash_duo.driver.find_elements(By.CSS_SELECTOR, "[id*='scorecard-spc'], [id*='scorecard-msf']")
    assert cells and all(c.text.strip() not in ("", "…") for c in cells)
    titles = [e.get_attribute("title") for e in
              dash_duo.driver.find_elements(By.CSS_SELECTOR, "[id*='scorecard-msf'] [title]")]
    assert titles and all("Group: MSF group (data/msf_groups.csv)" in t for t in titles)
    dash_duo.wait_for_page(url=f"{dash_duo.server_url}/drill-down?unit=cheshire&measure=crime_burglary",
                           timeout=20)
    _wait(lambda: "SPC status:" in dash_duo.find_element("#drill-status").text
          and "…" not in dash_duo.find_element("#drill-status").text, what="the status line")
    _wait(lambda: "of 3" in dash_duo.find_element("#children-grid").text, what="peer positions in the table")
    _settled(dash_duo)
    assert dash_duo.get_logs() == []
