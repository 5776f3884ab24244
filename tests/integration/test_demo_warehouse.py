"""`python -m etl demo` through the real load path: cubes equal counts of the generated facts."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from etl.demo import generate
from etl.demo_load import build_demo
from etl.warehouse import WarehousePaths, connect_readonly


def _cube(link: Path, level: str) -> pd.DataFrame:
    con = connect_readonly(link)
    try:
        return con.execute(
            """SELECT unit_id, month, category, n, sd FROM cube_crime_month
               WHERE source = 'demo' AND level = ? AND force_id = 'cheshire'
               ORDER BY ALL""", [level]).df()
    finally:
        con.close()


def test_demo_cubes_match_the_generated_facts_and_rebuild_identically(tmp_path: Path) -> None:
    link = tmp_path / "warehouse.duckdb"
    build_demo(link, seed=11, years=1)
    crimes = generate(seed=11, years=1).crimes
    for level, col in (("bcu", None), ("npu", "npu_id"), ("team", "team_id"),
                       ("officer", "officer_id")):
        got = _cube(link, level)
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
    first = _cube(link, "npu")
    build_demo(link, seed=11, years=1)  # the same seed again, over the existing warehouse
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
