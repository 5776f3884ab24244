"""Pages and callbacks without a browser: each chart's process_data/create_figure, the
router, click handlers, the drill-through pager and the CSV exports."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import date
from pathlib import Path

import pytest

from dashboard import exports
from dashboard import state as url_state
from dashboard.app import create_app, render
from dashboard.components.common import plot_text
from dashboard.data.facade import DataAccess
from dashboard.data.model import View
from dashboard.data.warehouse import WarehouseReader
from dashboard.pages import NAV, drilldown, scorecard
from dashboard.pages import compare as compare_page
from etl.demo.force import DemoData
from tests.support import REPO
from tests.support.tiny import manifest_row, publish, status_row, unit_row

NPU = "cheshire/northern/widnes"


@pytest.fixture(scope="module")
def data(demo_link: Path) -> DataAccess:
    access = DataAccess(WarehouseReader(demo_link))
    yield access
    access.reader.close()


def view_of(data: DataAccess, search: str) -> View:
    view = data.resolve(url_state.parse(search))
    assert view is not None
    return view


def test_every_page_renders(data: DataAccess) -> None:
    for label, path, _ in NAV:
        page = repr(render(path, "?unit=cheshire/northern&measure=crime_burglary", data))
        assert label in page, path
        assert "Northern" in page, path  # the unit picker and the statement travel to every page
    assert not [path for _, path, _ in NAV if "Coming soon" in repr(render(path, "", data))]
    assert "Page not found" in repr(render("/nope", "", data))
    assert "scorecard-table" in repr(render("/", "", data))


def test_scorecard_rows_link_to_their_drill_down(data: DataAccess) -> None:
    view = view_of(data, "?unit=cheshire/eastern&preset=12m")
    df = scorecard.process_data(data, view)
    loaded = df[df["verdict"] != "not loaded"].reset_index(drop=True)
    table = repr(scorecard.create_table(loaded, view))
    for mid in loaded["measure_id"]:
        assert f"/drill-down?unit=cheshire/eastern&measure={mid}&preset=12m&grain=month" in table
    text = scorecard.summary(df, view)
    assert text.startswith("Eastern BCU, 2007/08:") and "headline measures" in text
    flat, stem = scorecard.export_scorecard(data, view)
    assert stem == "scorecard" and len(flat) == len(df)
    assert [c for c in flat.columns if c.startswith("spark_")][-1] == "spark_2008-03"


def _title(fig: dict) -> str:
    """A chart's title as one line (components.common.wrap_titles breaks it for an A4 page)."""
    return fig["layout"]["title"]["text"].split("<br><span")[0].replace("<br>", " ")


def _bar_verdicts(fig: dict) -> dict[str, tuple[str, str]]:
    """unit id -> (legend name, hover verdict) of every bar."""
    return {c[0]: (t["name"], c[3]) for t in fig["data"] if t["type"] == "bar" for c in t["customdata"]}


