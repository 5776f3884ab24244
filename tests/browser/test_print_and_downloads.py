"""Issue 14 items 7 and 8 in headless Chromium (and axe-core on the force-level view of every page).

Print: every page (NAV, so new pages join) is printed to an A4 PDF through Chromium's DevTools
(Page.printToPDF, after the `beforeprint` event a user's print fires), and laid out as print media
at the printed width (A4 less the 12 mm margins of the print CSS: 186 mm, 703 CSS px): every
chart, table and grid ends inside the page, no table scrolls sideways (a column would be lost on
paper), and every column of the scorecard is on the page.

Downloads: a chart's SVG and a table's XLSX are downloaded by clicking their buttons, and the
files are opened: the SVG parsed as XML, the workbook with openpyxl."""

from __future__ import annotations

import base64
import io
import time
import unicodedata
import xml.etree.ElementTree as ET
from pathlib import Path

import openpyxl
import pypdf
from selenium.webdriver.common.by import By

from dashboard.pages import NAV
from tests.support.axe import blocking, run_axe
from tests.support.browser import TWO_FRAMES, settled, wait

QUERY = "?unit=cheshire&measure=crime_burglary&preset=fytd&grain=month"
A4_POINTS = (595, 842)         # 210 x 297 mm in PDF points
PRINT_PX = round((210 - 2 * 12) / 25.4 * 96)  # 703: the printed page's width in CSS px

OVERFLOW = """
var W = document.documentElement.clientWidth, out = [];
document.querySelectorAll('.js-plotly-plot, .main-svg, table, .table-responsive, .ag-root-wrapper,'
                          + ' .ag-center-cols-viewport, .card').forEach(function (e) {
  var r = e.getBoundingClientRect();
  if (r.width === 0) { return; }
  var scrolls = (e.classList.contains('table-responsive') || e.classList.contains('ag-center-cols-viewport'))
    && e.scrollWidth > e.clientWidth + 1;
  if (r.right > W + 1 || scrolls) {
    var owner = e.closest('[id]');
    out.push((owner ? owner.id : e.tagName) + ': right ' + Math.round(r.right) + ' of ' + W
             + (scrolls ? ', scrolls ' + e.scrollWidth + ' > ' + e.clientWidth : ''));
  }
});
return out;"""
# Where everything the OVERFLOW check measures is (edges and scroll widths): unchanged across
# two checks means the page has finished laying itself out for the new width.
GEOMETRY = """
return [...document.querySelectorAll('.js-plotly-plot, .main-svg, table, .table-responsive, .ag-root-wrapper,'
                                      + ' .ag-center-cols-viewport, .ag-header-cell, .card')]
  .map(function (e) { var r = e.getBoundingClientRect();
                      return [Math.round(r.left), Math.round(r.right), Math.round(r.height),
                              e.scrollWidth]; });"""


def _laid_out(driver, timeout: float = 10.0) -> None:  # noqa: ANN001
    """Wait for the page to stop changing after a change of width or media: its geometry
    the same after two rendered frames and 0.2 s more as the check before (instead of a blind 1 s:
    charts and grids redraw for the new width, asynchronously)."""
    previous = None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        driver.execute_async_script(TWO_FRAMES)
        time.sleep(0.2)
        now = driver.execute_script(GEOMETRY)
        if now == previous:
            return
        previous = now
    raise AssertionError("the page kept changing its layout")


