"""The lake's layout (etl/lake/layout.py): a load writes partitions that DuckDB reads with hive
partitioning ON and gets the files' own typed columns back, and `python -m etl rebuild` moves a
lake of the older layout (force=/month=YYYY-MM, whose text month overrode the files' DATE) to
it without changing a number. Spark's reading of the same layout is in
tests/realdata/test_spark_cubes.py (one JVM per run)."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import duckdb

from etl.lake import layout
from etl.lake.rebuild import rebuild_warehouse
from etl.lake.warehouse import WarehousePaths, new_version, writer_lock
from tests.integration.test_hardening_integrity import load


def _manifest(link: Path) -> list[tuple]:
    con = duckdb.connect(str(link.resolve()), read_only=True)
    try:
        return con.execute("SELECT dataset, source, force_id, month, path, rows FROM lake_manifest "
                           "ORDER BY ALL").fetchall()
    finally:
        con.close()


def _cube(link: Path) -> list[tuple]:
    con = duckdb.connect(str(link.resolve()), read_only=True)
    try:
        return con.execute("SELECT * FROM cube_crime_month ORDER BY ALL").fetchall()
    finally:
        con.close()


def test_a_load_writes_the_layout_duckdb_reads_with_hive_partitioning_on(tmp_path: Path) -> None:
    link = tmp_path / "warehouse.duckdb"
    load(link, "2019-01", 4)
    load(link, "2019-02", 3)
    rows = _manifest(link)
    assert [r[4] for r in rows] == [
        f"crime/source=police_uk/force_id=cheshire/month={m}/{Path(r[4]).name}"
        for m, r in zip(("2019-01-01", "2019-02-01"), rows, strict=True)]
    lake = WarehousePaths(link).lake
    con = duckdb.connect()
    read = con.execute(
        "SELECT source, force_id, month, typeof(month), count(*) FROM read_parquet(?, "
        "hive_partitioning = true) GROUP BY ALL ORDER BY ALL",
        [str(lake / "crime" / "**" / "*.parquet")]).fetchall()
    assert read == [("police_uk", "cheshire", date(2019, 1, 1), "DATE", 4),
                    ("police_uk", "cheshire", date(2019, 2, 1), "DATE", 3)]


def test_rebuild_moves_an_older_layout_and_keeps_every_number(tmp_path: Path) -> None:
    link = tmp_path / "warehouse.duckdb"
    load(link, "2019-01", 4)
    load(link, "2019-02", 3)
    before = _cube(link)
    paths = WarehousePaths(link)
    # make it a lake of the older layout: files at force=/month=YYYY-MM, the manifest with them
    with writer_lock(paths), new_version(paths) as wcon:
        for dataset, source, force_id, month, path, _ in _manifest(link):
            old = f"{dataset}/source={source}/force={force_id}/month={month:%Y-%m}/{Path(path).name}"
            (paths.lake / old).parent.mkdir(parents=True, exist_ok=True)
            os.replace(paths.lake / path, paths.lake / old)
            wcon.execute("UPDATE lake_manifest SET path = ? WHERE path = ?", [old, path])
    assert all(not layout.is_current(r[4]) and layout.parse(r[4]) for r in _manifest(link))

    report = rebuild_warehouse(link)

    assert any("2 lake file(s) moved" in n for n in report.notes), report.notes
    after = _manifest(link)
    assert all(layout.is_current(r[4]) and (paths.lake / r[4]).exists() for r in after)
    assert [r[5] for r in after] == [4, 3]
    assert _cube(link) == before
    # the old paths stay for readers of the previous version until the grace period ends
    con = duckdb.connect(str(link.resolve()), read_only=True)
    try:
        garbage = sorted(r[0] for r in con.execute("SELECT path FROM lake_garbage").fetchall())
    finally:
        con.close()
    assert len(garbage) == 2 and all("/force=cheshire/" in g for g in garbage)
    assert all((paths.lake / g).exists() for g in garbage)
    # a second rebuild has nothing to move
    assert not any("moved" in n for n in rebuild_warehouse(link).notes)
