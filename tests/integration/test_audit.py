"""The audit log through the real app: a signed-in role opens an officer's page, the records
grid, a records CSV and the API's unit list (Flask test-client requests and Dash callback
POSTs, the actor set as sign-in sets it: tests/integration/test_access_matrix.py's Driver),
and the entries are read back from the store's real SQLite file beside a private copy of the
demo warehouse. Also: an aggregate view writes nothing; a store that cannot take the entry
withholds the data in plain words; the Data page shows the log to an administrator only; and
`python -m dashboard audit` prints it, filtered.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from dashboard.data.access import Actor, Grant
from dashboard.data.audit import UNAVAILABLE, AuditEvent
from dashboard.store import audit as AU
from dashboard.store import db
from etl.demo.force import DemoData
from tests.integration.test_access_matrix import FY, WIDNES, Driver
from tests.support.cli import dashboard
from tests.support.warehouses import copy_warehouse

NPU = Actor("hale", (Grant("npu_inspector", WIDNES),))
ADMIN = Actor("ada", (Grant("chief_officer", "cheshire"),), admin=True)
CHIEF = Actor("chief", (Grant("chief_officer", "cheshire"),))   # whole force, not an administrator
NPU_ROLES = f"npu_inspector ({WIDNES})"


@pytest.fixture(scope="module")
def link(demo_link: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_warehouse(demo_link, tmp_path_factory.mktemp("audit"))


@pytest.fixture(scope="module")
def driver(link: Path) -> Iterator[Driver]:
    d = Driver(link)
    yield d
    d.app.server.extensions["looking_glass_reader"].close()
    db.close_all()


@pytest.fixture(scope="module")
def officer(demo_facts: DemoData) -> str:
    units = demo_facts.units
    ids = units.loc[units["level"] == "officer", "unit_id"]
    return sorted(u for u in ids if u.startswith(WIDNES + "/"))[0]


def store(link: Path) -> db.Store:
    return db.open_store(link)


def entries_after(link: Path, last_id: int) -> list[AU.Entry]:
    """Entries written after entry `last_id`, oldest first."""
    return sorted((e for e in AU.read(store(link)) if e.id > last_id), key=lambda e: e.id)


def last_id(link: Path) -> int:
    found = AU.read(store(link), limit=1)
    return found[0].id if found else 0


def test_each_view_of_individual_data_is_recorded_with_who_what_unit_and_route(
        driver: Driver, link: Path, officer: str) -> None:
    driver.actor = NPU
    before = last_id(link)
    start = datetime.now(UTC) - timedelta(seconds=1)

    page = driver.page("/officer", f"?unit={officer}&{FY}")
    assert "officer-crimes" in page  # the page was drawn, with the officer's figures
    search = f"?unit={WIDNES}&measure=total_crime&{FY}"
    rows = driver.records(search)
    assert rows["rowCount"] > 0 and rows["rowData"]
    csv_text = driver.export("drill-records", search)
    assert csv_text and csv_text.count("\n") > 1
    units = driver.client.get("/api/v1/units")
    assert units.status_code == 200

    got = entries_after(link, before)
    assert [(e.what, e.via, e.unit_id) for e in got] == [
        ("officer figures", "page", officer),       # the officer page: one entry (figures and peers)
        ("records", "callback", WIDNES),            # the records grid's page of rows
        ("records", "export", WIDNES),              # the CSV
        ("officer list", "api", None),              # /api/v1/units, which names officers
    ]
    assert {e.actor for e in got} == {"hale"} and {e.roles for e in got} == {NPU_ROLES}
    assert all(start <= e.at <= datetime.now(UTC) for e in got)
    assert got[0].route == (f"/_dash-update-component page.children page=/officer?unit={officer}&{FY}")
    assert got[0].detail == "period=2007-04-01..2008-03-31"
    assert got[1].route == f"/_dash-update-component records-grid.getRowsResponse page={search}"
    assert f"rows={len(rows['rowData'])}" in got[1].detail and "measure=total_crime" in got[1].detail
    assert got[2].route == f"/_dash-update-component download.data export=drill-records (csv) page={search}"
    assert f"rows={csv_text.count(chr(10)) - 1}" in got[2].detail  # every record of the CSV
    assert got[3].route == "/api/v1/units" and got[3].detail.startswith("officers=")


def test_a_cached_view_is_recorded_again(driver: Driver, link: Path, officer: str) -> None:
    """The second opening is answered from the cache: it is still a view, so still an entry."""
    driver.actor = NPU
    driver.page("/officer", f"?unit={officer}&{FY}")
    hits = driver.app.server.extensions["looking_glass_data"].hits
    before = last_id(link)
    driver.page("/officer", f"?unit={officer}&{FY}")
    assert driver.app.server.extensions["looking_glass_data"].hits > hits
    assert [(e.what, e.unit_id) for e in entries_after(link, before)] == [("officer figures", officer)]


def test_aggregate_views_write_nothing(driver: Driver, link: Path) -> None:
    driver.actor = NPU
    before = last_id(link)
    assert "scorecard" in driver.page("/scorecard", f"?unit={WIDNES}&{FY}").lower()
    driver.page("/compare", f"?unit=cheshire&measure=total_crime&{FY}")
    series = driver.client.get(
        f"/api/v1/series?measure=total_crime&unit={WIDNES}&from=2007-04-01&to=2008-03-31")
    assert series.status_code == 200 and series.get_json()["rows"]
    assert driver.client.get("/api/v1/assessments?unit=cheshire").status_code == 200
    assert entries_after(link, before) == []


def test_a_refused_view_writes_nothing(driver: Driver, link: Path) -> None:
    """Out of scope: refused before anything is handed out, so nothing to record (the refusal
    itself is logged by the access seam)."""
    driver.actor = NPU
    before = last_id(link)
    assert driver.export("drill-records", f"?unit=cheshire/eastern/crewe&measure=total_crime&{FY}") is None
    assert entries_after(link, before) == []


def test_when_the_entry_cannot_be_written_nothing_individual_is_handed_out(
        driver: Driver, link: Path, officer: str) -> None:
    """The store is damaged (the audit table gone): the officer page, the records grid, the CSV
    and the API's officer list are withheld, in plain words, with no internal text."""
    driver.actor = NPU
    path = db.default_path(link)
    with sqlite3.connect(path) as conn:
        conn.execute("ALTER TABLE audit_log RENAME TO audit_log_moved")
    try:
        page = driver.page("/officer", f"?unit={officer}&{FY}")
        assert UNAVAILABLE in page and "officer-crimes" not in page
        search = f"?unit={WIDNES}&measure=total_crime&{FY}"
        status, text = driver.callback("records-grid.getRowsResponse", [
            {"id": "records-grid", "property": "getRowsRequest", "value": {"startRow": 0, "endRow": 100}}],
            [{"id": "url", "property": "search", "value": search}], ["records-grid.getRowsRequest"])
        assert status == 503 and json.loads(text) == {"error": UNAVAILABLE}
        assert driver.export("drill-records", search) is None
        units = driver.client.get("/api/v1/units")
        assert units.status_code == 503 and units.get_json() == {"error": UNAVAILABLE}
        for said in (page, text, units.get_data(as_text=True)):
            assert "audit_log" not in said and "sqlite" not in said.lower() and "Error" not in said
        # aggregates do not need the log: still served
        assert driver.client.get(f"/api/v1/series?measure=total_crime&unit={WIDNES}").status_code == 200
    finally:
        with sqlite3.connect(path) as conn:
            conn.execute("ALTER TABLE audit_log_moved RENAME TO audit_log")
    assert "officer-crimes" in driver.page("/officer", f"?unit={officer}&{FY}")  # back once it can write


