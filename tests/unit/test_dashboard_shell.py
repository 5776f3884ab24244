"""The warehouse reader without a warehouse: it says how to build one. Serving and warehouse
switches are in tests/integration/test_dashboard_shell.py, the Data page in a browser in
tests/browser/test_dashboard_shell.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from dashboard.data.warehouse import WarehouseReader


def test_missing_warehouse_says_how_to_build_one(tmp_path: Path) -> None:
    reader = WarehouseReader(tmp_path / "warehouse.duckdb")
    with pytest.raises(FileNotFoundError, match="python -m etl demo"):
        reader.cursor()
    with pytest.raises(FileNotFoundError):
        reader.version()
