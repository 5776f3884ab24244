"""The drill-down's Concentration section in Chromium, on a warehouse the real loader built from
a small data.police.uk street file: the headline, the Lorenz curve, the top LSOAs and the repeat
locations render, with no console error, no request outside the app and no serious axe-core
violation (the accessibility test's demo pages show the section's 'not available' line only:
the demo's records carry no LSOA)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import build_once
from tests.support import place
from tests.support.axe import blocking, run_axe
from tests.support.browser import assert_local_only, settled, wait

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def place_link(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_once(tmp_path_factory, "place-tiny", lambda folder: place.build(REPO, folder))[0]


def test_concentration_section_renders(serve_dashboard, place_link: Path) -> None:  # noqa: ANN001
    dash_duo = serve_dashboard(place_link)
    driver = dash_duo.driver
    driver.set_window_size(1366, 768)
    dash_duo.wait_for_page(url=f"{dash_duo.server_url}/drill-down?unit=cheshire/northern"
                               "&from=2019-01-01&to=2019-02-28", timeout=30)
    dash_duo.wait_for_element("#concentration-card", timeout=30)
    settled(dash_duo, timeout=30)
    headline = dash_duo.find_element("#concentration-headline").text
    assert headline.startswith(
        "In Jan 2019 – Feb 2019, the 5% of Northern BCU's LSOAs with most crime (11 of 206)")
    # the curve of crime, the curve of harm and the line of equality
    curves = wait(lambda: len(driver.find_elements("css selector", "#drill-lorenz .scatterlayer .trace")),
                  what="the Lorenz curves")
    assert curves == 3
    rows = wait(lambda: driver.find_elements("css selector", "#concentration-grid .ag-row"), what="LSOA rows")
    assert len(rows) >= 11
    figures = dash_duo.find_element("#concentration-figures").text
    assert "Top 5%" in figures and "11 of 206" in figures and "Gini coefficient" in figures
    assert "map points had 2 or more crimes" in dash_duo.find_element("#concentration-repeats").text
    notes = dash_duo.find_element("#concentration-notes").text
    assert "Harm: Approximate." in notes and "Crown copyright" in notes and "On or near" in notes
    # the anonymous actor of an open dashboard sees records, so the repeat points are listed
    assert driver.find_elements("css selector", "#repeat-locations-grid .ag-row")
    assert_local_only(driver)
    assert dash_duo.get_logs() == []
    # the section passes axe-core's WCAG 2.2 AA rules (no serious or critical violation)
    found = blocking(run_axe(driver))
    assert found == [], "\n".join(found)
