"""The Data page's "Where it came from" grid counts files, not manifest rows: the comparison
forces' force-level figures share one lake file a month (docs/scaling.md), which the manifest
lists once per force it holds. Expected counts come from walking the lake's folders."""

from __future__ import annotations

import os
from pathlib import Path

from dashboard.data.facade import DataAccess
from etl.lake.warehouse import WarehousePaths


def _parquet_count(folder: Path) -> int:
    return sum(1 for _, _, names in os.walk(folder) for n in names if n.endswith(".parquet"))


def test_each_force_level_file_is_counted_once_per_force_it_holds(
        demo_link: Path, demo_data: DataAccess) -> None:
    lake = demo_data.data_overview()["lake"]
    on_disk = _parquet_count(WarehousePaths(demo_link).lake / "force_month" / "source=demo")
    assert on_disk == 24  # the demo's two years, one file a month
    force_level = lake[(lake["dataset"] == "force_month") & (lake["source"] == "demo")]
    assert len(force_level) == 42  # the comparison forces (Cheshire's own come from its records)
    assert set(force_level["files"]) == {on_disk}
    # a record-level dataset: one file per force and month, so files still equal months
    crime = lake[(lake["dataset"] == "crime") & (lake["force_id"] == "cheshire")]
    assert list(crime["files"]) == [_parquet_count(
        WarehousePaths(demo_link).lake / "crime" / "source=demo" / "force_id=cheshire")]
