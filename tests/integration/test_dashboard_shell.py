"""The dashboard shell: serving, routes and warehouse switches, on small hand-built warehouses
(the Data page in a real browser is in tests/browser/test_dashboard_shell.py)."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from dashboard.app import create_app, render
from dashboard.data.facade import DataAccess
from dashboard.data.queries import status as queries
from dashboard.data.warehouse import WarehouseReader
from tests.support.tiny import FORCE, build_warehouse


@pytest.fixture
def tiny(tmp_path: Path) -> Path:
    link = tmp_path / "warehouse.duckdb"
    build_warehouse(link, suspect_last=True)
    return link


# -- server, no browser ----------------------------------------------------------------


def test_index_and_local_bootstrap(tiny: Path) -> None:
    client = create_app(tiny).server.test_client()

    index = client.get("/")
    assert index.status_code == 200
    html = index.get_data(as_text=True)
    assert "/vendor/bootstrap.min.css" in html
    assert "<title>Looking Glass</title>" in html
    assert "cdn." not in html and "unpkg" not in html

    css = client.get("/vendor/bootstrap.min.css")
    assert css.status_code == 200
    assert css.mimetype == "text/css"
    assert "Bootstrap" in css.get_data(as_text=True)
    assert client.get("/vendor/other.css").status_code == 404


def test_routes_render_without_a_browser(tiny: Path, tmp_path: Path) -> None:
    data = DataAccess(WarehouseReader(tiny))
    try:
        assert FORCE in repr(render("/data", "", data))
        # No units yet: the PIM pages say so instead of failing.
        assert "holds no units yet" in repr(render("/", "", data))
        assert "holds no units yet" in repr(render("/packs", "", data))
        assert "Page not found" in repr(render("/nowhere", "", data))
    finally:
        data.reader.close()

    missing = DataAccess(WarehouseReader(tmp_path / "none" / "warehouse.duckdb"))
    for path in ("/data", "/scorecard", "/drill-down", "/help"):
        page = repr(render(path, "", missing))
        assert "No warehouse yet" in page and "python -m etl demo" in page


def test_queries(tiny: Path) -> None:
    reader = WarehouseReader(tiny)
    cur = reader.cursor()
    try:
        loaded = queries.loaded_summary(cur)
        assert loaded[["source", "force_id", "months", "crimes", "asb"]].to_dict("records") == [
            {"source": "police_uk", "force_id": FORCE, "months": 2, "crimes": 1010, "asb": 400}
        ]
        assert len(queries.load_log(cur, limit=1)) == 1
        assert queries.load_log(cur, limit=0).empty
        assert queries.suspect_months(cur)["reason"].tolist() == ["far below expected"]
        assert queries.quarantine_counts(cur).empty
        assert queries.meta(cur)["version"] == "1"
    finally:
        cur.close()
        reader.close()


# -- the warehouse reader --------------------------------------------------------------


def test_reader_follows_a_swapped_warehouse(tmp_path: Path) -> None:
    link = tmp_path / "warehouse.duckdb"
    build_warehouse(link, force_id="cheshire")
    reader = WarehouseReader(link)
    try:
        assert reader.version() == "warehouse.v000001.duckdb"
        cur = reader.cursor()
        old_connection = reader.connection()
        assert cur.execute("SELECT DISTINCT force_id FROM month_status").fetchall() == [("cheshire",)]

        build_warehouse(link, force_id="merseyside", months=3)

        assert reader.version() == "warehouse.v000002.duckdb"
        new = reader.cursor()
        assert new.execute("SELECT DISTINCT force_id, count(*) FROM month_status GROUP BY 1").fetchall() == [
            ("merseyside", 3)
        ]
        # A request still holding a cursor on the old version can finish...
        assert cur.execute("SELECT count(*) FROM month_status").fetchall() == [(2,)]
        # ...and once it lets go, the old version is closed on the next request.
        cur.close()
        del cur
        reader.cursor().close()
        with pytest.raises(duckdb.ConnectionException, match="closed"):
            old_connection.execute("SELECT 1")
    finally:
        reader.close()



