"""The cube build's two chains (etl/cubes/build.py `rebuild`): the crime cubes on the version's
connection and the service datasets on a second one in a thread, at once.

Run through `python -m etl demo` (build_demo) again, over a private copy of the session's
seed-5, one-year demo (the successful rebuild is the session's `demo_rebuilt`, shared with
test_demo_warehouse: tests/conftest.py): what the chains write is the same as the build that
made the copy, they really run in two threads, and a failure in either chain fails the build
and leaves the live version as it was (no new version, no temporary file left)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from etl.cubes import crime, measures
from etl.demo.build import build_demo
from etl.lake.warehouse import WarehousePaths, connect_readonly
from tests.conftest import DemoRebuilt
from tests.support.warehouses import copy_warehouse

SEED, YEARS = 5, 1
CUBES = ("cube_crime_month", "cube_crime_day", "cube_measure_month", "cube_measure_day",
         "month_status")


def _content(link: Path) -> dict[str, tuple[int, int]]:
    """Each cube's rows as a multiset (count and an order-free hash of every row); doubles
    rounded to 6 places, as two builds may add them in a different order."""
    con = connect_readonly(link)
    try:
        out = {}
        for table in CUBES:
            cols = con.execute("SELECT column_name, data_type FROM duckdb_columns() "
                               "WHERE table_name = ? ORDER BY column_index", [table]).fetchall()
            row = ", ".join(f"round({c}, 6)" if t == "DOUBLE" else c for c, t in cols)
            out[table] = con.execute(
                f"SELECT count(*), bit_xor(hash(({row}))) FROM {table}").fetchone()
        return out
    finally:
        con.close()


def test_the_chains_run_in_two_threads_and_rebuild_the_same_cubes(
        demo_warehouse: Callable, demo_rebuilt: DemoRebuilt) -> None:
    """The build over the copy is the session's `demo_rebuilt` (shared with test_demo_warehouse),
    whose spies recorded the threads that ran each chain."""
    before = _content(demo_warehouse(SEED, YEARS).link)
    assert before["cube_measure_day"][0] > 0 and before["month_status"][0] > 0
    assert len(demo_rebuilt.crime_threads) == 1 and len(demo_rebuilt.service_threads) == 1
    assert demo_rebuilt.crime_threads != demo_rebuilt.service_threads
    assert _content(demo_rebuilt.link) == before


@pytest.mark.parametrize(("module", "name"), [(measures, "rebuild_comparators"),
                                              (crime, "rebuild_force_month"),
                                              (crime, "refresh_month_status")])
def test_a_failure_in_either_chain_fails_the_build_and_publishes_nothing(
        demo_warehouse: Callable, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        module: object, name: str) -> None:
    link = copy_warehouse(demo_warehouse(SEED, YEARS).link, tmp_path / "copy")
    paths = WarehousePaths(link)
    versions, live = paths.versions(), paths.live()

    def fail(*args: object, **kwargs: object) -> None:
        raise RuntimeError(f"{name} failed")

    monkeypatch.setattr(module, name, fail)
    with pytest.raises(RuntimeError, match=f"{name} failed"):
        build_demo(link, seed=SEED, years=YEARS)
    assert paths.versions() == versions and paths.live() == live
    assert not [p.name for p in paths.directory.iterdir() if ".tmp" in p.name]


def test_a_load_over_the_bound_builds_the_chains_one_after_the_other(
        demo_warehouse: Callable, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Beyond CONCURRENT_ROWS batches of rows (here batches of 1,000 rows: the one-year demo
    has ~600,000) both chains run in the calling thread, and build the same cubes."""
    link = copy_warehouse(demo_warehouse(SEED, YEARS).link, tmp_path / "copy")
    before = _content(link)
    monkeypatch.setenv("LG_LOAD_BATCH_ROWS", "1000")
    threads: set[int] = set()

    def spy(fn: Callable) -> Callable:
        def wrapped(*args: object, **kwargs: object) -> object:
            threads.add(threading.get_ident())
            return fn(*args, **kwargs)
        return wrapped

    monkeypatch.setattr(crime, "rebuild_crime", spy(crime.rebuild_crime))
    monkeypatch.setattr(measures, "rebuild_dataset", spy(measures.rebuild_dataset))
    build_demo(link, seed=SEED, years=YEARS)
    assert threads == {threading.get_ident()}
    assert _content(link) == before
