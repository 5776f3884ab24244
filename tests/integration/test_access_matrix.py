"""Every role x every page, the records grid, the exports and every API route, with a unit
inside and a unit outside the role's scope, through the real app: Flask test-client requests
and Dash callback POSTs, with the actor set the way sign-in will set it (`auth.set_actor` in a
`before_request` hook; the hook is registered here, by the test, and nowhere in the app).

What is asserted: the inside unit is served; the outside unit is refused ("not available to
your role" on a page, 403 with the same words as for a unit that does not exist in the API);
and no officer id the role may not see appears anywhere in what is sent (officer ids, the
records' crime references, the units list), checked against the demo's own facts.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

import flask
import flask.testing
import pytest

from dashboard import auth
from dashboard.app import create_app
from dashboard.data.access import ANONYMOUS, NOT_AVAILABLE, Actor, Grant
from dashboard.exports import EXPORTS
from dashboard.pages import NAV
from etl.demo.force import DemoData

FY = "preset=custom&from=2007-04-01&to=2008-03-31"
UNKNOWN = "cheshire/no-such-unit"
TEAM_EAST = "cheshire/eastern/crewe/cid"
WIDNES = "cheshire/northern/widnes"


class Case(NamedTuple):
    actor: Actor
    inside: str
    outside: str
    officers: str           # which officer ids may appear: 'none', 'all', a prefix, or one id
    records: bool | None    # whether the inside unit's records are listed (None: not asserted)
    teams: str = "all"      # which team ids may appear: 'none', 'all', a prefix, or one id


def _officers(demo: DemoData) -> list[str]:
    units = demo.units
    return sorted(units.loc[units["level"] == "officer", "unit_id"])


@pytest.fixture(scope="module")
def cases(demo_facts: DemoData) -> dict[str, Case]:
    officers = _officers(demo_facts)
    me = next(o for o in officers if o.startswith(WIDNES + "/"))
    team = me.rsplit("/", 1)[0]
    colleague = next(o for o in officers if o.startswith(team + "/") and o != me)
    east = next(o for o in officers if o.startswith("cheshire/eastern/"))
    return {
        "anonymous": Case(ANONYMOUS, TEAM_EAST, me, "none", True),
        "chief_officer": Case(Actor("chief", (Grant("chief_officer", "cheshire"),)), east, UNKNOWN, "all",
                              True),
        "chief_officer_kent": Case(Actor("kent", (Grant("chief_officer", "kent"),)), "kent",
                                   "cheshire/northern", "none", None, "none"),
        "analyst": Case(Actor("analyst", (Grant("analyst"),)), me, UNKNOWN, "all", True),
        "bcu_commander": Case(Actor("bcu", (Grant("bcu_commander", "cheshire/northern"),)), me, TEAM_EAST,
                              "cheshire/northern/", True, "cheshire/northern/"),
        "npu_inspector": Case(Actor("npu", (Grant("npu_inspector", WIDNES),)), me, east, WIDNES + "/", True,
                              WIDNES + "/"),
        "police_authority": Case(Actor("pa", (Grant("police_authority", "cheshire"),)), WIDNES, TEAM_EAST,
                                 "none", False, "none"),
        # an officer's own unit names its team (parent_id in /units): that one team id only
        "officer": Case(Actor("pc", (Grant("officer", me),)), me, colleague, me, True, team),
    }


ROLES = ["anonymous", "chief_officer", "chief_officer_kent", "analyst", "bcu_commander", "npu_inspector",
         "police_authority", "officer"]


class Driver:
    """The app with a test-only hook that makes `actor` the one asking (as sign-in will)."""

    def __init__(self, link: Path) -> None:
        self.app = create_app(link)
        self.actor: Actor = ANONYMOUS
        self.app.server.before_request(lambda: auth.set_actor(self.actor))
        self.client: flask.testing.FlaskClient = self.app.server.test_client()
        # as the browser does: a page sets the CSRF cookie, dash-renderer echoes it in a header
        assert self.client.get("/data").status_code == 200
        cookie = self.client.get_cookie("_csrf_token")
        assert cookie is not None
        self.csrf = cookie.value

    def callback(self, output: str, inputs: list[Any], state: list[Any],
                 changed: list[str], csrf: str | None = "") -> tuple[int, str]:
        key = next(k for k in self.app.callback_map if k.startswith(output))
        if key.startswith(".."):
            outs: Any = [dict(zip(("id", "property"), part.rsplit(".", 1), strict=True))
                         for part in key.strip(".").split("...")]
        else:
            outs = dict(zip(("id", "property"), key.split("@")[0].rsplit(".", 1), strict=True))
        body = {"output": key, "outputs": outs, "inputs": inputs, "state": state, "changedPropIds": changed}
        token = self.csrf if csrf == "" else csrf
        resp = self.client.post("/_dash-update-component", json=body,
                                headers={"X-CSRFToken": token} if token else {})
        return resp.status_code, resp.get_data(as_text=True)

    def page(self, path: str, search: str) -> str:
        status, text = self.callback("..page.children", [
            {"id": "url", "property": "pathname", "value": path},
            {"id": "url", "property": "search", "value": search}], [], ["url.pathname"])
        assert status == 200, (path, search, text[:300])
        return text

    def records(self, search: str) -> dict[str, Any]:
        status, text = self.callback("records-grid.getRowsResponse", [
            {"id": "records-grid", "property": "getRowsRequest", "value": {"startRow": 0, "endRow": 1000}}],
            [{"id": "url", "property": "search", "value": search}], ["records-grid.getRowsRequest"])
        assert status == 200, text[:300]
        return json.loads(text)["response"]["records-grid"]["getRowsResponse"]

    def export(self, name: str, search: str) -> str | None:
        ident = {"export": name, "type": "csv"}
        status, text = self.callback("download.data", [[  # the CSV buttons, then the XLSX ones
            {"id": ident, "property": "n_clicks", "value": 1}], []],
            [{"id": "url", "property": "search", "value": search}],
            [json.dumps(ident, separators=(",", ":"), sort_keys=True) + ".n_clicks"])
        if status == 204:
            return None
        assert status == 200, (name, text[:300])
        found = json.loads(text).get("response", {}).get("download")  # absent: nothing sent
        return found["data"]["content"] if found and found.get("data") else None


@pytest.fixture(scope="module")
def driver(demo_link: Path) -> Iterator[Driver]:
    d = Driver(demo_link)
    yield d
    d.app.server.extensions["looking_glass_reader"].close()


def _as(driver: Driver, case: Case) -> Driver:
    driver.actor = case.actor
    return driver


OFFICER_ID = re.compile(r"cheshire/[a-z0-9-]+/[a-z0-9-]+/[a-z0-9-]+/[a-z]+-\d+")


TEAM_ID = re.compile(r"cheshire/[a-z0-9-]+/[a-z0-9-]+/[a-z0-9-]+(?![a-z0-9/-])")


def assert_officers_allowed(text: str, case: Case, officers: set[str], where: str) -> set[str]:
    """No officer id, and no team id, outside what the role may see is in `text`; returns the
    officer ids found. Dash writes '/' in JSON as \\u002f: undone first, or no id would match."""
    text = text.replace("\\u002f", "/").replace("\\/", "/")
    teams = set(TEAM_ID.findall(text))
    if case.teams == "none":
        assert not teams, f"{where}: team ids sent to a role that may see none: {sorted(teams)[:3]}"
    elif case.teams != "all":
        bad = {t for t in teams if not (t.startswith(case.teams) if case.teams.endswith("/")
                                        else t == case.teams)}
        assert not bad, f"{where}: teams outside the scope sent: {sorted(bad)[:3]}"
    found = {m for m in OFFICER_ID.findall(text) if m in officers}
    if case.officers == "all":
        return found
    if case.officers == "none":
        assert not found, f"{where}: officer ids sent to a role that may see none: {sorted(found)[:3]}"
    elif case.officers.endswith("/"):
        bad = {o for o in found if not o.startswith(case.officers)}
        assert not bad, f"{where}: officers outside the scope sent: {sorted(bad)[:3]}"
    else:
        assert found <= {case.officers}, f"{where}: other officers sent: {sorted(found)[:3]}"
    return found


# -- pages -----------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_every_page_inside_and_outside_the_scope(role: str, cases: dict[str, Case], driver: Driver,
                                                 demo_facts: DemoData) -> None:
    case = cases[role]
    d = _as(driver, case)
    officers = set(_officers(demo_facts))
    for _label, path, _module in NAV:
        inside = d.page(path, f"?unit={case.inside}&measure=total_crime&{FY}")
        assert "The unit in the address" not in inside, (role, path)
        # no role here is an administrator: the audit log (Data page) is never sent to them
        assert "audit-grid" not in inside and "audit-card" not in inside, (role, path)
        found = assert_officers_allowed(inside, case, officers, f"{role} {path} inside")
        # the check can see an officer id: roles that may open officers get them (the picker)
        assert bool(found) == (case.officers != "none"), (role, path)
        outside = d.page(path, f"?unit={case.outside}&measure=total_crime&{FY}")
        assert "The unit in the address" in outside and NOT_AVAILABLE in outside, (role, path)
        # the address's own unit travels on in the nav links (what the user typed): nothing else
        assert_officers_allowed(outside.replace("\\u002f", "/").replace(case.outside, ""), case, officers,
                                f"{role} {path} outside")


@pytest.mark.parametrize("role", ROLES)
def test_the_records_grid(role: str, cases: dict[str, Case], driver: Driver, demo_facts: DemoData) -> None:
    case = cases[role]
    d = _as(driver, case)
    crimes = demo_facts.crimes
    got = d.records(f"?unit={case.inside}&measure=total_crime&{FY}")
    if case.records:
        assert got["rowCount"] > 0 and got["rowData"], role
    elif case.records is False:
        assert got["rowCount"] == 0 and got["rowData"] == [], role
    # outside: the unit is refused (its default unit is shown instead), and every crime listed,
    # either way, lies in the role's own record scope, counted from the demo's facts (Cheshire's:
    # no Cheshire crime outside the scope is listed)
    scope = {
        "anonymous": crimes["force_id"] == "cheshire",
        "chief_officer": crimes["force_id"] == "cheshire",
        "analyst": crimes["force_id"] == "cheshire",
        "bcu_commander": crimes["npu_id"].str.startswith("cheshire/northern/"),
        "npu_inspector": crimes["npu_id"] == WIDNES,
        "officer": crimes["officer_id"] == case.inside,
    }.get(role)
    allowed = set(crimes.loc[scope, "crime_id"]) if scope is not None else set()
    for unit in (case.inside, case.outside):
        got = d.records(f"?unit={unit}&measure=total_crime&{FY}")
        listed = {r["crime_id"] for r in got["rowData"]} & set(crimes["crime_id"])
        assert listed <= allowed, (role, unit, sorted(listed - allowed)[:3])
    assert_officers_allowed(json.dumps(got), case, set(_officers(demo_facts)), f"{role} records")


@pytest.mark.parametrize("role", ROLES)
def test_every_export(role: str, cases: dict[str, Case], driver: Driver, demo_facts: DemoData) -> None:
    case = cases[role]
    d = _as(driver, case)
    officers = set(_officers(demo_facts))
    for name in EXPORTS:
        for unit in (case.inside, case.outside):
            content = d.export(name, f"?unit={unit}&measure=total_crime&{FY}")
            if content is not None:
                assert_officers_allowed(content, case, officers, f"{role} export {name} {unit}")
    records = d.export("drill-records", f"?unit={case.inside}&measure=total_crime&{FY}")
    if case.records:
        assert records is not None and records.count("\n") > 1
    elif case.records is False:
        assert records is None  # refused: nothing is sent


# -- the API ---------------------------------------------------------------------------------

ROUTES = [
    "/api/v1/series?measure=total_crime&unit={unit}&from=2007-04-01&to=2008-03-31",
    "/api/v1/series?measure=total_crime&unit={unit}&from=2007-04-01&to=2008-03-31&format=csv",
    "/api/v1/assessments?unit={unit}&from=2007-04-01&to=2008-03-31",
    "/api/v1/assessments?unit={unit}&from=2007-04-01&to=2008-03-31&format=csv",
    "/api/v1/exceptions?unit={unit}&month=2008-03",
    "/api/v1/exceptions?unit={unit}&month=2008-03&format=csv",
]


@pytest.mark.parametrize("role", ROLES)
def test_every_api_route(role: str, cases: dict[str, Case], driver: Driver, demo_facts: DemoData) -> None:
    case = cases[role]
    d = _as(driver, case)
    officers = set(_officers(demo_facts))
    listed = d.client.get("/api/v1/units").get_json()["units"]
    assert case.inside in {u["unit_id"] for u in listed}
    assert case.outside not in {u["unit_id"] for u in listed}
    found = assert_officers_allowed(json.dumps(listed), case, officers, f"{role} /units")
    assert bool(found) == (case.officers != "none"), role  # officers listed to the roles allowed
    csv_units = d.client.get("/api/v1/units?format=csv").get_data(as_text=True)
    assert_officers_allowed(csv_units, case, officers, f"{role} /units csv")
    assert d.client.get("/api/v1/measures").status_code == 200
    for route in ROUTES:
        if "assessments" in route or "exceptions" in route:
            inside = case.inside if case.inside.count("/") < 3 else "cheshire"  # assessed to NPU
        else:
            inside = case.inside
        ok = d.client.get(route.format(unit=inside))
        assert ok.status_code == 200, (role, route, ok.get_data(as_text=True)[:200])
        assert_officers_allowed(ok.get_data(as_text=True), case, officers, f"{role} {route}")
        refused = d.client.get(route.format(unit=case.outside))
        unknown = d.client.get(route.format(unit=UNKNOWN))
        assert refused.status_code == unknown.status_code == 403, (role, route)
        words = refused.get_json()["error"].replace(case.outside, "X")
        assert words == unknown.get_json()["error"].replace(UNKNOWN, "X") and NOT_AVAILABLE in words
        assert_officers_allowed(refused.get_data(as_text=True).replace(case.outside, ""), case, officers,
                                f"{role} {route} refused")


def test_the_actor_comes_only_from_sign_in(driver: Driver, cases: dict[str, Case]) -> None:
    """Without the hook's actor (no sign-in) a request is anonymous whatever it sends."""
    driver.actor = ANONYMOUS
    officer = cases["officer"].inside
    resp = driver.client.get(f"/api/v1/series?measure=total_crime&unit={officer}",
                             headers={"X-Actor": "analyst"})
    assert resp.status_code == 403
    # a bearer token that is not a stored one is refused by sign-in (dashboard/signin.py)
    resp = driver.client.get(f"/api/v1/series?measure=total_crime&unit={officer}",
                             headers={"Authorization": "Bearer analyst"})
    assert resp.status_code == 401
    with driver.app.server.test_request_context("/"):
        assert auth.current_actor() is ANONYMOUS
        flask.g.looking_glass_actor = cases["analyst"].actor  # only sign-in (set_actor) does this
        assert auth.current_actor() == cases["analyst"].actor