def test_every_page_prints_on_a4_with_nothing_cut_on_the_right(demo_duo) -> None:  # noqa: ANN001
    driver = demo_duo.driver
    for label, path, _ in NAV:
        driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
        driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": ""})
        demo_duo.wait_for_page(url=f"{demo_duo.server_url}{path}{QUERY}", timeout=20)
        demo_duo.wait_for_text_to_equal("#page h1", label, timeout=20)
        settled(demo_duo)
        # the force's view of each page passes axe too (test_accessibility checks an NPU's)
        found = blocking(run_axe(driver))
        assert found == [], f"{path}:\n" + "\n".join(found)
        # what a user's print does first: the page redraws its charts and grids for paper
        driver.execute_script("window.dispatchEvent(new Event('beforeprint'))")
        time.sleep(0.5)
        pdf = pypdf.PdfReader(io.BytesIO(base64.b64decode(driver.execute_cdp_cmd(
            "Page.printToPDF", {"printBackground": True, "preferCSSPageSize": True})["data"])))
        box = pdf.pages[0].mediabox
        assert (round(float(box.width)), round(float(box.height))) == A4_POINTS, path
        # NFKC: the PDF's text has typographic ligatures ('Oﬃcer' with U+FB03)
        assert label in unicodedata.normalize("NFKC", pdf.pages[0].extract_text()), path
        # the same page laid out as print media on the printed width
        driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
        driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                               {"width": PRINT_PX, "height": 1000, "deviceScaleFactor": 1, "mobile": False})
        _laid_out(driver)
        assert driver.execute_script(OVERFLOW) == [], path
        if path == "/scorecard":
            # no column lost: the last heading of the table ends inside the page
            right = driver.execute_script(
                "var th = document.querySelectorAll('#scorecard-table thead th');"
                "var seen = [...th].filter(function (e) { return e.getBoundingClientRect().width > 0; });"
                "return [seen.length, seen[seen.length - 1].getBoundingClientRect().right,"
                " document.documentElement.clientWidth];")
            assert right[0] >= 7 and right[1] <= right[2], right
        driver.execute_script("window.dispatchEvent(new Event('afterprint'))")
    driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": ""})
    assert demo_duo.get_logs() == []


def _click(driver, element) -> None:  # noqa: ANN001
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'}); arguments[0].click()", element)


def test_a_chart_downloads_as_svg_and_a_table_as_xlsx(demo_duo) -> None:  # noqa: ANN001
    driver = demo_duo.driver
    folder = Path(demo_duo.download_path)
    url = (f"{demo_duo.server_url}/drill-down?unit=cheshire/western&measure=crime_burglary&preset=custom"
           "&from=2007-04-01&to=2008-03-31&grain=month")
    demo_duo.wait_for_page(url=url, timeout=20)
    demo_duo.wait_for_element("#trend-card .main-svg", timeout=20)
    settled(demo_duo)
    _click(driver, driver.find_element(By.CSS_SELECTOR, "#trend-card button[id*='\"fmt\":\"svg\"']"))
    name = "cheshire-western_crime-burglary_2007-04_2008-03.svg"
    svg = wait(lambda: (folder / name).exists() and (folder / name).stat().st_size > 1000 and folder / name,
               timeout=30, what="the SVG download")
    time.sleep(0.3)
    root = ET.fromstring(svg.read_bytes())
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    text = " ".join(root.itertext())
    assert "Burglary" in text and "SYNTHETIC DATA" in text  # the demo's mark is burned in
    # the scorecard's table as a workbook
    demo_duo.wait_for_page(url=f"{demo_duo.server_url}/scorecard?unit=cheshire/western&preset=fytd",
                           timeout=20)
    demo_duo.wait_for_element("#scorecard-table", timeout=20)
    settled(demo_duo)
    _click(driver, driver.find_element(By.CSS_SELECTOR, "button[id*='\"type\":\"xlsx\"'][id*='scorecard']"))
    xlsx = wait(lambda: [p for p in folder.glob("*scorecard*.xlsx") if p.stat().st_size > 0],
                timeout=30, what="the XLSX download")[0]
    time.sleep(0.3)
    sheet = openpyxl.load_workbook(xlsx).active
    rows = list(sheet.iter_rows(values_only=True))
    header = rows[0]
    assert "measure_id" in header and "value" in header
    shown = len(driver.find_elements(By.CSS_SELECTOR, "#scorecard-table tbody tr"))
    assert len(rows) - 1 == shown  # one row a measure, as on screen
    values = [r[header.index("value")] for r in rows[1:]]
    assert all(isinstance(v, (int, float)) or v is None for v in values) and any(values)
    assert demo_duo.get_logs() == []
