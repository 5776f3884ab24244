"""The crime cubes are built in pieces of one force and a bounded number of rows
(etl/cubes/crime.py `_chunks`), so that ten years of every force build in bounded memory: a
43 x 10 year load (62.5 M rows) ran the build connection out of its 512 MiB in one statement.
Built in many small pieces, every cube must equal the cube built in one piece per force.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest

from etl.cubes.crime import _chunks, rebuild_crime
from tests.support.warehouses import copy_warehouse

SEED, YEARS = 2007, 2
TABLES = ("cube_crime_month", "cube_crime_day")


def _table(con: duckdb.DuckDBPyConnection, table: str) -> list[tuple]:
    return con.execute(f"SELECT * FROM {table} ORDER BY ALL").fetchall()


def _rebuilt(link: Path, folder: Path, budget: int,
             monkeypatch: pytest.MonkeyPatch) -> dict[str, list[tuple]]:
    """The crime cubes of a copy of the warehouse, every crime partition rebuilt from its lake
    with pieces of at most `budget` rows (LG_LOAD_BATCH_ROWS, read when the build runs)."""
    copy = copy_warehouse(link, folder)
    monkeypatch.setenv("LG_LOAD_BATCH_ROWS", str(budget))
    con = duckdb.connect(str(copy.resolve()))
    try:
        partitions = con.execute("SELECT source, force_id, month FROM lake_manifest "
                                 "WHERE dataset = 'crime' ORDER BY ALL").fetchall()
        rebuild_crime(con, str(copy.resolve().parent / "warehouse.lake"), partitions)
        return {t: _table(con, t) for t in TABLES}
    finally:
        con.close()


def test_cubes_built_in_small_pieces_equal_cubes_built_whole(
    demo_warehouse: Callable, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    link = demo_warehouse(SEED, YEARS).link
    with duckdb.connect(str(link.resolve()), read_only=True) as con:
        files = con.execute(
            "SELECT force_id, source, path, rows FROM lake_manifest WHERE dataset = 'crime' "
            "ORDER BY force_id, month, path").fetchall()
    biggest = max(r[3] for r in files)
    small = biggest + 1       # about one month a piece: the demo force's two years in ~24 pieces
    assert len(_chunks(files, small)) > 3 * len({f[0] for f in files})

    whole = _rebuilt(link, tmp_path / "whole", 10**9, monkeypatch)
    pieces = _rebuilt(link, tmp_path / "pieces", small, monkeypatch)
    assert len(whole["cube_crime_month"]) > 10_000 and len(whole["cube_crime_day"]) > 10_000
    for table in TABLES:
        assert pieces[table] == whole[table], table
    with duckdb.connect(str(link.resolve()), read_only=True) as con:  # as the demo's load built them
        assert whole == {t: _table(con, t) for t in TABLES}
