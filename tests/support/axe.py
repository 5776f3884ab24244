"""axe-core in the browser tests: the axe.min.js that the axe-playwright-python wheel ships
(axe-core 4.12, with the WCAG 2.2 rules), injected through selenium. Nothing is downloaded."""

from __future__ import annotations

import importlib.resources
import time
from typing import Any

from tests.support.browser import find_now, settled

WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
BLOCKING = ("serious", "critical")
MAX_CHART_STOPS = 3  # zoom, pan, reset: the chart's own controls
WINDOW = (1366, 768)  # the window the shared Chromium starts with (tests/conftest.py CHROME_ARGS)


def axe_source() -> str:
    return importlib.resources.files("axe_playwright_python").joinpath("axe.min.js").read_text("utf-8")


def run_axe(driver: Any) -> list[dict[str, Any]]:  # noqa: ANN401 - a selenium driver
    """The WCAG 2.2 A/AA violations axe finds on the page as it stands."""
    driver.execute_script(axe_source())
    return driver.execute_async_script(
        "var done = arguments[arguments.length - 1];"
        "axe.run(document, {runOnly: {type: 'tag', values: arguments[0]}})"
        ".then(function (r) { done(r.violations.map(function (v) { return {id: v.id, impact: v.impact,"
        " help: v.help, nodes: v.nodes.slice(0, 5).map(function (n) { return n.target.join(' ') +"
        " ' :: ' + (n.failureSummary || '').slice(0, 160); })}; })); })"
        ".catch(function (e) {"
        " done([{id: 'axe-error', impact: 'critical', help: String(e), nodes: []}]); });",
        WCAG_AA,
    )


def blocking(violations: list[dict[str, Any]]) -> list[str]:
    """The serious and critical ones, one readable line each (for the assertion message)."""
    return [f"{v['impact']} {v['id']}: {v['help']} at {v['nodes']}" for v in violations
            if v["impact"] in BLOCKING]


def check_accessibility(duo, path: str) -> None:  # noqa: ANN001 - a dash_duo
    """The page as it stands (loaded and settled) passes axe with its pickers open, keeps every
    chart out of the Tab order but for the chart's own controls, gives every chart a caption
    that states a finding, and shows no Plotly logo or share link (issue 14 item 9). Run on
    every page in NAV by tests/browser/test_dashboard_browser.py, in the visit that also checks
    the page's console and takes its screenshots: one page load serves both walks."""
    driver = duo.driver
    if driver.get_window_size() != {"width": WINDOW[0], "height": WINDOW[1]}:
        driver.set_window_size(*WINDOW)
    settled(duo)  # charts redrawn for the window
    # the pickers are part of the page: open them so axe checks them too
    driver.execute_script("document.querySelectorAll('details').forEach(function (d) { d.open = true; })")
    time.sleep(0.3)
    found = blocking(run_axe(driver))
    assert found == [], f"{path}: axe found serious or critical violations:\n" + "\n".join(found)
    charts = driver.execute_script("""
        return [...document.querySelectorAll('.js-plotly-plot')].map(function (gd) {
          var stops = [...gd.querySelectorAll('a[href], button, input, select, textarea, [tabindex]')]
            .filter(function (e) { return e.tabIndex >= 0 && !e.disabled; });
          var figure = gd.closest('figure');
          var caption = figure && document.getElementById(figure.getAttribute('aria-labelledby'));
          return [gd.id, stops.length, stops.every(function (e) { return !!e.closest('.modebar'); }),
                  caption ? caption.textContent : ''];
        });""")
    for graph_id, stops, controls_only, caption in charts:
        assert stops <= MAX_CHART_STOPS and controls_only, (
            f"{path}: chart {graph_id} has {stops} Tab stops (controls only: {controls_only})")
        # the text alternative states a finding
        assert len(caption) > 20, f"{path}: chart {graph_id}'s caption says too little: {caption!r}"
    # no Plotly logo, no share / Chart Studio link on any chart
    assert find_now(driver, ".modebar a[href*='plotly'], .modebar-btn[data-title*="
                            "'Share'], .modebar-btn[data-title*='Chart Studio']") == [], (
        f"{path}: a chart shows a Plotly logo or share link")
