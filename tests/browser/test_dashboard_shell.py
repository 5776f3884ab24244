"""The dashboard shell in a real browser: the Data page of a small hand-built warehouse, its CSV
export, the local Bootstrap and nothing fetched from elsewhere."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.support.tiny import FORCE, build_warehouse


@pytest.fixture
def tiny(tmp_path: Path) -> Path:
    link = tmp_path / "warehouse.duckdb"
    build_warehouse(link, suspect_last=True)
    return link


def test_data_page_in_browser(serve_dashboard, tiny: Path) -> None:  # noqa: ANN001 - fixture
    dash_duo = serve_dashboard(tiny)
    dash_duo.wait_for_page(url=f"{dash_duo.server_url}/data")

    dash_duo.wait_for_contains_text("#loaded-grid", FORCE, timeout=15)
    dash_duo.wait_for_contains_text("#load-log-grid", "<b>not bold</b>", timeout=10)
    assert dash_duo.find_element("#warehouse-version").text == "1"
    assert dash_duo.driver.title == "Looking Glass"
    # Bootstrap really applied (the navbar is dark), from our own server.
    navbar_bg = dash_duo.driver.execute_script(
        "return getComputedStyle(document.querySelector('nav.navbar')).backgroundColor"
    )
    assert navbar_bg not in ("", "rgba(0, 0, 0, 0)")

    # CSV export of exactly the grid (server-side, Excel-safe).
    dash_duo.find_element("button[id*='data-loaded']").click()
    csv = Path(dash_duo.download_path) / "looking-glass-loaded.csv"
    deadline = time.monotonic() + 10
    while not csv.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert FORCE in csv.read_text()

    dash_duo.find_element("#nav-packs").click()
    dash_duo.wait_for_contains_text("#page h1", "Packs", timeout=10)
    assert "/packs" in dash_duo.driver.current_url

    requests = dash_duo.driver.execute_script(
        "return performance.getEntriesByType('resource').map(e => e.name)"
        ".concat(performance.getEntriesByType('navigation').map(e => e.name))"
    )
    assert requests
    outside = [u for u in requests if not u.startswith(("http://127.0.0.1", "http://localhost"))]
    assert outside == []
    assert dash_duo.get_logs() == []
