"""The officer level in Chromium, with the actor set as sign-in will set it (`auth.set_actor` in
a `before_request` hook the test registers; the app has no way to name an actor itself):

- a police authority member's session, driven through every page and every export on it,
  never receives an officer id, a crime reference or a map point: asserted on the bodies of
  the network responses the browser received (every fetch is recorded by a script installed
  before the page loads);
- a chief officer opens an officer's page (funnels, intervals), screenshot at 1366x768 and at
  A4 width into $LG_SCREENSHOTS if set.
"""

from __future__ import annotations

import os
import re
import shutil
import time
from pathlib import Path

import pytest

from dashboard import auth
from dashboard.app import create_app
from dashboard.data.access import Actor, Grant
from dashboard.pages import NAV
from etl.demo.force import DemoData
from tests.support.browser import free_port, settled, wait

# Installed before any page script: keeps the text of every fetch response (Dash's callbacks,
# its layout and dependencies) in window.__bodies.
RECORD_FETCH = """
window.__bodies = [];
const _fetch = window.fetch;
window.fetch = async function(...args) {
  const response = await _fetch.apply(this, args);
  try { window.__bodies.push(await response.clone().text()); } catch (e) {}
  return response;
};
"""
CRIME_REF = re.compile(r"CH-\d{4}-\d{7}")
OFFICER_ID = re.compile(r"cheshire/[a-z0-9-]+/[a-z0-9-]+/[a-z0-9-]+/[a-z]+-\d+")


@pytest.fixture
def recording(dash_duo):  # noqa: ANN001, ANN201
    """dash_duo with RECORD_FETCH installed before every page's own scripts; taken out again after
    the test, as the test process's Chromium is shared by the tests after it."""
    script = dash_duo.driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument",
                                             {"source": RECORD_FETCH})
    yield dash_duo
    dash_duo.driver.execute_cdp_cmd("Page.removeScriptToEvaluateOnNewDocument",
                                    {"identifier": script["identifier"]})


def _serve(dash_duo, link: Path, actor: Actor):  # noqa: ANN001, ANN202
    app = create_app(link)
    app.server.before_request(lambda: auth.set_actor(actor))
    dash_duo.start_server(app, port=free_port())
    return dash_duo


def test_a_police_authority_session_never_receives_individual_data(recording, demo_link: Path) -> None:  # noqa: ANN001
    duo = _serve(recording, demo_link, Actor("pa", (Grant("police_authority", "cheshire"),)))
    driver = duo.driver
    received: list[str] = []
    exports = 0
    for label, path, _ in NAV:
        for unit in ("cheshire/northern/widnes", "cheshire/northern/widnes/cid"):
            driver.get(f"{duo.server_url}{path}?unit={unit}&measure=total_crime&preset=fytd")
            duo.wait_for_text_to_equal("#page h1", label, timeout=20)
            settled(duo)
            # every export on the page: the download callback's response is recorded too
            clicked = driver.execute_script(
                "const b = [...document.querySelectorAll('button[id*=\"csv\"]')];"
                "b.forEach(x => x.click()); return b.length")
            exports += clicked
            if clicked:
                wait(lambda: any('"download"' in b for b in driver.execute_script("return window.__bodies")),
                     timeout=20, what="an export's answer")
            settled(duo)
            received += driver.execute_script("return window.__bodies")
            received.append(driver.page_source)
    # Dash writes '/' in JSON as \u002f: undone, or no unit id would match
    text = "\n".join(received).replace("\\u002f", "/")
    assert len(received) > 2 * len(NAV) and "_dash" not in text[:0]
    assert "Widnes" in text and '"cheshire/northern/widnes"' in text  # the NPU's aggregates arrived,
    # and unit ids are readable here (so the checks below can see one)
    assert not OFFICER_ID.findall(text)
    assert not CRIME_REF.findall(text)
    assert '"lat"' not in text and '"lon"' not in text  # no map points
    assert "not available to your role" in text
    assert exports > len(NAV)  # the exports were asked for, and answered
    assert "text/csv" in text


def test_a_chief_officer_opens_an_officers_page(recording, demo_link: Path, demo_facts: DemoData,  # noqa: ANN001
                                                tmp_path: Path) -> None:
    crimes = demo_facts.crimes
    widnes = crimes[crimes["npu_id"] == "cheshire/northern/widnes"]
    officer = str(widnes["officer_id"].value_counts().index[0])
    duo = _serve(recording, demo_link, Actor("chief", (Grant("chief_officer", "cheshire"),)))
    driver = duo.driver
    driver.set_window_size(1366, 768)
    driver.get(f"{duo.server_url}/officer?unit={officer}&preset=fytd")
    duo.wait_for_element("#officer-detection-funnel .main-svg", timeout=30)
    settled(duo)
    assert "interval" in duo.find_element("#officer-detection").text
    assert duo.get_logs() == []
    bodies = "".join(driver.execute_script("return window.__bodies")).replace("\\u002f", "/")
    assert officer in bodies
    driver.save_screenshot(str(tmp_path / "officer-chief-1366x768.png"))
    driver.set_window_size(794, 768)
    time.sleep(0.3)
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(794, min(int(height) + 20, 12000))
    time.sleep(0.5)
    driver.save_screenshot(str(tmp_path / "officer-chief-a4-794.png"))
    target = os.environ.get("LG_SCREENSHOTS")
    if target:
        for png in tmp_path.glob("*.png"):
            shutil.copy(png, Path(target) / png.name)
