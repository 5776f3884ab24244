"""A warehouse damaged while a page is open (issue 13), in headless Chromium: a section drawn by
its own callback (the scorecard's exceptions, the Compare body) shows the page's plain message
instead of staying empty or keeping what it drew before.

The damage is real: the live version file is replaced by a copy whose blocks after DuckDB's
headers are overwritten (as `etl status --verify` would find it). Only the moment is arranged:
just after the page is drawn, before the section's callback reads, because a version damaged
from the start fails the page itself, which already says so (tests/integration/
test_hardening_integrity.py).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import flask
from selenium.webdriver.common.by import By

from dashboard.app import create_app
from etl.lake.warehouse import WarehousePaths
from tests.support.browser import assert_local_only, find_now, free_port, settled, wait
from tests.support.warehouses import copy_warehouse

MESSAGE = "The data could not be read (reference "
INTERNAL = ("checksum", "Traceback", "duckdb", "Error:")


def damaged_twin(link: Path) -> tuple[Path, Path]:
    """(the live version, a damaged copy of it beside it to `os.replace` over it). Replacing
    (a new inode) rather than writing in place makes the reader open the damaged file, as it
    would after a load published one, instead of serving blocks DuckDB still holds in memory."""
    live = WarehousePaths(link).live()
    twin = live.with_name(live.name + ".damaged")
    shutil.copy2(live, twin)
    size = twin.stat().st_size
    with open(twin, "r+b") as fh:
        fh.seek(3 * 4096)
        fh.write(b"\xde\xad\xbe\xef" * ((size - 3 * 4096) // 4))
    return live, twin


def section_says_so(dash_duo, selector: str) -> str:  # noqa: ANN001
    text = wait(lambda: (dash_duo.find_element(f"{selector} .read-error").text or None),
                timeout=30, what=f"the message in {selector}")
    assert MESSAGE in text and "python -m etl status --verify" in text and "python -m etl rebuild" in text
    page = dash_duo.driver.find_element(By.TAG_NAME, "body").text
    assert not [w for w in INTERNAL if w in page], page[:500]
    return text


def test_scorecard_exceptions_say_the_data_cannot_be_read(dash_duo, demo_link: Path,  # noqa: ANN001
                                                          tmp_path: Path) -> None:
    link = copy_warehouse(demo_link, tmp_path / "w")
    live, twin = damaged_twin(link)
    app = create_app(link)

    @app.server.before_request
    def damage_before_the_exceptions_are_read() -> None:
        body = flask.request.get_json(silent=True) if flask.request.method == "POST" else None
        if isinstance(body, dict) and body.get("output") == "scorecard-exceptions.children" and twin.exists():
            os.replace(twin, live)

    dash_duo.start_server(app, port=free_port(), navigate=False)
    dash_duo.driver.get(f"{dash_duo.server.url.rstrip('/')}/scorecard?unit=cheshire")
    dash_duo.wait_for_element("#scorecard-card table", timeout=30)  # the page itself was drawn
    section_says_so(dash_duo, "#scorecard-exceptions")
    assert not twin.exists()  # the damage did happen after the page was drawn
    settled(dash_duo, timeout=30)
    assert dash_duo.get_logs() == []  # no failed request: the section was answered, with the message
    assert_local_only(dash_duo.driver)


def test_compare_body_says_the_data_cannot_be_read(dash_duo, demo_link: Path,  # noqa: ANN001
                                                   tmp_path: Path) -> None:
    link = copy_warehouse(demo_link, tmp_path / "w")
    live, twin = damaged_twin(link)
    dash_duo.start_server(create_app(link), port=free_port(), navigate=False)
    dash_duo.driver.get(f"{dash_duo.server.url.rstrip('/')}/compare?unit=cheshire&measure=total_crime")
    dash_duo.wait_for_element("#compare-funnel .main-svg", timeout=30)
    settled(dash_duo, timeout=30)
    os.replace(twin, live)
    switch = dash_duo.find_element("#compare-adjust")
    dash_duo.driver.execute_script("arguments[0].scrollIntoView({block: 'center'}); arguments[0].click()",
                                   switch)
    section_says_so(dash_duo, "#compare-body")
    # what the body drew before is gone: a stale chart would read as today's data
    assert not find_now(dash_duo.driver, "#compare-funnel")
    settled(dash_duo, timeout=30)
    assert dash_duo.get_logs() == []
    assert_local_only(dash_duo.driver)
