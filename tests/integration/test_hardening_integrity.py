"""Damaged files (issue 13): a truncated lake Parquet file or an overwritten warehouse version
is named by `etl status --verify` with what to do; a load that finds the live version damaged
builds a whole version from the previous one and the lake instead of stopping; `etl rebuild`
repairs; the dashboard and the API say the data cannot be read instead of a bare 500."""

from __future__ import annotations

import csv
import io
import json
import os
import re
from pathlib import Path

import duckdb
import pytest

from dashboard.app import create_app
from etl.lake.ingest import load_police_uk
from etl.lake.repair import verify
from etl.lake.warehouse import WarehousePaths
from etl.sources.police_uk.reader import STREET_HEADER
from tests.support.cli import etl

INTERNAL = re.compile(r"Traceback|\w+Error:|File \"")


def street(month: str, n: int = 4) -> str:
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(STREET_HEADER)
    for i in range(n):
        w.writerow([f"id{month}{i}", month, "Cheshire Constabulary", "Cheshire Constabulary", "-2.59",
                    "53.39", "On or near High St", "E01012516", "Warrington 001A", "Burglary",
                    "Under investigation", ""])
    return out.getvalue()


def load(link: Path, month: str, n: int = 4) -> Path:
    path = link.parent / "in" / f"{month}-cheshire-street.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(street(month, n))
    report = load_police_uk(link, [path])
    assert report.committed and not report.refused, report
    return path