def _callbacks(query: str) -> list[tuple[str, list[Any], list[Any], list[str]]]:
    """Every callback that reads data, with the inputs the page would send for `query`
    (the url-only callbacks of the controls, bars and rows read nothing)."""
    url = [{"id": "url", "property": "search", "value": query}]
    return [
        ("scorecard-exceptions.children", [{"id": "scorecard-exceptions-view", "property": "data",
                                            "value": query}], [], ["scorecard-exceptions-view.data"]),
        ("drill-status.children", [{"id": "drill-status-view", "property": "data", "value": query}], [],
         ["drill-status-view.data"]),
        ("children-grid.rowData", [{"id": "children-extra-view", "property": "data", "value": query}], [],
         ["children-extra-view.data"]),
        ("concentration-slot.children",
         [{"id": "concentration-view", "property": "data", "value": query}], [], ["concentration-view.data"]),
        ("..drill-map.figure...drill-map-caption.children..",
         [{"id": "drill-map-view", "property": "data", "value": query}], [], ["drill-map-view.data"]),
        ("..drill-npu-map.figure...drill-npu-map-caption.children..",
         [{"id": "drill-npu-map-view", "property": "data", "value": query}], [], ["drill-npu-map-view.data"]),
        ("compare-body.children", [{"id": "compare-scope", "property": "value", "value": "msf"},
                                   {"id": "compare-adjust", "property": "value", "value": True}], url,
         ["compare-scope.value"]),
        ("ew-body.children", [{"id": "ew-sensitivity", "property": "value", "value": None},
                              {"id": "ew-improvements", "property": "value", "value": True}], url,
         ["ew-improvements.value"]),
        ("ew-exceptions.children", [{"id": "ew-exceptions-request", "property": "data",
                                     "value": {"query": query, "sensitivity": None, "improvements": True}}],
         [], ["ew-exceptions-request.data"]),
    ]


