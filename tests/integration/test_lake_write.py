"""How a load writes its lake files (etl/lake/commit.py): each partition straight into its own
folder as `<load_id>.part<i>.parquet`, renamed to `<load_id>.parquet` in that folder, and a
load killed between the two leaves files the next load removes (its `.incoming/<load_id>`
folder marks it unfinished), so a partition never counts a killed load's rows."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb

from etl.lake.warehouse import WarehousePaths
from tests.integration.test_hardening_integrity import load


def _manifest(link: Path) -> list[tuple]:
    con = duckdb.connect(str(link.resolve()), read_only=True)
    try:
        return con.execute("SELECT month, path, rows, load_id FROM lake_manifest "
                           "WHERE dataset = 'crime' ORDER BY ALL").fetchall()
    finally:
        con.close()


def _force_crimes(link: Path) -> dict[str, int]:
    con = duckdb.connect(str(link.resolve()), read_only=True)
    try:
        return {f"{m:%Y-%m}": int(n) for m, n in con.execute(
            "SELECT month, sum(n) FROM cube_crime_month WHERE level = 'force' "
            "GROUP BY month ORDER BY month").fetchall()}
    finally:
        con.close()


def test_each_partition_is_one_file_named_for_its_load_holding_its_rows(tmp_path: Path) -> None:
    link = tmp_path / "warehouse.duckdb"
    load(link, "2019-01", 4)
    load(link, "2019-02", 3)
    lake = WarehousePaths(link).lake
    rows = _manifest(link)
    assert [(f"{m:%Y-%m}", n) for m, _, n, _ in rows] == [("2019-01", 4), ("2019-02", 3)]
    con = duckdb.connect()
    for _, path, n, load_id in rows:
        assert Path(path).name == f"{load_id}.parquet"
        assert con.execute("SELECT count(*) FROM read_parquet(?)", [str(lake / path)]).fetchone()[0] == n
    assert not list(lake.rglob("*.part*.parquet"))           # every file renamed
    assert not any((lake / ".incoming").iterdir())          # no load left unfinished
    assert len(list((lake / "crime").rglob("*.parquet"))) == 2


def test_a_killed_loads_files_in_the_lake_are_removed_by_the_next_load(tmp_path: Path) -> None:
    link = tmp_path / "warehouse.duckdb"
    load(link, "2019-01", 4)
    lake = WarehousePaths(link).lake
    (_, first, _, _), = _manifest(link)
    # What a load killed mid-write leaves: its marker, and a 4-row file in the very partition the
    # next load writes (before its rename) and one in another partition (after its rename).
    killed = "20190101T000000-deadbeef"
    (lake / ".incoming" / killed).mkdir(parents=True)
    feb = lake / "crime/source=police_uk/force_id=cheshire/month=2019-02-01"
    mar = lake / "crime/source=police_uk/force_id=cheshire/month=2019-03-01"
    for folder, name in ((feb, f"{killed}.part0.parquet"), (mar, f"{killed}.parquet")):
        folder.mkdir(parents=True)
        shutil.copy(lake / first, folder / name)
    load(link, "2019-02", 3)
    assert not list(lake.rglob(f"{killed}*"))
    assert not (lake / ".incoming" / killed).exists()
    assert _force_crimes(link) == {"2019-01": 4, "2019-02": 3}
    assert [p.name for p in feb.iterdir()] == [Path(_manifest(link)[1][1]).name]
