"""The service measure cubes summed from fine groups equal the cubes computed from the rows.

etl/cubes/measures.py folds a dataset's rows once to its finest groups (source, force, BCU,
NPU, officer, month, day) and adds every level and period up from them when all its
measures are plain counts and sums; otherwise it aggregates the rows once per level, as it
always did. Both paths run here on every service dataset of the demo's lake, and the row
path's values are the expected ones.
"""

from __future__ import annotations

import math
import shutil
from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest

from etl.cubes import measures
from etl.cubes.build import _measures_of
from etl.lake.warehouse import WarehousePaths
from etl.sources.registry import DATASETS
from tests.support.warehouses import DEMO_SEED, DEMO_YEARS

SERVICE = sorted(d for d, ds in DATASETS.items() if ds.cube == "measures")


def _cubes(con: duckdb.DuckDBPyConnection, lake: str, dataset: str) -> dict[tuple, tuple]:
    """The dataset's cube rows rebuilt now: key -> (num, den, num2, den2)."""
    parts = con.execute("SELECT source, force_id, month FROM lake_manifest WHERE dataset = ? "
                        "ORDER BY ALL", [dataset]).fetchall()
    measures.rebuild_dataset(con, lake, parts, DATASETS[dataset], _measures_of(dataset))
    out: dict[tuple, tuple] = {}
    for table in ("cube_measure_month", "cube_measure_day"):
        for row in con.execute(f"SELECT * FROM {table} WHERE dataset = ?", [dataset]).fetchall():
            out[(table, *row[:7])] = row[7:]
    return out


def _close(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is b
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)


def test_fine_groups_give_the_row_path_values(
    demo_warehouse: Callable, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    link = demo_warehouse(DEMO_SEED, DEMO_YEARS).link
    live = link.resolve()
    lake = str(WarehousePaths(link).lake)
    copy = tmp_path / "w.duckdb"
    shutil.copyfile(live, copy)
    con = duckdb.connect(str(copy))
    fine_used: list[str] = []
    real_fine = measures._fine
    monkeypatch.setattr(measures, "_fine", lambda c, ds, *a: (fine_used.append(ds.name),
                                                              real_fine(c, ds, *a))[1])
    try:
        fine = {d: _cubes(con, lake, d) for d in SERVICE}
        monkeypatch.setattr(measures, "additive", lambda _con, _sql: False)
        rows = {d: _cubes(con, lake, d) for d in SERVICE}
    finally:
        con.close()
    # every dataset but the one with a distinct count took the fine path
    assert sorted(fine_used) == [d for d in SERVICE if d != "rso"]
    assert len(rows["calls"]) > 100_000
    for dataset in SERVICE:
        assert fine[dataset].keys() == rows[dataset].keys(), dataset
        bad = [k for k, v in rows[dataset].items()
               if not all(_close(a, b) for a, b in zip(v, fine[dataset][k], strict=True))]
        assert not bad, (dataset, bad[:3])
