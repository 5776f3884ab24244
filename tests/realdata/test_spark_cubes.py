"""The scale-out path: Spark builds the crime cubes from the same Parquet lake as DuckDB and
gets the same cubes, on the real data.police.uk street files (9 forces x 5 months, 379,491
rows; ../shared/data/PROVENANCE.md), loaded by the real loader into a real warehouse.

Spark runs in local mode here (etl/cubes/spark.py; the same code runs on a cluster: docs/scaling.md).
data.police.uk gives months, not days, so both engines' day cubes are empty on these files:
tests/integration/test_spark_cubes_demo.py holds the day cubes, officers, offence codes and
force x month aggregates equal on the demo.
"""

from __future__ import annotations

import time
from collections import defaultdict
from datetime import date
from pathlib import Path

import pytest

from etl.cubes import spark as spark_cubes
from tests.support.spark import assert_same_cube, duckdb_rows, force_month_totals, sorted_rows
from tests.support.warehouses import raw_counts


@pytest.fixture(scope="module")
def built(real_link: Path, spark) -> dict[str, list[tuple]]:  # noqa: ANN001 - SparkSession
    """Every cube the Spark build makes, collected, sorted by key; the build's time is printed."""
    started = time.perf_counter()
    cubes = spark_cubes.build(spark, spark_cubes.read_inputs(real_link))
    rows = {name: sorted_rows(df.collect(), name) for name, df in cubes.items()}
    print(f"Spark build of {', '.join(f'{k} {len(v)}' for k, v in rows.items())} rows: "
          f"{time.perf_counter() - started:.1f} s")
    return rows


@pytest.mark.parametrize("table", spark_cubes.CUBES)
def test_spark_cube_equals_duckdb_cube(real_link: Path, built: dict[str, list[tuple]], table: str) -> None:
    duck = duckdb_rows(real_link, table)
    if table.endswith("_day"):
        assert duck == [] and built[table] == [], "police.uk files carry months only: no day cube"
    else:
        assert len(duck) > 10_000  # every force, month, NPU and category: not a vacuous match
    assert_same_cube(table, duck, built[table])


def test_spark_force_totals_match_the_raw_files(shared_data: Path, built: dict[str, list[tuple]]) -> None:
    """Independent of both engines: crimes (a Crime ID repeated in a force's month counted
    once) and ASB incidents per force and month, counted from the CSVs with the csv module."""
    raw: dict[tuple[str, date], int] = defaultdict(int)
    for (force, month, _), n in raw_counts(shared_data).items():
        raw[(force, month)] += n
    spark = force_month_totals(built["cube_crime_month"])
    assert spark == dict(raw)
    assert sum(spark.values()) == sum(raw.values()) > 350_000
    assert len(spark) == 45  # 9 forces x 5 months


def test_spark_measures_restate_the_category_cube(built: dict[str, list[tuple]]) -> None:
    """A crime measure is its categories' sum: total_crime at force level is the force's
    non-ASB crimes, asb_incidents its ASB count, for every month."""
    crimes: dict[tuple[str, date], int] = defaultdict(int)
    asb: dict[tuple[str, date], int] = defaultdict(int)
    for _, force_id, _, level, month, category, n, *_ in built["cube_crime_month"]:
        if level == "force":
            (asb if category == "anti-social-behaviour" else crimes)[(force_id, month)] += n
    measure = {(r[2], r[5], r[6]): r[7] for r in built["cube_measure_month"] if r[4] == "force"}
    assert {k: measure[(*k, "total_crime")] for k in crimes} == dict(crimes)
    assert {k: measure[(*k, "asb_incidents")] for k in asb} == dict(asb)


def test_spark_reads_the_lake_with_hive_partitioning_on(real_link: Path, spark) -> None:  # noqa: ANN001
    """The lake's layout (etl/lake/layout.py) read as a plain partitioned table: Spark's partition
    discovery gives the files' own types (month a DATE, not the folder's text), and every
    partition's rows are where the manifest says."""
    import duckdb

    from etl.lake.warehouse import WarehousePaths

    crime = spark.read.parquet(str(WarehousePaths(real_link).lake / "crime"))
    types = dict(crime.dtypes)
    assert (types["source"], types["force_id"], types["month"]) == ("string", "string", "date")
    got = {(r["source"], r["force_id"], r["month"]): r["count"]
           for r in crime.groupBy("source", "force_id", "month").count().collect()}
    con = duckdb.connect(str(real_link.resolve()), read_only=True)
    try:
        manifest = {(s, f, m): n for s, f, m, n in con.execute(
            "SELECT source, force_id, month, rows FROM lake_manifest WHERE dataset = 'crime'").fetchall()}
    finally:
        con.close()
    assert got == manifest and len(got) == 45
