"""`python -m etl demo` through the real load path: cubes equal counts of the generated facts.

The first build is the session's seed-5, one-year demo (shared with test_services_load); the
rebuild over an existing warehouse runs on a private copy of it (the session's `demo_rebuilt`, which
test_demo_cube_chains reads too)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd

from etl import hierarchy
from etl.demo.force import generate
from etl.lake.warehouse import WarehousePaths, connect_readonly
from etl.sources.registry import recorded_down_to
from tests.conftest import DemoRebuilt

SEED, YEARS = 5, 1


def _cube(link: Path, level: str) -> pd.DataFrame:
    con = connect_readonly(link)
    try:
        return con.execute(
            """SELECT unit_id, month, category, n, sd FROM cube_crime_month
               WHERE source = 'demo' AND level = ? AND force_id = 'cheshire'
               ORDER BY ALL""", [level]).df()
    finally:
        con.close()


def test_demo_cubes_match_the_generated_facts_and_rebuild_identically(
        demo_warehouse: Callable, demo_rebuilt: DemoRebuilt) -> None:
    shared = demo_warehouse(SEED, YEARS).link
    assert len(WarehousePaths(shared).versions()) == 1
    crimes = generate(seed=SEED, years=YEARS).crimes
    for level, col in (("bcu", None), ("npu", "npu_id"), ("team", "team_id"),
                       ("officer", "officer_id")):
        got = _cube(shared, level)
        frame = crimes.copy()
        if col is None:
            frame["unit"] = frame["npu_id"].str.rsplit("/", n=1).str[0]
        else:
            frame["unit"] = frame[col]
        frame["month"] = pd.to_datetime(frame["month"]).dt.date
        expected = (frame.groupby(["unit", "month", "category"])
                    .agg(n=("category", "size"), sd=("sanction", "sum"))
                    .reset_index().sort_values(["unit", "month", "category"]))
        assert got["n"].sum() == len(crimes), level
        assert list(got["n"]) == list(expected["n"]), level
        assert list(got["sd"]) == list(expected["sd"]), level
    first = _cube(shared, "npu")
    link = demo_rebuilt.link  # the same seed again, over a copy of it (tests/conftest.py)
    pd.testing.assert_frame_equal(_cube(link, "npu"), first)
    con = connect_readonly(link)
    try:
        assert con.execute("SELECT count(*) FROM month_status WHERE force_id = 'cheshire'"
                           ).fetchone()[0] == 12
        units = dict(con.execute(
            "SELECT level, count(*) FROM dim_unit WHERE force_id = 'cheshire' GROUP BY level"
        ).fetchall())
    finally:
        con.close()
    assert units["bcu"] == 3 and units["npu"] == 18
    assert len(WarehousePaths(link).versions()) == 2


def test_cube_levels_are_the_recorded_levels(demo_link: Path) -> None:
    """The measure cube holds, per dataset, exactly the tree levels recorded_down_to derives
    from the dataset's columns (officer rows of a dataset without teams are off the tree)."""
    con = connect_readonly(demo_link)
    try:
        found = con.execute("SELECT dataset, list(DISTINCT level) FROM cube_measure_month GROUP BY 1"
                            ).fetchall()
    finally:
        con.close()
    assert found
    for dataset, levels in found:
        tree = set(hierarchy.at_or_above(recorded_down_to(dataset)))
        assert set(levels) - {"officer"} == tree - {"officer"}, dataset