@pytest.mark.parametrize("role", ROLES)
def test_every_data_callback(role: str, cases: dict[str, Case], driver: Driver, demo_facts: DemoData) -> None:
    case = cases[role]
    d = _as(driver, case)
    officers = set(_officers(demo_facts))
    # the CSV/XLSX/image downloads: test_every_export; the action tracker and packs:
    # test_the_action_tracker_by_role (it writes, so on a copy) and test_the_packs_preview_by_role
    # (a pack's own build reads through the same seam: tests/integration/test_packs.py)
    readers = {k for k in (key.split("@")[0] for key in d.app.callback_map)
               if not k.startswith("url.href")
               and k not in ("download.data", "download-image.data", "records-grid.getRowsResponse",
                             "signin-bar.children", "actions-editing.data")
               and not k.startswith(("..page.children", "..actions-", "..packs-"))}
    covered = set()
    for unit in (case.inside, case.outside):
        query = f"?unit={unit}&measure=sanction_detection_rate&{FY}"
        for output, inputs, state, changed in _callbacks(query):
            covered.add(output)
            status, text = d.callback(output, inputs, state, changed)
            assert status in (200, 204), (role, output, text[:300])
            assert_officers_allowed(text, case, officers, f"{role} {output} {unit}")
    assert readers <= covered, f"a callback the matrix does not drive: {sorted(readers - covered)}"