def test_children_ranked_by_verdict_then_rate(demo_facts: DemoData, data: DataAccess) -> None:
    view = view_of(data, "?unit=cheshire&measure=sanction_detection_rate&rank=npu")
    df = drilldown.process_children(data, view)
    assert len(df) == 18 and not df["per_head"].any()
    assert (df["lower"] <= df["value"]).all() and (df["value"] <= df["upper"]).all()
    assert list(df["rate"]) == list(df["value"])  # a proportion is its own rate
    # Significantly worse first, significantly better last; within each, lowest rate first.
    groups = [{"worse": 0, "same": 1, "none": 1, "better": 2}[v] for v in df["vs_parent"]]
    assert groups == sorted(groups) and "worse" in set(df["vs_parent"])
    for code in set(df["vs_parent"]):
        part = df[df["vs_parent"] == code]["rate"]
        assert list(part) == sorted(part), code
    fig = drilldown.create_bar(df, view)
    bars = _bar_verdicts(fig)
    assert sorted(bars) == sorted(df["unit_id"])
    worse = df[df["vs_parent"] == "worse"]
    title = _title(fig)
    assert title.startswith(plot_text(f"{len(worse)} of 18 NPUs are significantly worse than the force "
                                      "(99.8% limits); worst " + worse["name"].iloc[0]))
    # One verdict: the bar's colour group, its hover and the table's column say the same.
    rows = drilldown.children_rows(df, view).set_index("unit_id")
    for uid, code, text in zip(df["unit_id"], df["vs_parent"], df["vs_parent_text"], strict=True):
        legend, hover = bars[uid]
        assert hover == plot_text(text) == plot_text(rows.at[uid, "vs_parent_text"])
        assert legend.startswith({"worse": "Significantly worse", "better": "Significantly better",
                                  "same": "Not significantly", "none": "Not tested"}[code])

    # Counts are ranked per 1,000 residents, not by size, and tested on the funnel around
    # the parent's own rate.
    view = view_of(data, "?unit=cheshire/northern&measure=crime_burglary")
    df = drilldown.process_children(data, view)
    assert df["per_head"].all()
    assert list(df["rate"]) == pytest.approx(list(df["numerator"] / df["population"] * 1000))
    parent = data.values("crime_burglary", ("cheshire/northern",), view.period.start, view.period.end).iloc[0]
    assert df["parent_rate"].iloc[0] == pytest.approx(parent["numerator"] / parent["population"] * 1000)
    c = demo_facts.crimes
    c = c[(c["category"] == "burglary") & (c["date"] >= "2007-04-01")]
    assert dict(zip(df["unit_id"], df["numerator"], strict=True)) == {
        k: float(v)
        for k, v in c[c["npu_id"].str.startswith("cheshire/northern/")].groupby("npu_id").size().items()
    }
    fig = drilldown.create_bar(df, view)
    assert "per 1,000 residents" in fig["layout"]["xaxis"]["title"]["text"]
    title = _title(fig)
    flagged = df[df["vs_parent"] == "worse"]
    if flagged.empty:
        assert title.startswith("No NPU differs from Northern BCU beyond chance (99.8% limits)")
    else:
        assert flagged["name"].iloc[0] in title and "significantly worse than Northern BCU" in title

    # Teams have no population: ranked by count, and not tested.
    view = view_of(data, f"?unit={NPU}&measure=crime_burglary")
    df = drilldown.process_children(data, view)
    assert not df["per_head"].any() and set(df["vs_parent"]) == {"none"}
    assert list(df["numerator"]) == sorted(df["numerator"], reverse=True)
    assert "not tested (no population" in _title(drilldown.create_bar(df, view))


def test_a_measure_not_recorded_at_team_level_shows_no_zeros(data: DataAccess) -> None:
    """Missing persons name an NPU, never a team: an NPU's drill-down says so instead of
    ranking its teams at 0 reports, and so does a team's own page."""
    view = view_of(data, f"?unit={NPU}&measure=missing_reports")
    assert drilldown.process_children(data, view).empty
    note = drilldown.empty_note(data, view)
    assert "not recorded at team level" in note
    page = repr(render("/drill-down", f"?unit={NPU}&measure=missing_reports", data))
    assert page.count("not recorded at team level") >= 2  # the bars and the table
    assert "0 reports" not in page and "highest of the 3 teams" not in page
    assert "is highest" not in page
    # The BCU's NPUs are recorded, and ranked per head.
    bcu = drilldown.process_children(data, view_of(data, "?unit=cheshire/northern&measure=missing_reports"))
    assert len(bcu) == 6 and bcu["per_head"].all() and (bcu["numerator"] > 0).all()
    team = data.children(NPU)[0]
    view = view_of(data, f"?unit={team.unit_id}&measure=missing_reports")
    assert "not recorded at team level" in repr(drilldown.unit_status(data, view))
    page = repr(render("/drill-down", f"?unit={team.unit_id}&measure=missing_reports", data))
    assert "not recorded at team level" in page
    # A force-only dataset offers no NPU ranking and says its BCUs are not recorded.
    page = repr(render("/drill-down", "?unit=cheshire&measure=stop_search_searches", data))
    assert "not recorded at BCU level" in page and "All NPUs" not in page


