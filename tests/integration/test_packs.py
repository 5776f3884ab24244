"""PIM packs and the police authority bulletin, built for the demo and read back by independent
readers: pypdf for the PDF (text, page count and size), lxml for the HTML and its SVGs.

What they must agree with is what the scorecard shows (its verdict sentence, from the page's
own layout) and what /api/v1/exceptions returns for the same unit and period.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import flask.testing
import lxml.etree
import lxml.html
import pytest
from pypdf import PdfReader

from dashboard import state as url_state
from dashboard.app import create_app
from dashboard.data.facade import DataAccess
from dashboard.data.warehouse import WarehouseReader
from dashboard.packs.build import Request, make_pack, pack_bytes
from dashboard.packs.content import Pack
from dashboard.pages import scorecard
from tests.support.cli import REPO

A4 = (595.0, 842.0)   # points; Chromium writes 595.92 x 842.88
MARKING = "OFFICIAL-SENSITIVE"


@pytest.fixture(scope="module")
def data(demo_link: Path) -> Iterator[DataAccess]:
    access = DataAccess(WarehouseReader(demo_link))
    with access.request(access.actor()):
        yield access
    access.reader.close()


@pytest.fixture(scope="module")
def client(demo_link: Path) -> flask.testing.FlaskClient:
    return create_app(demo_link).server.test_client()


class Built:
    def __init__(self, pack: Pack) -> None:
        self.pack = pack
        self.html = pack_bytes(pack, "html").decode("utf-8")
        self.pdf = pack_bytes(pack, "pdf")
        self.reader = PdfReader(io.BytesIO(self.pdf))
        self.pages = [flat(p.extract_text() or "") for p in self.reader.pages]
        self.text = " ".join(self.pages)


def flat(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


@pytest.fixture(scope="module")
def packs(data: DataAccess) -> dict[str, Built]:
    """The four packs of the acceptance list, each HTML and PDF from one build."""
    requests = {
        "force": Request("cheshire"),
        "bcu": Request("cheshire/western", period="2007-04-01:2007-11-30"),
        "thematic": Request("cheshire", theme="burglary", period="Q3 2007/08"),
        "authority": Request("cheshire", audience="authority"),
    }
    return {k: Built(make_pack(data, r)) for k, r in requests.items()}


def _find(component: Any, wanted: str) -> Any:
    if getattr(component, "id", None) == wanted:
        return component
    children = getattr(component, "children", None)
    for child in children if isinstance(children, list | tuple) else [children]:
        if child is not None and not isinstance(child, str | int | float):
            found = _find(child, wanted)
            if found is not None:
                return found
    return None


def scorecard_sentence(data: DataAccess, pack: Pack) -> str:
    """The verdict sentence as the scorecard page draws it for the pack's unit and period."""
    p = pack.period
    query = f"?unit={pack.unit.unit_id}&preset=custom&from={p.start}&to={p.end}"
    view = data.resolve(url_state.parse(query))
    assert view is not None
    for part in scorecard.layout(data, view):
        found = _find(part, "scorecard-summary")
        if found is not None:
            return str(found.children)
    raise AssertionError("the scorecard has no verdict sentence")


def api_exceptions(client: flask.testing.FlaskClient, pack: Pack) -> list[dict[str, Any]]:
    p = pack.period
    got = client.get(f"/api/v1/exceptions?unit={pack.unit.unit_id}&from={p.start}&to={p.end}&all=1")
    assert got.status_code == 200
    return got.get_json()["exceptions"]


@pytest.mark.parametrize("kind", ["force", "bcu"])
def test_pack_holds_the_scorecards_verdict_and_the_apis_exceptions(
        packs: dict[str, Built], data: DataAccess, client: flask.testing.FlaskClient, kind: str) -> None:
    built = packs[kind]
    sentence = scorecard_sentence(data, built.pack)
    assert sentence.startswith(built.pack.unit.title)
    assert built.pack.verdict == sentence
    assert flat(sentence) in built.text                       # the PDF, through pypdf
    doc = lxml.html.fromstring(built.html)
    assert flat(doc.get_element_by_id("verdict").text_content()) == sentence
    items = api_exceptions(client, built.pack)
    assert items, "the demo has exceptions for this unit and period"
    listed = [flat(li.text_content()) for li in doc.xpath("//ol[@class='exceptions']/li")]
    assert len(listed) == len(items)
    for li, e in zip(listed, items, strict=True):
        unit = f" ({e['unit']})" if e["unit_id"] != built.pack.unit.unit_id else ""
        expected = f"{e['measure']}{unit}: {e['why']}" + (f"; {e['where']}" if e["where"] else "")
        assert li == expected
        assert flat(f"{e['measure']}{unit}: {e['why']}") in built.text


