"""The Spark cube build (etl/cubes/spark.py) equals DuckDB's on the demo warehouse, which has
what the real data.police.uk files lack (tests/realdata/test_spark_cubes.py holds those):
day-level dates (so a non-empty cube_crime_day and cube_measure_day), BCUs, teams and officers
named by the force's own records, Home Office offence codes that weight crimes exactly, and
the 42 comparison forces' force x month aggregates (rebuild_force_month)."""

from __future__ import annotations

from pathlib import Path

import pytest

from etl.cubes import spark as spark_cubes
from tests.support.spark import assert_same_cube, duckdb_rows, sorted_rows


@pytest.fixture(scope="module")
def built(demo_link: Path, spark) -> dict[str, list[tuple]]:  # noqa: ANN001 - SparkSession
    cubes = spark_cubes.build(spark, spark_cubes.read_inputs(demo_link))
    return {name: sorted_rows(df.collect(), name) for name, df in cubes.items()}


@pytest.mark.parametrize("table", spark_cubes.CUBES)
def test_spark_cube_equals_duckdb_cube_on_the_demo(demo_link: Path, built: dict[str, list[tuple]],
                                                   table: str) -> None:
    duck = duckdb_rows(demo_link, table)
    assert len(duck) > 1_000
    assert_same_cube(table, duck, built[table])


def test_the_demo_exercises_what_police_uk_files_do_not(built: dict[str, list[tuple]]) -> None:
    month = built["cube_crime_month"]
    assert {r[3] for r in month} == {"force", "bcu", "npu", "team", "officer"}
    assert {r[3] for r in built["cube_crime_day"]} == {"force", "bcu", "npu", "team"}
    # crimes weighted by their own offence code (not approximately), and comparison forces
    assert any(r[8] > 0 and r[10] == 0 for r in month if r[5] != "anti-social-behaviour")
    assert len({r[1] for r in month if r[3] == "force"}) >= 40