def test_trend_compares_with_the_parent_or_last_year(data: DataAccess) -> None:
    view = view_of(data, f"?unit={NPU}&measure=crime_burglary")
    df = drilldown.process_trend(data, view)
    parent = data.series("crime_burglary", "cheshire/northern", view.period.start, view.period.end, "month")
    share = view.unit.population / view.path[-2].population
    assert list(df["comparison"]) == pytest.approx(list(parent["value"] * share))
    assert "at Widnes's population" in df["comparison_label"].iloc[0]
    fig = drilldown.create_trend(df, view, "title")
    assert [t["name"] for t in fig["data"]][1:] == ["Widnes NPU", df["comparison_label"].iloc[0]]
    force = view_of(data, "?unit=cheshire&measure=asb_incidents")
    df = drilldown.process_trend(data, force)
    last = data.series("asb_incidents", "cheshire", date(2006, 4, 1), date(2007, 3, 31), "month")
    assert (
        list(df["comparison"]) == list(last["value"])
        and df["comparison_label"].iloc[0] == "Same period last year"
    )


def test_npu_map_needs_no_tiles(data: DataAccess) -> None:
    view = view_of(data, f"?unit={NPU}&measure=crime_robbery")
    pts = drilldown.process_map(data, view)
    total = data.record_count("crime_robbery", NPU, view.period.start, view.period.end)
    fig = drilldown.create_map(pts, view, total)
    assert {t["type"] for t in fig["data"]} == {"scatter"}
    assert sum(len(t["x"]) for t in fig["data"]) == total
    assert fig["layout"]["yaxis"]["scaleanchor"] == "x"
    text = json.dumps(fig)
    assert "mapbox" not in text and "tile" not in text.replace("no map tiles", "")
    sd = view_of(data, f"?unit={NPU}&measure=sanction_detections")
    fig = drilldown.create_map(drilldown.process_map(data, sd), sd, 1)
    assert [t["name"] for t in fig["data"]] == ["Sanction detection", "Not detected"]


def test_drill_through_pages_and_sorts_on_the_server(data: DataAccess) -> None:
    view = view_of(data, f"?unit={NPU}&measure=crime_vehicle_crime&preset=qtd")
    total = data.record_count("crime_vehicle_crime", NPU, view.period.start, view.period.end)
    first = drilldown.records_response(data, view, {"startRow": 0, "endRow": 100})
    assert first["rowCount"] == total and len(first["rowData"]) == min(100, total)
    assert list(first["rowData"][0]) == [
        "date",
        "month",
        "crime_id",
        "category",
        "outcome",
        "sanction",
        "detection_type",
        "npu",
        "team",
        "lsoa_code",
        "location",
    ]
    assert {r["npu"] for r in first["rowData"]} == {"Widnes"}
    desc = drilldown.records_response(
        data, view, {"startRow": 0, "endRow": 5, "sortModel": [{"colId": "crime_id", "sort": "desc"}]}
    )
    ids = [r["crime_id"] for r in desc["rowData"]]
    assert ids == sorted(ids, reverse=True)
    evil = drilldown.records_response(
        data, view, {"startRow": 0, "endRow": 5, "sortModel": [{"colId": "1; DROP TABLE x", "sort": "asc"}]}
    )
    assert len(evil["rowData"]) == 5  # unknown sort columns are ignored


def test_every_export_is_the_drawn_data_as_excel_safe_csv(data: DataAccess) -> None:
    search = f"?unit={NPU}&measure=crime_burglary&preset=month"
    for name in exports.EXPORTS:
        if name == "data-audit":  # the audit log is an administrator's: refused to anyone else
            with pytest.raises(PermissionError):
                exports.build(data, name, search)
            continue
        payload = exports.build(data, name, search)
        assert payload is not None, name
        rows = list(csv.reader(io.StringIO(payload["content"])))
        if name == "drill-concentration":  # the demo's records carry no LSOA: no table is drawn
            p = view_of(data, search).period
            assert data.concentration(NPU, p.start, p.end).not_available and len(rows) == 1
        else:
            assert len(rows) >= 2, name
        assert re.fullmatch(r"looking-glass-[A-Za-z0-9._-]+\.csv", payload["filename"]), payload["filename"]
    payload = exports.build(data, "drill-trend", search)
    assert (
        payload["filename"]
        == "looking-glass-crime_burglary-month-trend-cheshire-northern-widnes-2008-03-01-2008-03-31.csv"
    )
    view = view_of(data, search)
    drawn = drilldown.process_trend(data, view)
    rows = list(csv.DictReader(io.StringIO(payload["content"])))
    assert [float(r["numerator"]) for r in rows] == list(drawn["numerator"])
    assert exports.build(data, "nope", search) is None


