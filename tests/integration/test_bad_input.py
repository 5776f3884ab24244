"""A path that does not exist is refused, not a crash, and builds no warehouse. Malformed
police.uk files (made from a real one) are in tests/realdata/test_bad_input.py."""

from __future__ import annotations

from pathlib import Path

from etl.lake.ingest import load_police_uk
from etl.lake.warehouse import WarehousePaths


def test_missing_path_is_refused_not_crashed(tmp_path: Path) -> None:
    link = tmp_path / "w.duckdb"
    report = load_police_uk(link, [tmp_path / "nope.csv"])
    assert [r.problem for r in report.refused] == ["no such file or folder"]
    assert WarehousePaths(link).live() is None
