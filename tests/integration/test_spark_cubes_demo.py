"""The Spark cube build (etl/cubes/spark.py) equals DuckDB's on the demo warehouse, which has
what the real data.police.uk files lack (tests/realdata/test_spark_cubes.py holds those):
day-level dates (so a non-empty cube_crime_day and cube_measure_day), BCUs, teams and officers
named by the force's own records, Home Office offence codes that weight crimes exactly, and
the 42 comparison forces' force x month aggregates (rebuild_force_month).

The demo compared is the session's one-year demo (seed 5: `demo_warehouse(5, 1)`, built once
per run and read by test_services_load, test_demo_warehouse and test_rebuild_and_stop_search
too), not the dashboard tests' two years: the same generator makes the same kinds of rows
(each asserted below), and Spark's build and each full-outer-join comparison scale with the
rows (the day measure cube: about half a million instead of a million)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from etl.cubes import spark as spark_cubes
from tests.conftest import DemoBuild
from tests.support.spark import spark_differences


@pytest.fixture(scope="module")
def demo(demo_warehouse: Callable[[int, int], DemoBuild]) -> Path:
    """The session's seed-5, one-year demo (see the module's doc)."""
    return demo_warehouse(5, 1).link


@pytest.fixture(scope="module")
def built(demo: Path, spark, tmp_path_factory: pytest.TempPathFactory):  # noqa: ANN001, ANN201
    """Spark's cubes of the demo, built once and written as Parquet by the module's own `write`
    (what `python -m etl cubes --engine spark` writes), read back as DataFrames. The lazy
    DataFrames of `build` ran the whole build again for every action on them (a cube's count,
    its differences, their examples: 20-36 s a cube); the written files are read instead."""
    out = tmp_path_factory.mktemp("spark-cubes")
    cubes = spark_cubes.build(spark, spark_cubes.read_inputs(demo))
    spark_cubes.write(cubes, str(out))
    for df in cubes.values():
        df.unpersist()   # the category cubes' cache: the files are read from here on
    return {name: spark.read.parquet(str(out / name)) for name in cubes}


@pytest.fixture(scope="module")
def exported(demo: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[str, int]]:
    """DuckDB's cubes of the demo as Parquet (`python -m etl cubes --engine duckdb`'s code)."""
    out = tmp_path_factory.mktemp("duckdb-cubes")
    counts = spark_cubes.export_duckdb(demo, str(out))
    return {name: (str(out / name), rows) for name, rows in counts.items()}


@pytest.mark.parametrize("table", spark_cubes.CUBES)
def test_spark_cube_equals_duckdb_cube_on_the_demo(spark, built, exported, table: str) -> None:  # noqa: ANN001
    """Compared in Spark, row for row by key (the demo's day measure cube has a million rows),
    by the rule of tests/support/spark.py."""
    path, rows = exported[table]
    assert rows > 1_000
    assert built[table].count() == rows
    count, examples = spark_differences(spark, table, built[table], path)
    assert count == 0, f"{table}: {count} rows differ, e.g. {examples}"


def test_the_demo_exercises_what_police_uk_files_do_not(built) -> None:  # noqa: ANN001
    month = built["cube_crime_month"]
    assert {r[0] for r in month.select("level").distinct().collect()} == {
        "force", "bcu", "npu", "team", "officer"}
    assert {r[0] for r in built["cube_crime_day"].select("level").distinct().collect()} == {
        "force", "bcu", "npu", "team"}
    # crimes weighted by their own offence code (not approximately), and comparison forces
    assert month.where("harm > 0 AND harm_approx = 0 AND category <> 'anti-social-behaviour'").count() > 0
    assert month.where("level = 'force'").select("force_id").distinct().count() >= 40


def test_a_wrong_number_is_caught(spark, built, exported) -> None:  # noqa: ANN001
    """The comparison is not vacuous: one count changed by one is found."""
    from pyspark.sql import functions as F

    cube = built["cube_crime_month"]
    first = cube.orderBy(*spark_cubes.KEYS["cube_crime_month"]).limit(1).collect()[0]
    changed = cube.withColumn("n", F.when((F.col("unit_id") == first["unit_id"])
                                          & (F.col("month") == first["month"])
                                          & (F.col("category") == first["category"])
                                          & (F.col("level") == first["level"])
                                          & (F.col("source") == first["source"]),
                                          F.col("n") + 1).otherwise(F.col("n")))
    count, _ = spark_differences(spark, "cube_crime_month", changed, exported["cube_crime_month"][0])
    assert count == 1
