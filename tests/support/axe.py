"""axe-core in the browser tests: the axe.min.js that the axe-playwright-python wheel ships
(axe-core 4.12, with the WCAG 2.2 rules), injected through selenium. Nothing is downloaded."""

from __future__ import annotations

import importlib.resources
from typing import Any

WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
BLOCKING = ("serious", "critical")


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