# -- the action tracker and packs (they write to the store: a private copy of the demo) ---------

ROLE_MAY_SEE_TEAM_EAST = {"anonymous", "chief_officer", "analyst"}
ROLE_MAY_WRITE_WIDNES = {"anonymous", "chief_officer", "analyst", "bcu_commander", "npu_inspector"}


class Tracker(NamedTuple):
    driver: Driver
    store: Any
    widnes: Any       # an action for Widnes NPU
    team: Any         # an action for a team in Eastern BCU


@pytest.fixture(scope="module")
def tracker(demo_link: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Tracker]:
    from datetime import date

    from dashboard.store import actions as service
    from dashboard.store.db import open_store
    from tests.support.warehouses import copy_warehouse

    link = copy_warehouse(demo_link, tmp_path_factory.mktemp("tracker"))
    store = open_store(link)
    made = [service.create_action(store, unit_id=u, description=f"Review burglary in {u}", owner="Insp Grey",
                                  due=date(2008, 5, 30), meeting=date(2008, 4, 10), actor="cli:test")
            for u in (WIDNES, TEAM_EAST)]
    d = Driver(link)
    yield Tracker(d, store, *made)
    d.app.server.extensions["looking_glass_reader"].close()


def _grid(d: Driver, unit: str) -> list[dict[str, Any]]:
    status, text = d.callback("..actions-grid.rowData", [
        {"id": "actions-filter-owner", "property": "value", "value": None},
        {"id": "actions-filter-meeting", "property": "value", "value": None},
        {"id": "actions-filter-status", "property": "value", "value": ["open", "in_progress"]},
        {"id": "actions-filter-below", "property": "value", "value": ["below"]},
        {"id": "actions-refresh", "property": "data", "value": 0}],
        [{"id": "actions-view", "property": "data", "value": f"?unit={unit}"}], ["actions-refresh.data"])
    assert status == 200, text[:300]
    return json.loads(text)["response"]["actions-grid"]["rowData"]