def test_markup_in_data_is_text(tmp_path: Path) -> None:
    link = tmp_path / "warehouse.duckdb"
    publish(
        link,
        {
            "dim_unit": [unit_row("x", "<b>Bold</b> & co")],
            "lake_manifest": [manifest_row("police_uk", "x", date(2019, 1, 1))],
            "month_status": [status_row("police_uk", "x", date(2019, 1, 1))],
        },
    )
    data = DataAccess(WarehouseReader(link))
    try:
        view = view_of(data, "?unit=x&measure=crime_burglary")
        fig = drilldown.create_trend(drilldown.process_trend(data, view), view, f"{view.unit.title} title")
        assert "&lt;b&gt;Bold&lt;/b&gt; &amp; co" in fig["layout"]["title"]["text"]
        assert "<b>Bold</b>" not in json.dumps(fig)
    finally:
        data.reader.close()


def test_no_html_rendering_and_nothing_from_a_cdn(demo_link: Path) -> None:
    sources = "\n".join(p.read_text() for p in (REPO / "dashboard").rglob("*.py"))
    assert "dangerously_allow_html" not in sources
    assert "dcc.Markdown" not in sources
    assert not re.search(r"https?://(?!127\.0\.0\.1|localhost)[^\s\"']*\.(js|css)", sources)
    index = create_app(demo_link).server.test_client().get("/").get_data(as_text=True)
    # every script and stylesheet from this origin (a bare "cdn" anywhere also matched the
    # page's random tokens, e.g. "...uccdn60px~..." in CI)
    urls = re.findall(r"""(?:src|href)=["']([^"']+)["']""", index)
    assert urls and [u for u in urls if not u.startswith("/")] == [], urls
    assert not re.search(r"https?://", index.replace("http://127.0.0.1", "").replace("http://localhost", ""))


def test_compare_funnel_says_when_its_limits_are_widened(data: DataAccess) -> None:
    """Issue 9: the chart, the CSV and the switch say which limits the funnel draws."""
    page = compare_page
    view = view_of(data, "?unit=cheshire&measure=crime_burglary")
    c = page.process_comparison(data, view)
    assert c.adjusted
    fig = page.create_funnel(c, view)
    title = fig["layout"]["title"]["text"]
    note = f"Limits widened for over-dispersion (phi = {c.phi:.1f}, tau^2 = {c.tau2:.2g}; Spiegelhalter 2005)"
    assert note in title
    # the y-axis title is short (the full units are in the subtitle): it used to run into it
    assert fig["layout"]["yaxis"]["title"]["text"] == "per 1,000 residents"
    plain = page.process_comparison(data, view, adjust=False)
    assert "not widened" in page.create_funnel(plain, view)["layout"]["title"]["text"]
    frame, name = exports.EXPORTS["compare-members-msf"][0](data, view)
    assert set(frame["limits_adjusted"]) == {True} and frame["tau2"].iloc[0] == pytest.approx(c.tau2)
    assert frame["limits_note"].iloc[0] == c.limits_note and frame["phi"].iloc[0] == pytest.approx(c.phi)
    frame, name = exports.EXPORTS["compare-members-msf-plain"][0](data, view)
    assert set(frame["limits_adjusted"]) == {False} and name.endswith("-plain")
    # the trend's ticks are the axes helper's police-paper months, none rotated
    trend = page.create_trend(c, view)["layout"]["xaxis"]
    assert trend["tickmode"] == "array" and trend["tickangle"] == 0
    assert trend["ticktext"][0] == "Apr 2007"


