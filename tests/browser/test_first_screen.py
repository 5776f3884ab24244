"""The first screen tells the PIM the truth (issue 9): at 1366x768 the scorecard's verdict
sentence and its top exceptions, with why and where, are visible without scrolling, and they
say what the API says."""

from __future__ import annotations

import json
import urllib.request

from selenium.webdriver.common.by import By

from tests.support.browser import wait

SCREEN = (1366, 768)
PERIOD = "from=2007-04-01&to=2008-03-31"


def _api(server: str, path: str) -> dict:
    with urllib.request.urlopen(f"{server}{path}", timeout=120) as r:   # noqa: S310 - localhost
        return json.loads(r.read())


def test_the_verdict_and_top_exceptions_are_above_the_fold(demo_duo) -> None:  # noqa: ANN001
    dash_duo = demo_duo
    driver = dash_duo.driver
    driver.set_window_size(*SCREEN)
    dash_duo.wait_for_page(url=f"{dash_duo.server_url}/scorecard?unit=cheshire&preset=custom&{PERIOD}",
                           timeout=30)
    items = wait(lambda: driver.find_elements(By.CSS_SELECTOR, "#scorecard-exceptions li"), timeout=120,
                 what="the top exceptions")
    height = driver.execute_script("return window.innerHeight")
    assert height <= SCREEN[1]
    summary = driver.find_element(By.ID, "scorecard-summary")
    for element in [summary, *items[:3]]:
        bottom = driver.execute_script("return arguments[0].getBoundingClientRect().bottom", element)
        assert bottom <= height, f"{element.text[:60]!r} ends at {bottom}px, below the fold ({height}px)"
    # the same verdict as the API: the sentence counts the assessments' exceptions, and the list
    # is the API's exceptions list, in order, with its why and where
    rows = _api(dash_duo.server_url, f"/api/v1/assessments?unit=cheshire&{PERIOD}")["assessments"]
    loaded = [r for r in rows if r["verdict"] != "not loaded"]
    n = sum(bool(r["exception"]) for r in loaded)
    assert summary.text.startswith(f"Cheshire Constabulary, 2007/08: {n} of {len(loaded)} headline measures")
    listed = _api(dash_duo.server_url, f"/api/v1/exceptions?unit=cheshire&{PERIOD}")["exceptions"]
    assert len(items) == min(5, len(listed))
    for li, item in zip(items, listed, strict=False):
        assert li.text.startswith(item["measure"])
        assert item["why"] in li.text
        if item["where"]:
            assert item["where"] in li.text
