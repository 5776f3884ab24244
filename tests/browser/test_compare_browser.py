"""The Compare and Early warning pages in headless Chromium (dash_duo): they draw with an empty
console and only local requests, their settings redraw them, an exceptions row opens its chart.
On the real police.uk data the group is labelled as a proxy: tests/realdata/test_compare_browser.py."""

from __future__ import annotations

from selenium.webdriver.common.by import By

from dashboard import state as url_state
from tests.support.browser import assert_local_only as _local_only
from tests.support.browser import find_now, settled, wait


def _wait(predicate, timeout: float = 20.0, what: str = "condition"):  # noqa: ANN001, ANN202
    return wait(predicate, timeout, what)


def _settled(dash_duo, timeout: float = 45.0) -> None:  # noqa: ANN001
    settled(dash_duo, timeout=timeout)



def _click(driver, element) -> None:  # noqa: ANN001
    driver.execute_script("arguments[0].scrollIntoView({block: 'center', behavior: 'instant'}); "
                          "arguments[0].click()", element)


def test_compare_page_on_the_demo(demo_duo) -> None:  # noqa: ANN001
    dash_duo = demo_duo
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
    # the funnel says its limits are widened for over-dispersion; the switch turns that off
    def funnel_title() -> str:
        return dash_duo.driver.execute_script(
            "const t = document.querySelector('#compare-funnel .gtitle'); return t ? t.textContent : ''")

    _wait(lambda: "Limits widened for over-dispersion (phi = " in funnel_title(), what="the widened limits")
    _click(dash_duo.driver, dash_duo.find_element("#compare-adjust"))
    _wait(lambda: "not widened" in funnel_title(), what="the plain limits")
    _settled(dash_duo)
    # a BCU against its fellow BCUs: no 'Compare with' choice
    dash_duo.wait_for_page(url=f"{dash_duo.server_url}/compare?unit=cheshire/northern&measure=crime_burglary",
                           timeout=20)
    dash_duo.wait_for_contains_text("#compare-group-card", "the force's other BCUs", timeout=20)
    assert not any(e.is_displayed() for e in find_now(dash_duo.driver, "compare-scope", By.ID))
    _settled(dash_duo)
    assert dash_duo.get_logs() == []
    _local_only(dash_duo.driver)


def test_early_warning_page_settings_and_links(demo_duo) -> None:  # noqa: ANN001
    dash_duo = demo_duo
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
    # sensitivity is a setting: conservative (3 sigma only, no CUSUM) redraws the list, never longer
    _click(dash_duo.driver, dash_duo.find_element("#ew-sensitivity input[value='conservative']"))
    _wait(lambda: "significant at 0.01" in dash_duo.find_element("#ew-exceptions-card").text,
          what="the list to redraw")
    _settled(dash_duo, timeout=120)
    fewer = dash_duo.find_element("#ew-summary").text

    def count(text: str) -> int:   # "12 measures with an exception in ..." / "No exceptions in ..."
        return 0 if text.startswith("No exceptions") else int(text.split(" ", 1)[0])

    assert count(fewer) <= count(summary)
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


def test_scorecard_and_drill_down_show_spc_and_msf_position(demo_duo) -> None:  # noqa: ANN001
    dash_duo = demo_duo
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