def damage_version(path: Path) -> None:
    """Overwrite every block after DuckDB's file headers: no table of it reads any more."""
    size = path.stat().st_size
    with open(path, "r+b") as fh:
        fh.seek(3 * 4096)
        fh.write(b"\xde\xad\xbe\xef" * ((size - 3 * 4096) // 4))


def truncate(path: Path) -> None:
    os.truncate(path, path.stat().st_size // 2)


def crimes(link: Path) -> dict[str, int]:
    con = duckdb.connect(str(WarehousePaths(link).live()), read_only=True)
    try:
        return {m.strftime("%Y-%m"): int(n) for m, n in con.execute(
            "SELECT month, crimes FROM month_status WHERE force_id = 'cheshire' ORDER BY month").fetchall()}
    finally:
        con.close()


@pytest.fixture
def damaged(tmp_path: Path) -> tuple[Path, Path]:
    """A warehouse of two loads whose live version is damaged and one of whose lake files is
    truncated. Returns (link, the truncated lake file)."""
    link = tmp_path / "w.duckdb"
    load(link, "2019-01", 4)
    load(link, "2019-02", 6)
    lake_file = next(WarehousePaths(link).lake.glob("crime/*/*/month=2019-01-01/*.parquet"))
    damage_version(WarehousePaths(link).live())
    truncate(lake_file)
    return link, lake_file


def test_status_verify_names_what_is_damaged_and_what_to_do(damaged: tuple[Path, Path]) -> None:
    link, lake_file = damaged
    done = etl("status", "--verify", "--warehouse", str(link))
    assert done.returncode == 1
    text = done.stdout + done.stderr
    assert "the live warehouse version is damaged" in text and "python -m etl rebuild" in text
    assert "month=2019-01" in text and "load its input again" in text
    assert "2019-01-cheshire-street.csv" in text
    assert not INTERNAL.search(text), text
    as_json = json.loads(etl("status", "--verify", "--json", "--warehouse", str(link)).stdout)
    assert {d["path"] for d in as_json["damaged"]} == {str(WarehousePaths(link).live()), str(lake_file)}


def test_a_healthy_warehouse_verifies(tmp_path: Path) -> None:
    link = tmp_path / "w.duckdb"
    load(link, "2019-01")
    assert verify(link) == []
    assert etl("status", "--verify", "--warehouse", str(link)).returncode == 0


def test_a_load_on_a_damaged_version_repairs_it_and_loads(damaged: tuple[Path, Path]) -> None:
    link, _ = damaged
    load(link, "2019-03", 5)  # once: "Corrupt database file: computed checksum ..." and no way out
    # 2019-01's lake file is unreadable and left out (and named); 2019-02 comes back from the
    # previous version's manifest and the lake; 2019-03 is this load.
    assert crimes(link) == {"2019-02": 6, "2019-03": 5}
    assert verify(link) == []


def test_rebuild_repairs_and_says_what_it_left_out(damaged: tuple[Path, Path]) -> None:
    link, _ = damaged
    done = etl("rebuild", "--warehouse", str(link))
    assert done.returncode == 0, done.stdout + done.stderr
    text = done.stdout + done.stderr
    assert "was damaged" in text and "left out lake file" in text and "2019-01-cheshire-street.csv" in text
    assert not INTERNAL.search(text), text
    assert verify(link) == [] and crimes(link) == {"2019-02": 6}


def test_with_no_version_left_whole_rebuild_says_so(tmp_path: Path) -> None:
    link = tmp_path / "w.duckdb"
    load(link, "2019-01")
    for version in WarehousePaths(link).versions().values():
        damage_version(version)
    done = etl("rebuild", "--warehouse", str(link))
    assert done.returncode == 1
    assert "no version of the warehouse reads whole" in done.stdout + done.stderr
    assert not INTERNAL.search(done.stdout + done.stderr)


def test_the_dashboard_and_api_say_the_data_cannot_be_read(damaged: tuple[Path, Path]) -> None:
    link, _ = damaged
    app = create_app(link)
    client = app.server.test_client()
    client.get("/")
    deps = client.get("/_dash-dependencies").get_json()
    output = next(d["output"] for d in deps if d["output"].startswith("..page.children"))
    outputs = [dict(zip(("id", "property"), o.rsplit(".", 1), strict=True))
               for o in output.strip(".").split("...")]
    body = {"output": output, "outputs": outputs,
            "inputs": [{"id": "url", "property": "pathname", "value": "/scorecard"},
                       {"id": "url", "property": "search", "value": ""}],
            "changedPropIds": ["url.pathname"], "state": []}
    resp = client.post("/_dash-update-component", json=body)
    assert resp.status_code in (200, 503)
    text = resp.get_data(as_text=True)
    assert ("could not be read" in text) and "checksum" not in text and not INTERNAL.search(text)
    api = client.get("/api/v1/series?measure=total_crime&unit=cheshire")
    assert api.status_code == 503 and "could not be read" in api.get_json()["error"]
    assert "checksum" not in api.get_data(as_text=True)


def test_sections_drawn_by_their_own_callbacks_say_the_data_cannot_be_read(
        damaged: tuple[Path, Path]) -> None:
    """The scorecard's exceptions and the Compare body are drawn by callbacks of their own: on a
    damaged warehouse each shows the page's message (once: a 503, and an empty section)."""
    link, _ = damaged
    app = create_app(link)
    client = app.server.test_client()
    client.get("/")
    search = "?unit=cheshire&measure=total_crime"
    bodies = {
        "scorecard-exceptions": {
            "output": "scorecard-exceptions.children",
            "outputs": {"id": "scorecard-exceptions", "property": "children"},
            "inputs": [{"id": "scorecard-exceptions-view", "property": "data", "value": search}],
            "changedPropIds": ["scorecard-exceptions-view.data"], "state": []},
        "compare-body": {
            "output": "compare-body.children", "outputs": {"id": "compare-body", "property": "children"},
            "inputs": [{"id": "compare-scope", "property": "value", "value": "msf"},
                       {"id": "compare-adjust", "property": "value", "value": False}],
            "state": [{"id": "url", "property": "search", "value": search}],
            "changedPropIds": ["compare-adjust.value"]},
    }
    for section, body in bodies.items():
        resp = client.post("/_dash-update-component", json=body)
        assert resp.status_code == 200, resp.get_data(as_text=True)[:300]
        drawn = json.dumps(resp.get_json()["response"][section]["children"])
        assert "The data could not be read (reference " in drawn and "status --verify" in drawn
        assert "read-error" in drawn and "checksum" not in drawn and not INTERNAL.search(drawn)


def test_records_and_their_csv_on_a_damaged_lake_file_say_so(tmp_path: Path) -> None:
    link = tmp_path / "w.duckdb"
    load(link, "2019-01", 4)
    truncate(next(WarehousePaths(link).lake.glob("crime/*/*/month=2019-01-01/*.parquet")))
    app = create_app(link)
    client = app.server.test_client()
    client.get("/")
    search = "?unit=cheshire&preset=custom&from=2019-01-01&to=2019-01-31"
    grid = {"output": "records-grid.getRowsResponse",
            "outputs": {"id": "records-grid", "property": "getRowsResponse"},
            "inputs": [{"id": "records-grid", "property": "getRowsRequest",
                        "value": {"startRow": 0, "endRow": 100}}],
            "state": [{"id": "url", "property": "search", "value": search}],
            "changedPropIds": ["records-grid.getRowsRequest"]}
    export = {"output": "download.data", "outputs": {"id": "download", "property": "data"},
              # the CSV buttons, then the XLSX buttons (the download callback's two inputs)
              "inputs": [[{"id": {"export": "drill-records", "type": "csv"}, "property": "n_clicks",
                           "value": 1}], []],
              "state": [{"id": "url", "property": "search", "value": search}],
              "changedPropIds": ['{"export":"drill-records","type":"csv"}.n_clicks']}
    for body in (grid, export):  # once: a bare 500 each
        resp = client.post("/_dash-update-component", json=body)
        assert resp.status_code == 503, resp.get_data(as_text=True)[:300]
        text = resp.get_data(as_text=True)
        assert "could not be read" in text and "status --verify" in text
        assert "magic" not in text and not INTERNAL.search(text)


def test_plain_status_on_a_damaged_version_points_to_the_remedy(damaged: tuple[Path, Path]) -> None:
    link, _ = damaged
    done = etl("status", "--warehouse", str(link))
    text = done.stdout + done.stderr
    assert done.returncode == 1 and "status --verify" in text and "rebuild" in text
    assert "bug" not in text and not INTERNAL.search(text)
