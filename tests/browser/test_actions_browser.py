"""The action tracker in a real browser, on a real store file beside a copy of the demo warehouse:
validation messages next to the form, an action raised in the browser that survives a restart
of the app and a warehouse reload, a status change with its reason, the history, and a second
editor told that the action changed under them."""

from __future__ import annotations

import time
from datetime import date, timedelta
from pathlib import Path

from selenium.common.exceptions import ElementClickInterceptedException
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from dashboard.app import create_app
from dashboard.store import actions as service
from dashboard.store import db
from tests.support.browser import assert_local_only, free_port, settled, wait
from tests.support.warehouses import copy_warehouse, publish_new_version

UNIT = "cheshire/northern"
DESCRIPTION = "Targeted burglary patrols around Widnes town centre"


def type_into(dash_duo, selector: str, text: str) -> None:  # noqa: ANN001
    element = dash_duo.find_element(selector)
    element.send_keys(Keys.CONTROL, "a")
    element.send_keys(Keys.DELETE)
    if text:
        element.send_keys(text)


def set_date(dash_duo, selector: str, day: date) -> None:  # noqa: ANN001
    """A date input as a user fills it: Chromium's en-US date field takes month, day, year."""
    element = dash_duo.find_element(selector)  # send_keys focuses its first part, the month
    element.send_keys(f"{day:%m}{day:%d}{day:%Y}")


def click(dash_duo, selector: str) -> None:  # noqa: ANN001
    """Scroll the element into the window and click it. The headless window's viewport is
    shorter than its 768 pixels, so an element at the very end of the page can stay out of
    reach of a WebDriver click: then the browser's own click() of the element does it."""
    element = dash_duo.find_element(selector)
    dash_duo.driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", element)
    try:
        element.click()
    except ElementClickInterceptedException:
        dash_duo.driver.execute_script("arguments[0].click()", element)


def choose(dash_duo, selector: str, text: str) -> None:  # noqa: ANN001
    """Pick an option of a dcc.Dropdown by its text, once the page has stopped moving (a refreshed
    table above it changes its height)."""
    settled(dash_duo)
    element = dash_duo.find_element(selector)
    dash_duo.driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", element)
    dash_duo.select_dcc_dropdown(element, value=text)
    wait(lambda: text in element.text, what=f"{text!r} chosen in {selector}")


def grid_text(dash_duo) -> str:  # noqa: ANN001
    return dash_duo.find_element("#actions-grid").text


