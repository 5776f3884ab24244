"""The dashboard shell: serving, the Data page in a real browser, and warehouse switches."""

from __future__ import annotations

import socket
import time
from datetime import date, datetime
from pathlib import Path

import duckdb
import pytest

from dashboard import queries
from dashboard.app import create_app, render
from dashboard.data import DataAccess
from dashboard.warehouse import WarehouseReader
from etl.warehouse import WarehousePaths, new_version, writer_lock

FORCE = "cheshire"


def build_warehouse(
    link: Path, force_id: str = FORCE, months: int = 2, *, suspect_last: bool = False
) -> Path:
    """Publish a new version holding `months` months for one force, replacing earlier rows."""
    paths = WarehousePaths(link)
    with writer_lock(paths), new_version(paths) as con:
        con.execute("DELETE FROM month_status")
        for i in range(months):
            suspect = suspect_last and i == months - 1
            con.execute(
                "INSERT INTO month_status VALUES (?, ?, ?, ?, ?, 0, 0, ?, ?, ?)",
                [
                    "police_uk",
                    force_id,
                    date(2024 + i // 12, 1 + i % 12, 1),
                    10 if suspect else 1000 + i,
                    200,
                    1000.0,
                    suspect,
                    "far below expected" if suspect else None,
                ],
            )
        con.execute(
            "INSERT INTO load_log VALUES (?, ?, ?, ?, ?, 'loaded', ?, ?, ?)",
            [
                f"load-{force_id}",
                datetime(2026, 11, 1, 9, 0, 0),
                datetime(2026, 11, 1, 9, 0, 5),
                "load police-uk",
                f"{force_id}-street.csv",
                1234,
                1200,
                # Markup in data must come out as text, never as HTML.
                "<b>not bold</b>",
            ],
        )
    live = paths.live()
    assert live is not None
    return live


@pytest.fixture
def tiny(tmp_path: Path) -> Path:
    link = tmp_path / "warehouse.duckdb"
    build_warehouse(link, suspect_last=True)
    return link


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


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
        assert "Coming soon" in repr(render("/packs", "", data))
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


def test_missing_warehouse_says_how_to_build_one(tmp_path: Path) -> None:
    reader = WarehouseReader(tmp_path / "warehouse.duckdb")
    with pytest.raises(FileNotFoundError, match="python -m etl demo"):
        reader.cursor()
    with pytest.raises(FileNotFoundError):
        reader.version()


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


# -- in a real browser -----------------------------------------------------------------


@pytest.mark.browser
def test_data_page_in_browser(dash_duo, tiny: Path) -> None:  # noqa: ANN001 - fixture
    app = create_app(tiny)
    dash_duo.start_server(app, port=free_port())
    dash_duo.wait_for_page(url=f"{dash_duo.server_url}/data")

    dash_duo.wait_for_contains_text("#loaded-grid", FORCE, timeout=15)
    dash_duo.wait_for_contains_text("#load-log-grid", "<b>not bold</b>", timeout=10)
    assert dash_duo.find_element("#warehouse-version").text == "1"
    assert dash_duo.driver.title == "Looking Glass"
    # Bootstrap really applied (the navbar is dark), from our own server.
    navbar_bg = dash_duo.driver.execute_script(
        "return getComputedStyle(document.querySelector('nav.navbar')).backgroundColor"
    )
    assert navbar_bg not in ("", "rgba(0, 0, 0, 0)")

    # CSV export of exactly the grid (server-side, Excel-safe).
    dash_duo.find_element("button[id*='data-loaded']").click()
    csv = Path(dash_duo.download_path) / "looking-glass-loaded.csv"
    deadline = time.monotonic() + 10
    while not csv.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert FORCE in csv.read_text()

    dash_duo.find_element("#nav-packs").click()
    dash_duo.wait_for_contains_text("#coming", "Coming soon", timeout=10)
    assert "/packs" in dash_duo.driver.current_url

    requests = dash_duo.driver.execute_script(
        "return performance.getEntriesByType('resource').map(e => e.name)"
        ".concat(performance.getEntriesByType('navigation').map(e => e.name))"
    )
    assert requests
    outside = [u for u in requests if not u.startswith(("http://127.0.0.1", "http://localhost"))]
    assert outside == []
    assert dash_duo.get_logs() == []
