"""A dashboard worker's DuckDB is bounded (issue 11): the reader's connection, and every cursor a
request takes from it, carry the memory limit and threads of dashboard/data/limits.py, from the
environment; and the rest of the process can still open the same file the plain way."""

from __future__ import annotations

from pathlib import Path

import pytest

from dashboard.app import create_app
from dashboard.data import limits
from dashboard.data.facade import DataAccess
from dashboard.data.warehouse import WarehouseReader
from etl.lake.status import collect


def _settings(cur: object) -> tuple[str, int]:
    return cur.execute(  # type: ignore[attr-defined]
        "SELECT current_setting('memory_limit'), current_setting('threads')").fetchone()


def test_the_readers_connection_has_the_default_limits(demo_link: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (limits.DUCKDB_MEMORY_ENV, limits.DUCKDB_THREADS_ENV, limits.CACHE_ENV):
        monkeypatch.delenv(name, raising=False)
    app = create_app(demo_link)
    data: DataAccess = app.server.extensions["looking_glass_data"]
    try:
        with data.cursor() as cur:
            assert _settings(cur) == ("128.0 MiB", 2)
        assert _settings(data.reader.connection()) == ("128.0 MiB", 2)
        assert data._cache.max_bytes == 96 * 1024 * 1024
        # the ETL's status (a plain read-only connect) still opens the file the reader holds
        assert collect(demo_link)["version"]
    finally:
        data.reader.close()


def test_the_limits_come_from_the_environment(demo_link: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(limits.DUCKDB_MEMORY_ENV, "300")
    monkeypatch.setenv(limits.DUCKDB_THREADS_ENV, "1")
    reader = WarehouseReader(demo_link)
    try:
        assert _settings(reader.cursor()) == ("300.0 MiB", 1)
    finally:
        reader.close()
    monkeypatch.setenv(limits.DUCKDB_MEMORY_ENV, "a lot")
    with pytest.raises(ValueError, match="LG_DUCKDB_MEMORY_MB must be a whole number"):
        WarehouseReader(demo_link)  # at start-up, not at the first request


def test_a_small_cache_stays_within_its_bytes_and_answers_the_same(demo_link: Path) -> None:
    """Views enough to overflow a 1 MiB cache: it evicts, never holds more than its bound, and
    every answer equals the one an unbounded cache gives."""
    from datetime import date

    small = DataAccess(WarehouseReader(demo_link), cache_bytes=1024 * 1024)
    big = DataAccess(WarehouseReader(demo_link), cache_bytes=1024 ** 3)
    try:
        with small.request(small.actor()), big.request(big.actor()):
            units = ["cheshire", *[u.unit_id for u in small.children("cheshire")]]
            for unit in units:
                for year in (2006, 2007):
                    start, end = date(year, 4, 1), date(year + 1, 3, 31)
                    got = small.scorecard(unit, start, end)
                    want = big.scorecard(unit, start, end)
                    assert got.drop(columns=["spark", "spark_months"]).equals(
                        want.drop(columns=["spark", "spark_months"])), unit
                    assert small._cache.bytes <= 1024 * 1024
            assert small._cache.evictions > 0 and big._cache.evictions == 0
            assert big._cache.bytes > small._cache.bytes
    finally:
        small.reader.close()
        big.reader.close()