def _picker_by_hand(demo_link: Path, visible: set[str]) -> list[tuple[str, str]]:
    """(value, label) of the unit picker for an actor who sees `visible`, from dim_unit with our
    own walk: forces by name, each unit followed by the units it is the nearest visible
    ancestor of, by name; a label names the parent only when the parent is listed too."""
    import duckdb

    with duckdb.connect(str(demo_link.resolve()), read_only=True) as con:
        rows = con.execute("SELECT unit_id, parent_id, level, name FROM dim_unit").fetchall()
    unit = {r[0]: r for r in rows}
    word = {"bcu": "BCU", "npu": "NPU", "team": "team", "officer": "officer"}
    under: dict[str | None, list[str]] = {}
    for uid, parent, level, _ in rows:
        if level != "force" and uid in visible:
            while parent is not None and parent not in visible:
                parent = unit[parent][1] if parent in unit else None
            under.setdefault(parent, []).append(uid)
    out: list[str] = []

    def walk(uid: str) -> None:
        out.append(uid)
        for child in sorted(under.get(uid, []), key=lambda c: unit[c][3]):
            walk(child)

    for force in sorted((r[0] for r in rows if r[2] == "force"), key=lambda f: unit[f][3]):
        walk(force)
    listed = set(out)

    def label(uid: str) -> str:
        _, parent, level, name = unit[uid]
        title = name if level == "force" else f"{name} {word[level]}"
        if level in ("force", "bcu"):
            return title
        return f"{title} · {unit[parent][3] if parent in listed else ''}"

    return [(uid, label(uid)) for uid in out]


def test_the_unit_picker_lists_what_each_actor_may_see(data: DataAccess, demo_link: Path) -> None:
    """The picker's options (made once per version, filtered per actor) are the walk of the units
    the actor may see, for an anonymous reader, a BCU commander, a police authority member and
    an officer limited to their own page (whose team they may not see: listed under their NPU,
    its label naming no parent)."""
    from dashboard.data.access import ANONYMOUS, Actor, Grant

    units = data.units()
    ids = set(units["unit_id"])
    level = dict(zip(units["unit_id"], units["level"], strict=True))
    officer = "cheshire/northern/widnes/response-a/pc-6548"
    actors = {
        "anonymous": (ANONYMOUS, {u for u in ids if level[u] != "officer"}),
        "bcu commander": (Actor("b", (Grant("bcu_commander", "cheshire/northern"),)),
                          {u for u in ids if level[u] == "force"}
                          | {u for u in ids if u.startswith("cheshire/northern")}
                          | {u for u in ids if u.startswith("cheshire/") and level[u] in ("bcu", "npu")}),
        "authority": (Actor("p", (Grant("police_authority", "cheshire"),)), None),
        "officer": (Actor("o", (Grant("officer", officer),)), None),
    }
    for who, (actor, visible) in actors.items():
        with data.request(actor):
            got = [(o["value"], o["label"]) for o in data.picker_options()]
            seen = {u for u in ids if data._sees(actor, data.unit(u))}   # access.py's verdict per unit
            assert [u.unit_id for u in data.picker_units()] == [v for v, _ in got], who
        if visible is not None:   # our own reading of the roles, where it is simple
            assert seen == visible, who
        assert got == _picker_by_hand(demo_link, seen), who
        assert len({v for v, _ in got}) == len(got), who
    with data.request(actors["officer"][0]):
        mine = dict((o["value"], o["label"]) for o in data.picker_options())
    assert mine[officer].endswith(" · ")   # their team is not listed: no parent named
    assert "cheshire/northern/widnes/response-a" not in mine