def test_raise_restart_change_history_and_conflict(dash_duo, demo_link: Path,  # noqa: ANN001
                                                   tmp_path: Path) -> None:
    link = copy_warehouse(demo_link, tmp_path / "wh")
    store_file = tmp_path / "wh" / "warehouse.store.sqlite"
    # A tall window: the editor and the form sit below the table, and a WebDriver click needs
    # its target inside the viewport.
    dash_duo.driver.set_window_size(1366, 1600)
    dash_duo.start_server(create_app(link), port=free_port())
    dash_duo.wait_for_page(url=f"{dash_duo.server_url}/actions?unit={UNIT}")
    dash_duo.wait_for_contains_text("#actions-count", "0 actions", timeout=20)
    assert store_file.exists()  # the store sits beside the warehouse it belongs to

    # Refused in words, next to the fields: no owner, no description, due before the meeting.
    meeting = date.today()
    set_date(dash_duo, "#actions-new-due", meeting - timedelta(days=3))
    click(dash_duo, "#actions-create")
    dash_duo.wait_for_contains_text("#actions-new-owner-error", "Name the owner", timeout=10)
    assert "description is empty" in dash_duo.find_element("#actions-new-description-error").text
    assert "is before the meeting" in dash_duo.find_element("#actions-new-due-error").text
    assert "Not saved" in dash_duo.find_element("#actions-create-message").text

    # Raised properly: the view's unit, a measure, an owner and a due date in four weeks.
    type_into(dash_duo, "#actions-new-description", DESCRIPTION)
    type_into(dash_duo, "#actions-new-owner", "Insp Hale")
    set_date(dash_duo, "#actions-new-due", meeting + timedelta(days=28))
    choose(dash_duo, "#actions-new-measure_id", "Burglary (crime by category)")
    click(dash_duo, "#actions-create")
    dash_duo.wait_for_contains_text("#actions-created",
                                    "Action 1 raised for Northern BCU, owned by Insp Hale", timeout=10)
    assert dash_duo.find_element("#actions-new-owner-error").text == ""
    dash_duo.wait_for_contains_text("#actions-grid", DESCRIPTION, timeout=10)

    # A restart and a warehouse reload: the server stopped, every store forgotten, a new
    # warehouse version published (as a load publishes one), a new app on the same files.
    dash_duo.server.stop()
    db.close_all()
    before = link.resolve()
    assert publish_new_version(link) == link.resolve() != before  # a new warehouse version is live
    dash_duo.start_server(create_app(link), port=free_port())
    dash_duo.wait_for_page(url=f"{dash_duo.server_url}/actions?unit=cheshire")
    dash_duo.wait_for_contains_text("#actions-grid", DESCRIPTION, timeout=20)
    assert "Insp Hale" in grid_text(dash_duo) and "Northern BCU" in grid_text(dash_duo)
    assert "Burglary" in grid_text(dash_duo)
    assert "1 action, none overdue" in dash_duo.find_element("#actions-count").text

    # Select it; dropping it without a reason is refused, a status change is saved.
    click(dash_duo, "#actions-grid .ag-center-cols-container .ag-row")
    dash_duo.wait_for_contains_text("#actions-selected", f"Action 1: {DESCRIPTION}", timeout=10)
    choose(dash_duo, "#actions-edit-status", "Dropped")
    click(dash_duo, "#actions-save")
    dash_duo.wait_for_contains_text("#actions-save-message", "Say why the action is dropped", timeout=10)
    choose(dash_duo, "#actions-edit-status", "In progress")
    type_into(dash_duo, "#actions-edit-reason", "Patrol plan agreed with the neighbourhood team")
    click(dash_duo, "#actions-save")
    dash_duo.wait_for_contains_text("#actions-save-message", "is now in progress (version 2)", timeout=10)
    dash_duo.wait_for_contains_text("#actions-history", "Patrol plan agreed with the neighbourhood team",
                                    timeout=10)
    history = dash_duo.find_element("#actions-history").text
    assert "In progress" in history and "Open" in history and "anonymous" in history

    # Another editor saves while this page still holds version 2.
    store = db.open_store(link)
    service.update_action(store, 1, 2, {"owner": "Ch Insp Bell"}, "second-editor")
    choose(dash_duo, "#actions-edit-status", "Done")
    click(dash_duo, "#actions-save")
    dash_duo.wait_for_contains_text("#actions-conflict", "changed by second-editor at", timeout=10)
    assert "reload to see it" in dash_duo.find_element("#actions-conflict").text
    kept = service.get_action(store, 1)
    assert (kept.owner, kept.status, kept.version) == ("Ch Insp Bell", "in_progress", 3)  # nothing lost

    # Reload, then the same change goes through against the version now read.
    click(dash_duo, "#actions-reload")
    dash_duo.wait_for_contains_text("#actions-save-message", "Reloaded: version 3", timeout=10)
    dash_duo.wait_for_contains_text("#actions-selected", "owner Ch Insp Bell", timeout=10)
    choose(dash_duo, "#actions-edit-status", "Done")
    click(dash_duo, "#actions-save")
    dash_duo.wait_for_contains_text("#actions-save-message", "is now done (version 4)", timeout=10)
    dash_duo.wait_for_contains_text("#actions-history", "second-editor", timeout=10)
    changes = [(c.version, c.field, c.new_value) for c in service.history(store, 1) if c.version > 1]
    assert changes == [(2, "status", "in_progress"),
                       (2, "status_reason", "Patrol plan agreed with the neighbourhood team"),
                       (3, "owner", "Ch Insp Bell"), (4, "status", "done")]  # the reason box kept its text
    # Done is not open: the default filter (open, in progress) no longer lists it.
    wait(lambda: "0 actions" in dash_duo.find_element("#actions-count").text, what="the table to refresh")

    # CSV of what the table shows, with Done ticked.
    click(dash_duo, "#actions-filter-status input[value='done']")
    dash_duo.wait_for_contains_text("#actions-count", "1 action", timeout=10)
    click(dash_duo, "#actions-csv")
    csv = wait(lambda: next(Path(dash_duo.download_path).glob("looking-glass-actions-cheshire-*.csv"), None),
               what="the CSV download")
    time.sleep(0.3)
    text = csv.read_text()
    assert DESCRIPTION in text and "Ch Insp Bell" in text and ",Done," in text
    settled(dash_duo)
    assert_local_only(dash_duo.driver)
    assert dash_duo.get_logs() == []


def test_scorecard_says_how_many_actions_are_open(dash_duo, demo_link: Path,  # noqa: ANN001
                                                  tmp_path: Path) -> None:
    link = copy_warehouse(demo_link, tmp_path / "wh")
    store = db.open_store(link)
    today = date.today()
    service.create_action(store, unit_id="cheshire/northern/widnes", description="Repeat victims review",
                          owner="Insp Hale", meeting=today - timedelta(days=40),
                          due=today - timedelta(days=5), actor="test")
    service.create_action(store, unit_id="cheshire/northern", description="Weekend rota", owner="Supt Marsh",
                          meeting=today, due=today + timedelta(days=28), actor="test")
    service.create_action(store, unit_id="cheshire/eastern", description="Elsewhere", owner="Supt Cole",
                          meeting=today, due=today + timedelta(days=28), actor="test")
    dash_duo.start_server(create_app(link), port=free_port())
    dash_duo.wait_for_page(url=f"{dash_duo.server_url}/scorecard?unit={UNIT}")
    dash_duo.wait_for_contains_text("#scorecard-actions-text",
                                    "2 open actions for Northern BCU and below, 1 overdue.", timeout=30)
    line = dash_duo.find_element("#scorecard-actions")
    bottom = dash_duo.driver.execute_script("return arguments[0].getBoundingClientRect().bottom", line)
    assert bottom <= dash_duo.driver.execute_script("return window.innerHeight") <= 768  # above the fold
    # Let the scorecard's exceptions callback finish (it is slow), so no request is cut off.
    wait(lambda: dash_duo.driver.find_elements(By.CSS_SELECTOR, "#scorecard-exceptions li")
         or "No exceptions" in dash_duo.find_element("#scorecard-exceptions").text, timeout=120,
         what="the scorecard's exceptions")
    settled(dash_duo)
    click(dash_duo, "#scorecard-actions-link")
    dash_duo.wait_for_contains_text("#actions-count", "2 actions, 1 overdue", timeout=20)
    assert "unit=cheshire/northern" in dash_duo.driver.current_url
    assert "Overdue: 5 days past due" in dash_duo.find_element("#actions-grid").text
    assert dash_duo.driver.find_elements(By.CSS_SELECTOR, "#actions-grid .ag-row")