@pytest.mark.parametrize("kind", ["force", "bcu", "thematic", "authority"])
def test_pdf_is_a4_with_a_running_header_and_page_numbers(packs: dict[str, Built], kind: str) -> None:
    built = packs[kind]
    n = len(built.reader.pages)
    assert n >= 3
    for i, (page, text) in enumerate(zip(built.reader.pages, built.pages, strict=True), start=1):
        w, h = float(page.mediabox.width), float(page.mediabox.height)
        assert abs(w - A4[0]) < 2 and abs(h - A4[1]) < 2, (i, w, h)
        assert f"Page {i} of {n}" in text
        assert MARKING in text
        assert built.pack.force in text and built.pack.period_label in text
        assert "SYNTHETIC DATA" in text       # the demo says so on every page
        assert built.pack.as_of in text       # data-as-of and source on every page


@pytest.mark.parametrize("kind", ["force", "bcu", "thematic", "authority"])
def test_html_is_self_contained_and_every_svg_parses(packs: dict[str, Built], kind: str) -> None:
    html = packs[kind].html
    assert not re.search(r"https?:", html, re.I)
    assert not re.search(r"<\s*(script|link|iframe|img|object|embed)\b", html, re.I)
    assert "@import" not in html and not re.search(r"url\((?!#)", html)
    doc = lxml.html.fromstring(html)
    assert not doc.xpath("//*[@src]")
    svgs = re.findall(r"<svg\b.*?</svg>", html, re.S)
    assert svgs
    for svg in svgs:
        root = lxml.etree.fromstring(svg.encode())   # each chart is well-formed XML
        assert root.tag == "svg" and root.find("title") is not None
        assert not any(a.startswith("on") for el in root.iter() for a in el.attrib)
    assert "SYNTHETIC DATA" in html


def test_thematic_pack_covers_every_unit_to_npu(packs: dict[str, Built], data: DataAccess) -> None:
    built = packs["thematic"]
    assert built.pack.title == "Thematic pack: Burglary"
    doc = lxml.html.fromstring(built.html)
    first_column = {flat(td.text_content()) for td in doc.xpath("//table/tbody/tr/td[1]")}
    expected = {u.title for u in data.units_at("cheshire", "bcu")} | \
        {u.title for u in data.units_at("cheshire", "npu")} | {"Cheshire Constabulary"}
    assert expected <= first_column
    # its exceptions are the assessment's flagged rows for burglary, nothing else
    assert all(e.measure == "Burglary" for e in built.pack.exceptions)


def test_bulletin_holds_no_officer_no_team_and_no_crime_reference(
        packs: dict[str, Built], data: DataAccess) -> None:
    built = packs["authority"]
    units = data.units()
    officers = [str(u).rsplit("/", 1)[-1] for u in units[units["level"] == "officer"]["unit_id"]]
    assert officers and all(re.fullmatch(r"[a-z]+-\d+", o) for o in officers[:20])
    below = units[units["level"].isin(["npu", "team", "officer"])
                  & (units["force_id"] == "cheshire")]
    for text in (built.text, lxml.html.fromstring(built.html).text_content()):
        assert not re.search(r"\b(pc|dc|ps|ds|sgt|insp|pcso)-\d+", text, re.I)
        assert not any(o in text for o in officers)
        assert not re.search(r"\b[A-Z]{2}-\d{4}-\d{5,}\b", text)     # crime references: CH-2008-0010460
        assert not any(f"{name} NPU" in text for name in below[below["level"] == "npu"]["name"])
        assert not any(uid in text for uid in below["unit_id"])
    assert "Police authority bulletin" in built.text
    assert built.pack.period_label.startswith("Q")              # the last complete quarter