def test_the_concentration_card_is_drawn_by_its_own_callback(demo_link: Path) -> None:
    """The drill-down's first draw holds a placeholder and the view; the card (here: the demo's
    records carry no LSOA, so 'not available') comes from its own callback, which resolves the
    view as the actor asking may see it: another force's police authority member gets their own
    force's card (DataAccess.resolve's fallback, as for the page), nothing of Widnes."""
    from dashboard import auth
    from dashboard.data.access import ANONYMOUS, Actor, Grant

    app = create_app(demo_link)
    who: list[Actor] = [ANONYMOUS]
    app.server.before_request(lambda: auth.set_actor(who[0]))
    client = app.server.test_client()
    assert client.get("/data").status_code == 200
    token = client.get_cookie("_csrf_token").value
    search = "?unit=cheshire/northern/widnes&measure=crime_burglary&preset=fytd&grain=month"

    def call(output: str, inputs: list[dict[str, object]]) -> tuple[int, str]:
        key = next(k for k in app.callback_map if k.strip(".").startswith(output))
        parts = [dict(zip(("id", "property"), p.rsplit(".", 1), strict=True))
                 for p in key.strip(".").split("...")]
        outs = parts if key.startswith("..") else parts[0]
        body = {"output": key, "outputs": outs, "inputs": inputs, "state": [],
                "changedPropIds": [f"{i['id']}.{i['property']}" for i in inputs]}
        resp = client.post("/_dash-update-component", json=body, headers={"X-CSRFToken": token})
        return resp.status_code, resp.get_data(as_text=True)

    status, page = call("page.children", [{"id": "url", "property": "pathname", "value": "/drill-down"},
                                          {"id": "url", "property": "search", "value": search}])
    assert status == 200
    assert "concentration-slot" in page and "concentration-pending" in page
    assert "concentration-card" not in page and "concentration-not-available" not in page
    view = [{"id": "concentration-view", "property": "data", "value": search}]
    status, card = call("concentration-slot.children", view)
    assert status == 200
    assert "concentration-card" in card and "the records of this force carry no LSOA" in card
    assert "Widnes" in card
    who[0] = Actor("p", (Grant("police_authority", "merseyside"),))
    status, refused = call("concentration-slot.children", view)
    assert status == 200 and "Widnes" not in refused and "Merseyside" in refused


def test_grid_rows_are_the_frames_values_with_none_for_missing() -> None:
    """components.common.records, column by column: the same rows, values and Python types as
    pandas' own conversion (astype(object), missing -> None, to_dict), for every kind of column a
    page sends (floats with NaN, ints, strings with None, bools, nullable ints, Arrow strings,
    dates, timestamps with NaT, mixed objects, months formatted)."""
    import numpy as np
    import pandas as pd

    from dashboard.components.common import records

    df = pd.DataFrame({
        "f": [1.5, np.nan, 3.0], "i": [1, 2, 3], "s": ["a", None, "c"], "b": [True, False, True],
        "I": pd.array([1, None, 3], dtype="Int64"),
        "arrow": pd.array(["x", None, "z"], dtype="string[pyarrow]"),
        "d": [date(2020, 1, 1), None, date(2020, 3, 1)],
        "ts": pd.to_datetime(["2020-01-01", None, "2020-03-04"]),
        "o": [np.nan, "t", 4], "m": ["2020-01-01", "2020-02-01", None]})
    want = df.assign(m=pd.to_datetime(df["m"]).dt.strftime("%Y-%m"))
    want = want.astype(object).where(want.notna(), None).to_dict("records")
    got = records(df, months=("m",))
    assert got == want
    def types(rows: list[dict[str, object]]) -> list[list[type]]:
        return [[type(v) for v in row.values()] for row in rows]

    assert types(got) == types(want)
    assert got[1]["f"] is None and got[1]["I"] is None and got[1]["ts"] is None and got[0]["o"] is None


