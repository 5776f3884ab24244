"""The audit log in Chromium: an administrator opens an officer's page, then the Data page, and
sees that view at the top of the audit grid; the page is screenshot at 1366x768 and at A4
width (into $LG_SCREENSHOTS if set). The actor is set as sign-in sets it (a `before_request`
hook the test registers, as in test_officer_browser.py)."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

from selenium.webdriver.common.by import By

from dashboard import auth
from dashboard.app import create_app
from dashboard.data.access import Actor, Grant
from etl.demo.force import DemoData
from tests.support.browser import free_port, settled, wait
from tests.support.warehouses import copy_warehouse


def test_an_administrator_sees_the_view_just_made_in_the_audit_grid(
        dash_duo, demo_link: Path, demo_facts: DemoData, tmp_path: Path) -> None:  # noqa: ANN001
    link = copy_warehouse(demo_link, tmp_path / "warehouse")
    crimes = demo_facts.crimes
    widnes = crimes[crimes["npu_id"] == "cheshire/northern/widnes"]
    officer = str(widnes["officer_id"].value_counts().index[0])
    app = create_app(link)
    app.server.before_request(lambda: auth.set_actor(
        Actor("ada", (Grant("chief_officer", "cheshire"),), admin=True)))
    dash_duo.start_server(app, port=free_port())
    driver = dash_duo.driver
    driver.set_window_size(1366, 768)
    driver.get(f"{dash_duo.server_url}/officer?unit={officer}&preset=fytd")
    dash_duo.wait_for_element("#officer-detection-funnel .main-svg", timeout=30)
    driver.get(f"{dash_duo.server_url}/data?unit=cheshire&preset=fytd")
    dash_duo.wait_for_element("#audit-card", timeout=30)
    settled(dash_duo)
    rows = wait(lambda: driver.find_elements(By.CSS_SELECTOR, "#audit-grid .ag-row"), what="audit rows")
    first = rows[0].text
    assert "ada" in first and "officer figures" in first and officer in first, first
    assert dash_duo.get_logs() == []
    for _ in range(6):  # the grids above size themselves as they come into view: scroll till the foot
        driver.execute_script("document.getElementById('audit-card').scrollIntoView({block: 'end'})")
        time.sleep(0.4)
    shots = tmp_path / "shots"
    shots.mkdir()
    driver.save_screenshot(str(shots / "data-audit-1366x768.png"))
    driver.set_window_size(794, 768)
    time.sleep(0.3)
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(794, min(int(height) + 20, 12000))
    time.sleep(0.5)
    driver.save_screenshot(str(shots / "data-audit-a4-794.png"))
    target = os.environ.get("LG_SCREENSHOTS")
    if target:
        for png in shots.glob("*.png"):
            shutil.copy(png, Path(target) / png.name)