@pytest.mark.parametrize("role", ROLES)
def test_the_action_tracker_by_role(role: str, cases: dict[str, Case], tracker: Tracker) -> None:
    """Who sees which action (by its unit, through the seam), and who may change one: a crafted
    callback naming an action out of scope gets the same words as one that does not exist."""
    from dashboard.pages.actions import READ_ONLY, REFUSED
    from dashboard.store import actions as service

    d = _as(tracker.driver, cases[role])
    listed = {r["unit_id"] for r in _grid(d, "cheshire")} if role != "chief_officer_kent" else set()
    sees_team = role in ROLE_MAY_SEE_TEAM_EAST
    if role != "chief_officer_kent":
        assert (TEAM_EAST in listed) == sees_team, (role, listed)
    for action, visible in ((tracker.team, sees_team), (tracker.widnes, role != "chief_officer_kent")):
        status, text = d.callback("..actions-editor.style", [
            {"id": "actions-editing", "property": "data", "value": {"id": action.id, "version": 1}}],
            [], ["actions-editing.data"])
        assert status == 200, text[:300]
        text = text.replace("\\u002f", "/")  # Dash writes '/' in JSON as \u002f
        assert (action.description in text) == visible, (role, action.unit_id)
        assert (REFUSED in text) != visible, (role, action.unit_id)
    status, text = d.callback("..actions-editor.style", [
        {"id": "actions-editing", "property": "data", "value": {"id": 99999, "version": 1}}], [],
        ["actions-editing.data"])
    assert REFUSED in text  # the same words for an action that does not exist
    current = service.get_action(tracker.store, tracker.widnes.id)
    status, text = d.callback("..actions-save-message.children", [
        {"id": "actions-save", "property": "n_clicks", "value": 1}],
        [{"id": "actions-editing", "property": "data",
          "value": {"id": current.id, "version": current.version}},
         {"id": "actions-edit-status", "property": "value",
          "value": "open" if current.status == "in_progress" else "in_progress"},  # a real change
         {"id": "actions-edit-reason", "property": "value", "value": ""},
         {"id": "actions-edit-due", "property": "value", "value": "2008-05-30"},
         {"id": "actions-refresh", "property": "data", "value": 0}], ["actions-save.n_clicks"])
    assert status == 200, text[:300]
    after = service.get_action(tracker.store, tracker.widnes.id)
    if role in ROLE_MAY_WRITE_WIDNES:
        assert after.version == current.version + 1 and after.updated_by == cases[role].actor.id, role
    else:
        assert READ_ONLY in text and after.version == current.version, role


