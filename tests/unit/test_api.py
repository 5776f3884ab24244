"""The data API without a warehouse (a 503 that says how to build one), and CSV that Excel cannot
mistake for formulas. The API on the demo is in tests/integration/test_api.py."""

from __future__ import annotations

import csv
import io
from datetime import date
from pathlib import Path

from dashboard.app import create_app
from dashboard.exports import excel_safe, to_csv


def test_no_warehouse_is_a_503(tmp_path: Path) -> None:
    client = create_app(tmp_path / "warehouse.duckdb").server.test_client()
    resp = client.get("/api/v1/units")
    assert resp.status_code == 503 and "python -m etl demo" in resp.get_json()["error"]


def test_excel_safe_csv() -> None:
    for bad in ("=1+1", "+44 1234", "-2+3", "@SUM(A1)", "\tx", "\rx", '=HYPERLINK("http://x")'):
        assert excel_safe(bad) == "'" + bad
    for ok in ("Cheshire", "", "1-2", "a=b", 12, -3.5, None):
        assert excel_safe(ok) == ok
    import pandas as pd

    text = to_csv(
        pd.DataFrame(
            {
                "=name": ["=cmd|' /C calc'!A0", "Widnes"],
                "change": [-3.5, 2.0],
                "when": [date(2007, 4, 1), None],
            }
        )
    )
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["'=name", "change", "when"]
    assert rows[1] == ["'=cmd|' /C calc'!A0", "-3.5", "2007-04-01"]  # numbers stay numbers
    assert rows[2] == ["Widnes", "2.0", ""]
