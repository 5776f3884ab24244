"""Script in the data never runs, on any page, and the Content-Security-Policy is enforced.

A force extract whose BCU, NPU, team and officer names and crime references are markup
(`<img onerror>`, `<script>`, `<svg onload>`, an event handler in a tag) is loaded with the real
loader into a fresh warehouse; Chromium then opens every page on the hostile BCU and the force's
pages that list its BCUs. Each payload would set `window.__xss`; it must stay unset, the
names must show as text, and the console must hold no error. Separately, an inline script
put into a page (as a rendering bug would) is refused by the browser under the policy
dashboard/headers.py sends.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from urllib.request import urlopen

from dashboard.pages import NAV
from etl.lake.ingest import load_crimes
from tests.support import REPO
from tests.support.browser import find_now, settled, wait

HOSTILE = {
    "bcu": '<img src=x onerror="window.__xss=1">Northern',
    "npu": "<script>window.__xss=2</script>Central",
    "team": '"><svg onload=window.__xss=3>Team',
    "officer": "PC <b onmouseover=window.__xss=4>1</b>",
}


def _hostile_warehouse(tmp_path: Path) -> Path:
    with open(REPO / "docs" / "examples" / "crimes.csv", encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    for i, row in enumerate(rows):
        if i % 2 == 0:
            row.update(HOSTILE)
            row["crime_ref"] = f"<img src=y onerror=window.__xss=5>{i}"
    source = tmp_path / "crimes.csv"
    with open(source, "w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    link = tmp_path / "hostile.duckdb"
    # the loader `python -m etl load crimes` calls, in this process: the test needs the loaded
    # warehouse, not the command (whose process is run in test_hardening_requests.py)
    report = load_crimes(link, str(source))
    assert report.committed and report.exit_code == 0, report.refused
    return link


def _xss(driver) -> object:  # noqa: ANN001
    return driver.execute_script("return window.__xss === undefined ? null : window.__xss;")


def test_markup_in_names_and_references_never_runs_on_any_page(serve_dashboard, tmp_path: Path) -> None:  # noqa: ANN001
    duo = serve_dashboard(_hostile_warehouse(tmp_path))
    base = duo.server_url.rstrip("/")
    with urlopen(f"{base}/api/v1/units", timeout=30) as resp:  # noqa: S310 - our own loopback server
        units = json.load(resp)["units"]
    hostile_bcu = next(u for u in units if u["level"] == "bcu" and u["name"] == HOSTILE["bcu"])
    seen_as_text = False
    # every page on the hostile BCU (its name, its NPU's and team's in headings, lists, charts
    # and grids); the force's scorecard and drill-down list the BCU by name among its peers
    visits = [(path, hostile_bcu["unit_id"]) for _, path, _ in NAV] + [
        ("/scorecard", "cheshire"), ("/drill-down", "cheshire"), ("/compare", "cheshire")]
    for path, unit in visits:
        duo.driver.get(f"{base}{path}?unit={unit}&preset=all")
        wait(lambda: duo.driver.find_elements("css selector", "#page *"), timeout=30, what=path)
        settled(duo, timeout=30)
        assert _xss(duo.driver) is None, (path, unit)
        seen_as_text = seen_as_text or HOSTILE["bcu"] in duo.find_element("#page").text
    assert seen_as_text, "the hostile BCU's name was shown as text on at least one page"
    assert find_now(duo.driver, "img[src='x'], img[src='y']") == []
    assert duo.get_logs() == []


def test_the_csp_stops_an_inline_script_that_reached_the_page(demo_duo) -> None:  # noqa: ANN001
    duo = demo_duo
    duo.wait_for_page(f"{duo.server_url}/scorecard?unit=cheshire")
    settled(duo)
    duo.driver.execute_script(
        "const s = document.createElement('script'); s.textContent = 'window.__xss = 6;';"
        "document.body.appendChild(s);"
        "const i = document.createElement('img'); i.setAttribute('onerror', 'window.__xss = 7');"
        "i.src = 'data:,';"
        "document.body.appendChild(i);")
    wait(lambda: any("Content Security Policy" in e["message"] for e in duo.get_logs()),
         timeout=10, what="the browser's CSP refusal in the console")
    assert _xss(duo.driver) is None