def test_a_change_without_the_pages_csrf_token_is_refused(tracker: Tracker) -> None:
    """A writing callback posted without the token the page set (as another site's form or
    script would), or with a wrong one, changes nothing; the page's own token saves."""
    from dashboard import csrf
    from dashboard.store import actions as service

    d = tracker.driver
    d.actor = ANONYMOUS  # LG_AUTH=open in the tests: the anonymous actor may write (docs/access.md)

    def save(token: str | None) -> tuple[int, str]:
        current = service.get_action(tracker.store, tracker.widnes.id)
        return d.callback("..actions-save-message.children", [
            {"id": "actions-save", "property": "n_clicks", "value": 1}],
            [{"id": "actions-editing", "property": "data",
              "value": {"id": current.id, "version": current.version}},
             {"id": "actions-edit-status", "property": "value",
              "value": "open" if current.status == "in_progress" else "in_progress"},
             {"id": "actions-edit-reason", "property": "value", "value": ""},
             {"id": "actions-edit-due", "property": "value", "value": "2008-05-30"},
             {"id": "actions-refresh", "property": "data", "value": 0}],
            ["actions-save.n_clicks"], csrf=token)

    before = service.get_action(tracker.store, tracker.widnes.id).version
    for token in (None, "forged-" + d.csrf[:10]):
        status, text = save(token)
        assert status == 403 and csrf.REFUSED in text, (token, status, text[:200])
    assert service.get_action(tracker.store, tracker.widnes.id).version == before
    status, _ = save(d.csrf)
    assert status == 200 and service.get_action(tracker.store, tracker.widnes.id).version == before + 1
    # a read-only callback needs no token
    assert _grid(d, "cheshire") is not None


@pytest.mark.parametrize("role", ROLES)
def test_the_packs_preview_by_role(role: str, cases: dict[str, Case], driver: Driver,
                                   demo_facts: DemoData) -> None:
    """The Packs page's preview for a unit inside and outside the scope: an outside unit is
    never previewed (the view falls back to the actor's own), and no officer or team id the role
    may not see is sent."""
    case = cases[role]
    d = _as(driver, case)
    officers = set(_officers(demo_facts))
    for unit in (case.inside, case.outside):
        status, text = d.callback("..packs-preview.children", [
            {"id": "packs-kind", "property": "value", "value": "pim"},
            {"id": "packs-theme", "property": "value", "value": None}],
            [{"id": "packs-view", "property": "data", "value": f"?unit={unit}&{FY}"}], ["packs-kind.value"])
        assert status in (200, 204), (role, unit, text[:300])
        assert_officers_allowed(text.replace("\\u002f", "/").replace(case.outside, ""), case, officers,
                                f"{role} packs preview {unit}")