def test_the_data_page_shows_the_log_to_an_administrator_only(driver: Driver, link: Path) -> None:
    driver.actor = NPU
    driver.records(f"?unit={WIDNES}&measure=total_crime&{FY}")  # at least one entry to show
    AU.append(store(link), AuditEvent(datetime.now(UTC), "hale", NPU_ROLES, "records", WIDNES,
                                      "=HYPERLINK(\"http://x\")"), "other", "@SUM(1)")
    driver.actor = ADMIN
    page = driver.page("/data", "")
    assert "audit-grid" in page and "Audit log" in page and '"actor":"hale"' in page.replace(" ", "")
    csv_text = driver.export("data-audit", "")
    assert csv_text is not None and csv_text.startswith("at,actor,roles,what,via,unit_id,route,detail")
    # Excel-safe: stored text that would run as a formula is written with a leading apostrophe
    assert "'@SUM(1)" in csv_text and "'=HYPERLINK" in csv_text
    for actor in (CHIEF, NPU):
        driver.actor = actor
        page = driver.page("/data", "")
        assert "warehouse-version" in page  # the page itself is drawn
        assert "audit-grid" not in page and "Audit log" not in page and "hale" not in page
        assert driver.export("data-audit", "") is None  # nor is its CSV sent


def test_the_cli_prints_the_log_filtered_by_since_user_and_unit(tmp_path: Path, link: Path) -> None:
    target = copy_warehouse(link, tmp_path / "cli")
    s = db.open_store(target)
    old = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)
    AU.append(s, AuditEvent(old, "hale", NPU_ROLES, "records", WIDNES, "rows=5"), "export", "/old")
    AU.append(s, AuditEvent(old + timedelta(days=5, hours=2), "hale", NPU_ROLES, "officer figures",
                            WIDNES + "/x/pc-1", "period=a..b"), "page", "/officer")
    AU.append(s, AuditEvent(old + timedelta(days=6), "bob", "analyst (every force)", "records",
                            "cheshire/eastern", "rows=9"), "callback", "/grid")
    w = ("--warehouse", str(target))

    # the first in a process of its own, as an administrator runs it; the rest through typer's
    # runner in this process (tests.support.cli.dashboard)
    found = dashboard("audit", "--since", "2026-11-06", "--json", *w, process=True, columns=400)
    assert found.returncode == 0, found.stderr
    lines = [json.loads(x) for x in found.stdout.splitlines()]
    assert [(x["actor"], x["route"]) for x in lines] == [("bob", "/grid"), ("hale", "/officer")]
    assert lines[1]["at"] == "2026-11-06T10:00:00+00:00" and lines[1]["unit_id"] == WIDNES + "/x/pc-1"

    by_user = dashboard("audit", "--since", "2026-11-01", "--user", "hale", "--json", *w)
    assert [json.loads(x)["route"] for x in by_user.stdout.splitlines()] == ["/officer", "/old"]
    by_time = dashboard("audit", "--since", "2026-11-06T10:01", "--json", *w)
    assert [json.loads(x)["actor"] for x in by_time.stdout.splitlines()] == ["bob"]
    by_unit = dashboard("audit", "--since", "2026-01-01", "--unit", "cheshire/northern", "--json", *w)
    assert [json.loads(x)["route"] for x in by_unit.stdout.splitlines()] == ["/officer", "/old"]

    table = dashboard("audit", "--since", "2026-11-01", "--user", "bob", *w, columns=400)
    assert table.returncode == 0, table.stderr
    assert "bob" in table.stdout and "cheshire/eastern" in table.stdout and "hale" not in table.stdout
    none = dashboard("audit", "--since", "2027-01-01", *w)
    assert none.returncode == 0 and none.stdout == "" and "No audit entries since 2027-01-01" in none.stderr

    bad = dashboard("audit", "--since", "yesterday", *w)
    assert bad.returncode == 2 and "'yesterday' is not a date: use YYYY-MM-DD" in bad.stderr
    assert "Traceback" not in bad.stderr
