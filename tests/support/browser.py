"""Helpers for the dash_duo browser tests (the start-up itself is the `serve_dashboard` and
`demo_duo` fixtures in tests/conftest.py)."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from typing import Any

LOCAL = ("http://127.0.0.1", "http://localhost")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait(predicate: Callable[[], Any], timeout: float = 15.0, what: str = "condition") -> Any:
    """Poll `predicate` until it returns something truthy (and return that), or fail."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            value = predicate()
        except Exception:  # noqa: BLE001 - the page is still changing under us
            value = None
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def find_now(driver, selector: str, by: str = "css selector") -> list[Any]:  # noqa: ANN001
    """`driver.find_elements` answered at once. dash[testing] gives the driver a 2 s implicit
    wait, so every find that matches nothing waited 2 s first: for checking that something is
    absent from a page that has already settled (tests.support.browser.settled)."""
    implicit = driver.timeouts.implicit_wait
    driver.implicitly_wait(0)
    try:
        return driver.find_elements(by, selector)
    finally:
        driver.implicitly_wait(implicit)


# Dash is idle (no callback pending, no loading marker) and Plotly has drawn every dcc.Graph.
IDLE = ("return !document.querySelector('[data-dash-is-loading=\"true\"]') && "
        "window.dash_clientside !== undefined && [...document.querySelectorAll('.dash-graph')]"
        ".every(function (g) { return !!g.querySelector('.main-svg'); })")
# Resolves after the browser has rendered two more frames (React's commit and a paint).
TWO_FRAMES = ("var done = arguments[arguments.length - 1];"
              "requestAnimationFrame(function () { requestAnimationFrame(function () { done(true); }); });")
QUIET_S = 0.1


def settled(dash_duo, timeout: float = 45.0) -> None:  # noqa: ANN001
    """Dash has finished every callback (no pending requests, no loading markers), every chart
    is drawn, and it stays so: after two rendered frames and QUIET_S more the page is checked
    again, and a callback that a result set off (its loading marker) is waited for too. (This
    replaced a blind 0.3 s sleep after the first idle check, which re-checked nothing.)

    A page's first view computes its assessments cold (about 2-4 s for the force scorecard on
    a quiet 2-core machine, several times that while both test workers and a build share it):
    the wait is generous because tests check what is drawn, and speed is measured in
    benchmarks/dashboard.py, not here."""
    driver = dash_duo.driver
    deadline = time.monotonic() + timeout
    while True:
        wait(lambda: driver.execute_script(IDLE), timeout=max(deadline - time.monotonic(), 0.5),
             what="callbacks to settle")
        driver.execute_async_script(TWO_FRAMES)
        time.sleep(QUIET_S)
        if driver.execute_script(IDLE):
            return
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for callbacks to settle")


def requests(driver) -> list[str]:  # noqa: ANN001
    """Every URL the page has fetched, itself included."""
    return driver.execute_script(
        "return performance.getEntriesByType('resource').map(e => e.name)"
        ".concat(performance.getEntriesByType('navigation').map(e => e.name))"
    )


def assert_local_only(driver) -> None:  # noqa: ANN001
    urls = requests(driver)
    assert urls and [u for u in urls if not u.startswith(LOCAL)] == []