def test_bulletin_verdict_is_the_scorecards(packs: dict[str, Built], data: DataAccess) -> None:
    built = packs["authority"]
    assert built.pack.verdict == scorecard_sentence(data, built.pack)
    assert flat(built.pack.verdict) in built.text


def test_cli_writes_a_pack_and_refuses_bad_requests(demo_link: Path, tmp_path: Path) -> None:
    """One real process, as a user runs it (the entry point, exit status, the file); the refusals
    through typer's runner in this process, as each costs the command's imports again in a new
    one (about 3 s each) and they test the command's words, not Python's start-up."""
    import os
    import subprocess
    import sys

    from typer.testing import CliRunner

    from dashboard.cli import app

    out = tmp_path / "western.html"
    done = subprocess.run(
        [sys.executable, "-m", "dashboard", "pack", "--warehouse", str(demo_link),
         "--unit", "cheshire/western", "--period", "month", "--out", str(out)],
        cwd=REPO, capture_output=True, text=True, timeout=300, env={**os.environ, "COLUMNS": "1000"})
    assert done.returncode == 0, done.stderr
    assert "Western BCU" in out.read_text(encoding="utf-8")

    runner = CliRunner()

    def run(*args: str):  # noqa: ANN202 - click's Result
        return runner.invoke(app, ["pack", "--warehouse", str(demo_link), *args],
                             env={"COLUMNS": "1000"})

    for args, words in [
        (("--unit", "nowhere"), "unknown unit 'nowhere'"),
        (("--unit", "cheshire", "--theme", "parking"), "unknown theme 'parking'"),
        (("--unit", "cheshire", "--period", "last week"), "unknown period 'last week'"),
    ]:
        bad = tmp_path / "bad.pdf"
        got = run(*args, "--out", str(bad))
        assert got.exit_code == 1 and words in got.stderr, got.stderr
        assert "Traceback" not in got.stderr and not bad.exists()
    got = run("--unit", "cheshire", "--out", str(tmp_path / "pack.docx"))
    assert got.exit_code == 1 and "must end in .html or .pdf" in got.stderr
    assert not (tmp_path / "pack.docx").exists()


def test_pack_lists_the_last_pims_actions_and_those_still_open(
        data: DataAccess, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from datetime import date

    from dashboard.store import actions as tracker
    from dashboard.store.db import open_store

    url = f"sqlite:///{tmp_path / 'store.sqlite'}"
    monkeypatch.setenv("LG_STORE_URL", url)
    store = open_store(url=url)
    old, last = date(2026, 1, 8), date(2026, 2, 12)
    npu = "cheshire/northern/widnes"
    for desc, meeting, due, status in [
        ("Old <b>done</b> action", old, date(2026, 1, 30), "done"),
        ("Old open action: burglary patrols", old, date(2026, 2, 1), "open"),
        ("Last PIM action, done", last, date(2026, 3, 1), "done"),
        ("Last PIM action, open", last, date(2099, 3, 1), "in_progress"),
    ]:
        tracker.create_action(store, unit_id=npu, description=desc, owner="Insp Jones", due=due,
                              meeting=meeting, actor="test", status=status,
                              measure_id="crime_burglary")
    tracker.create_action(store, unit_id="cheshire/western", description="Another BCU's action",
                          owner="Ch Insp Smith", due=date(2026, 3, 1), meeting=last, actor="test")
    pack = make_pack(data, Request(npu, period="month"))
    html = pack_bytes(pack, "html").decode("utf-8")
    doc = lxml.html.fromstring(html)
    rows = doc.xpath("//h3[contains(., 'Actions for')]/following-sibling::table[1]/tbody/tr")
    listed = {flat(r.xpath("td[1]")[0].text_content()): r for r in rows}
    assert set(listed) == {"Old open action: burglary patrols", "Last PIM action, done",
                           "Last PIM action, open"}
    assert listed["Old open action: burglary patrols"].get("class") == "flag"      # overdue
    assert "(overdue)" in listed["Old open action: burglary patrols"].text_content()
    assert listed["Last PIM action, open"].get("class") is None
    assert "In progress" in listed["Last PIM action, open"].text_content()
    assert "Widnes NPU" in listed["Last PIM action, done"].text_content()
    assert "Another BCU" not in html and "<b>done</b>" not in html
