"""The drill-down in Chromium at 1366x768: the answer (the ranked bars, titled by the child
significantly worse than the unit) comes before the trend and the table, its title inside the
first screen; and a measure not recorded at team level says so instead of ranking teams at 0."""

from __future__ import annotations

from tests.support.browser import settled as _settled
from tests.support.browser import wait as _wait

SCREEN = (1366, 768)


def _box(driver, selector: str) -> dict:  # noqa: ANN001
    return driver.execute_script(
        "const b = document.querySelector(arguments[0]).getBoundingClientRect();"
        "return {top: b.top, bottom: b.bottom, screen: window.innerHeight};", selector)


def test_the_ranked_bars_answer_first_and_unrecorded_levels_say_so(demo_duo) -> None:  # noqa: ANN001
    dash_duo = demo_duo
    driver = dash_duo.driver
    driver.set_window_size(*SCREEN)
    dash_duo.wait_for_page(url=f"{dash_duo.server_url}/drill-down?unit=cheshire&measure=crime_burglary"
                               "&preset=fytd&grain=month", timeout=20)
    dash_duo.wait_for_element("#drill-bar .gtitle", timeout=20)
    _settled(dash_duo)
    title = dash_duo.find_element("#drill-bar .gtitle").text
    assert "(99.8% limits)" in title and ("significantly worse than the force" in title
                                          or title.startswith("No BCU differs from the force beyond chance"))
    bar, trend, table = (_box(driver, s) for s in ("#bar-card", "#trend-card", "#children-card"))
    assert bar["top"] < trend["top"] < table["top"]  # the answer first
    assert _box(driver, "#drill-bar .gtitle")["bottom"] < bar["screen"]  # and on the first screen
    assert dash_duo.get_logs() == []

    dash_duo.wait_for_page(url=f"{dash_duo.server_url}/drill-down?unit=cheshire/northern/widnes"
                               "&measure=missing_reports&preset=fytd&grain=month", timeout=20)
    _wait(lambda: "not recorded at team level" in dash_duo.find_element("#bar-card").text,
          what="the bars' note")
    _settled(dash_duo)
    assert "not recorded at team level" in dash_duo.find_element("#children-card").text
    shown = dash_duo.find_element("#page").text
    assert "0 reports" not in shown and "highest of the 3 teams" not in shown
    assert dash_duo.get_logs() == []
