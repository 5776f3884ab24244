"""The Compare page in headless Chromium on the real police.uk data: the group is labelled as a
proxy, not the Home Office group (the demo's pages are in tests/browser/test_compare_browser.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.browser import settled

pytestmark = pytest.mark.browser   # and realdata, from this folder


def _settled(dash_duo) -> None:  # noqa: ANN001
    settled(dash_duo, timeout=20.0)


def _click(driver, element) -> None:  # noqa: ANN001
    driver.execute_script("arguments[0].scrollIntoView({block: 'center', behavior: 'instant'}); "
                          "arguments[0].click()", element)


def test_compare_page_on_the_real_data_labels_the_proxy(serve_dashboard, real_link: Path) -> None:  # noqa: ANN001
    dash_duo = serve_dashboard(real_link)
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
