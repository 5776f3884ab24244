"""Issue 14 item 9, in headless Chromium: every page (NAV, so new pages join) passes axe-core's
WCAG 2.2 A/AA rules with no serious or critical violation, its pickers open, and keeps its charts
out of the Tab order (tests.support.axe.check_accessibility, run on every page by
tests/browser/test_dashboard_browser.py in the same visit as its console and screenshot checks,
so that each page is loaded once for both); the first Tab stop
is a skip link to the main content; a chart's only Tab stops are its controls; typing on the
unit picker searches it; and a keyboard-only walk goes from the scorecard to an NPU's records."""

from __future__ import annotations

from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from dashboard import state as url_state
from tests.support.browser import settled, wait


def _active(driver) -> str:  # noqa: ANN001
    return driver.execute_script("var a = document.activeElement; "
                                 "return a.tagName + '#' + a.id + ' ' + (a.textContent || '').slice(0, 60)")


def _tab_until(driver, test: str, limit: int = 150) -> int:  # noqa: ANN001
    """Press Tab until the focused element passes the JS test `test` (given `el`); the count."""
    for n in range(1, limit + 1):
        ActionChains(driver).send_keys(Keys.TAB).perform()
        if driver.execute_script(f"var el = document.activeElement; return !!({test});"):
            return n
    raise AssertionError(f"{limit} Tabs never reached {test}; focus is on {_active(driver)}")


def _unit(driver) -> str:  # noqa: ANN001
    url = driver.current_url
    return url_state.parse(url.split("?", 1)[1] if "?" in url else "").unit or ""


def test_the_skip_link_is_the_first_tab_stop_and_goes_to_the_page(demo_duo) -> None:  # noqa: ANN001
    driver = demo_duo.driver
    demo_duo.wait_for_page()  # the home page: the force's scorecard
    demo_duo.wait_for_element("#scorecard-table", timeout=20)
    settled(demo_duo)
    ActionChains(driver).send_keys(Keys.TAB).perform()
    assert _active(driver).startswith("A# Skip to main content")
    ActionChains(driver).send_keys(Keys.ENTER).perform()
    wait(lambda: driver.execute_script("return document.activeElement.id") == "main", what="focus on <main>")
    # the next Tab stop is inside the page, past the eleven navigation links
    ActionChains(driver).send_keys(Keys.TAB).perform()
    assert driver.execute_script("return !!document.activeElement.closest('#main')")


def test_typing_on_the_unit_picker_searches_it(demo_duo) -> None:  # noqa: ANN001
    driver = demo_duo.driver
    demo_duo.wait_for_page()  # the home page: the force's scorecard
    demo_duo.wait_for_element("#scorecard-table", timeout=20)
    settled(demo_duo)
    _tab_until(driver, "el.id === 'controls-summary'")
    ActionChains(driver).send_keys(Keys.ENTER).perform()  # open the pickers
    _tab_until(driver, "el.closest('.dash-dropdown-wrapper') && el.closest('.col, [class*=col-]')"
                       ".textContent.indexOf('Unit') === 0", limit=5)
    ActionChains(driver).send_keys("crewe").perform()
    box = wait(lambda: driver.find_element(By.CSS_SELECTOR, ".dash-dropdown-search"), what="the search box")
    wait(lambda: box.get_attribute("value") == "crewe", what="every letter typed in the search box")
    first = wait(lambda: driver.find_elements(By.CSS_SELECTOR, ".dash-dropdown-content [role=option]"),
                 what="options")[0]
    assert first.text.startswith("Crewe NPU")
    ActionChains(driver).send_keys(Keys.ENTER).perform()
    wait(lambda: _unit(driver) == "cheshire/eastern/crewe", what="Crewe in the URL")
    demo_duo.wait_for_contains_text("#view-statement", "Crewe NPU", timeout=20)
    assert demo_duo.get_logs() == []


def test_keyboard_only_from_the_scorecard_to_an_npus_records(demo_duo) -> None:  # noqa: ANN001
    driver = demo_duo.driver
    demo_duo.wait_for_page()  # the home page: the force's scorecard
    demo_duo.wait_for_element("#scorecard-table", timeout=20)
    settled(demo_duo)
    assert _unit(driver) in ("", "cheshire")
    # the Burglary row of the force scorecard, by Tab and Enter
    _tab_until(driver, "el.closest('#scorecard-table') && el.getAttribute('href') && "
                       "el.getAttribute('href').indexOf('measure=crime_burglary') >= 0")
    ActionChains(driver).send_keys(Keys.ENTER).perform()
    demo_duo.wait_for_contains_text("#view-statement", "Burglary, Cheshire Constabulary,", timeout=20)
    for depth, level in ((1, "BCU"), (2, "NPU")):
        settled(demo_duo)
        wait(lambda: driver.find_elements(By.CSS_SELECTOR, "#children-grid .ag-row"), what="the ranked table")
        # into the ranked table (its header first), down to the first row, Enter
        _tab_until(driver, "el.closest('#children-grid')")
        ActionChains(driver).send_keys(Keys.ARROW_DOWN).perform()
        assert driver.execute_script("return !!document.activeElement.closest('#children-grid .ag-row')")
        ActionChains(driver).send_keys(Keys.ENTER).perform()
        wait(lambda d=depth: _unit(driver).count("/") == d, what=f"a {level} in the URL")
        demo_duo.wait_for_contains_text("#view-statement", level, timeout=20)
    settled(demo_duo)
    rows = wait(lambda: driver.find_elements(By.CSS_SELECTOR, "#records-grid .ag-row"),
                what="the NPU's records")
    assert rows and "records" in demo_duo.find_element("#records-card").text.lower()
    assert demo_duo.get_logs() == []