def test_an_npus_map_is_drawn_by_its_own_callback_for_who_may_see_records(demo_link: Path) -> None:
    """An NPU's drill-down goes out with a placeholder map and the view; its map (the records'
    points on its MSOAs) and the map's text alternative come from their own callback, which
    sends nothing to an actor who may not see records (a police authority member)."""
    from dashboard import auth
    from dashboard.data.access import ANONYMOUS, Actor, Grant

    app = create_app(demo_link)
    who: list[Actor] = [ANONYMOUS]
    app.server.before_request(lambda: auth.set_actor(who[0]))
    client = app.server.test_client()
    assert client.get("/data").status_code == 200
    token = client.get_cookie("_csrf_token").value
    search = "?unit=cheshire/northern/widnes&measure=crime_burglary&preset=fytd&grain=month"
    route = next(k for k in app.callback_map if k.startswith("..page.children"))
    page = client.post("/_dash-update-component", headers={"X-CSRFToken": token}, json={
        "output": route,
        "outputs": [dict(zip(("id", "property"), p.rsplit(".", 1), strict=True))
                    for p in route.strip(".").split("...")],
        "inputs": [{"id": "url", "property": "pathname", "value": "/drill-down"},
                   {"id": "url", "property": "search", "value": search}],
        "changedPropIds": ["url.search"], "state": []}).get_data(as_text=True)
    assert "drill-map-view" in page and drilldown.MAP_PENDING.rstrip("…") in page and "scattergeo" not in page
    key = "..drill-map.figure...drill-map-caption.children.."
    body = {"output": key, "outputs": [{"id": "drill-map", "property": "figure"},
                                       {"id": "drill-map-caption", "property": "children"}],
            "inputs": [{"id": "drill-map-view", "property": "data", "value": search}],
            "changedPropIds": ["drill-map-view.data"], "state": []}
    resp = client.post("/_dash-update-component", json=body, headers={"X-CSRFToken": token})
    assert resp.status_code == 200
    out = resp.get_json()["response"]
    fig, caption = out["drill-map"]["figure"], out["drill-map-caption"]["children"]
    assert {t["type"] for t in fig["data"]} >= {"choropleth", "scattergeo"}
    assert len(fig["data"][-1]["lon"]) > 100 and "has the highest burglary" in caption
    who[0] = Actor("p", (Grant("police_authority", "cheshire"),))
    refused = client.post("/_dash-update-component", json=body, headers={"X-CSRFToken": token})
    assert refused.status_code == 200 and refused.get_json()["response"] == {}   # no output updated


def test_a_bcus_map_of_its_npus_is_drawn_by_its_own_callback(demo_link: Path) -> None:
    """A BCU's drill-down goes out with a placeholder map of its NPUs and the view; the map (its
    NPUs' values on their MSOAs) and its text alternative come from their own callback; an
    NPU's page whose records the actor may see has no such map (its own map has the points)."""
    app = create_app(demo_link)
    client = app.server.test_client()
    assert client.get("/data").status_code == 200
    token = client.get_cookie("_csrf_token").value

    def post(key: str, inputs: list[dict[str, object]]) -> dict[str, object]:
        outs = [dict(zip(("id", "property"), part.rsplit(".", 1), strict=True))
                for part in key.strip(".").split("...")]
        resp = client.post("/_dash-update-component", headers={"X-CSRFToken": token}, json={
            "output": key, "outputs": outs, "inputs": inputs, "state": [],
            "changedPropIds": [f"{i['id']}.{i['property']}" for i in inputs]})
        assert resp.status_code == 200
        return resp.get_json()["response"]

    route = next(k for k in app.callback_map if k.startswith("..page.children"))
    search = "?unit=cheshire/northern&measure=total_crime&preset=12m"
    page = json.dumps(post(route, [{"id": "url", "property": "pathname", "value": "/drill-down"},
                                   {"id": "url", "property": "search", "value": search}]))
    assert "drill-npu-map-view" in page and "choropleth" not in page
    key = "..drill-npu-map.figure...drill-npu-map-caption.children.."
    out = post(key, [{"id": "drill-npu-map-view", "property": "data", "value": search}])
    fig, caption = out["drill-npu-map"]["figure"], out["drill-npu-map-caption"]["children"]
    assert fig["data"][0]["type"] == "choropleth" and len(set(fig["data"][0]["customdata"])) == 6
    assert "has the highest total recorded crime of the 6 NPUs shown" in caption
    npu = "?unit=cheshire/northern/widnes&measure=total_crime&preset=12m"
    assert post(key, [{"id": "drill-npu-map-view", "property": "data", "value": npu}]) == {}
