"""Comparing the Spark-built cubes (etl/cubes/spark.py) with DuckDB's, row for row.

Floats (harm, harm2 and the measures' num/den/num2) are compared to 0.011 absolute or 1e-9
relative, whichever is looser: both engines round harm to the hundredth after summing the same
weights in a different order, so a sum that lands within a rounding error of a half-hundredth
may round one way in one engine and the other way in the other (one unit of 0.01); everything
else (keys, counts, sanction detections, crimes weighted approximately) must be exactly equal.
"""

from __future__ import annotations

import math
import os
from datetime import date
from pathlib import Path

import duckdb
import pytest

from etl.cubes import spark as spark_cubes

ABS_TOL = 0.011
REL_TOL = 1e-9


def require_spark() -> None:
    """pyspark and Java are `make test`'s to install (the spark extra, scripts/ensure-java): a
    missing one FAILS the test, with the command, rather than skipping it (CI would read a
    skipped comparison as green)."""
    try:
        import pyspark  # noqa: F401
    except ImportError:
        pytest.fail("the Spark cube tests need pyspark: `make venv` installs it "
                    "(pip install -e '.[test,spark]')", pytrace=False)
    if not os.environ.get("JAVA_HOME") and not any(
            (Path(p) / "java").exists() for p in os.environ.get("PATH", "").split(os.pathsep)):
        pytest.fail("the Spark cube tests need Java 17+: run scripts/ensure-java "
                    "(apt-get install -y openjdk-17-jre-headless)", pytrace=False)


def duckdb_rows(link: Path, table: str) -> list[tuple]:
    """The table's rows in the live version, in the Spark module's column order, sorted by key;
    the measure cubes' crime rows only (the Spark build makes no service measures)."""
    cols = ", ".join(spark_cubes.COLUMNS[table])
    keys = ", ".join(spark_cubes.KEYS[table])
    where = "WHERE dataset = 'crime'" if table.startswith("cube_measure") else ""
    con = duckdb.connect(str(link.resolve()), read_only=True)
    try:
        return con.execute(f"SELECT {cols} FROM {table} {where} ORDER BY {keys}").fetchall()
    finally:
        con.close()


def sorted_rows(rows: list, table: str) -> list[tuple]:
    n = len(spark_cubes.KEYS[table])
    return sorted((tuple(r) for r in rows), key=lambda r: tuple((x is None, x) for x in r[:n]))


def assert_same_cube(table: str, duck: list[tuple], spark: list[tuple]) -> None:
    """Same keys in the same order, same counts, floats to the stated tolerance."""
    n = len(spark_cubes.KEYS[table])
    duck_keys = [r[:n] for r in duck]
    spark_keys = [r[:n] for r in spark]
    if duck_keys != spark_keys:
        only_duck = sorted(set(duck_keys) - set(spark_keys), key=str)[:5]
        only_spark = sorted(set(spark_keys) - set(duck_keys), key=str)[:5]
        raise AssertionError(f"{table}: keys differ ({len(duck)} DuckDB rows, {len(spark)} Spark "
                             f"rows); only in DuckDB e.g. {only_duck}; only in Spark e.g. {only_spark}")
    columns = spark_cubes.COLUMNS[table]
    for d, s in zip(duck, spark, strict=True):
        for col, x, y in zip(columns[n:], d[n:], s[n:], strict=True):
            same = (x is None and y is None) or (
                x is not None and y is not None and (
                    math.isclose(x, y, rel_tol=REL_TOL, abs_tol=ABS_TOL) if isinstance(x, float)
                    or isinstance(y, float) else x == y))
            assert same, f"{table} {d[:n]}: {col} is {x!r} in DuckDB, {y!r} in Spark"


def force_month_totals(rows: list[tuple]) -> dict[tuple[str, date], int]:
    """Crimes and ASB incidents per (force, month) at force level of a cube_crime_month."""
    out: dict[tuple[str, date], int] = {}
    for _, force_id, _, level, month, _, n, *_ in rows:
        if level == "force":
            out[(force_id, month)] = out.get((force_id, month), 0) + n
    return out


def spark_differences(spark, table: str, built, duckdb_parquet: str) -> tuple[int, list]:  # noqa: ANN001
    """Rows of `table` on which Spark's DataFrame `built` and DuckDB's cube (exported to Parquet
    by `etl.cubes.spark.export_duckdb`) differ, by the same rule as `assert_same_cube` (a row
    missing on either side, an integer not equal, a float beyond the tolerance), computed in
    Spark: a million-row cube is compared without collecting it into Python. (count, examples)."""
    from pyspark.sql import functions as F

    keys = list(spark_cubes.KEYS[table])
    values = spark_cubes.COLUMNS[table][len(keys):]
    duck = spark.read.parquet(duckdb_parquet)
    d = duck.select(*keys, *[F.col(v).alias(f"d_{v}") for v in values], F.lit(True).alias("in_d"))
    s = built.select(*keys, *[F.col(v).alias(f"s_{v}") for v in values], F.lit(True).alias("in_s"))
    joined = d.join(s, on=keys, how="full_outer")
    differs = F.col("in_d").isNull() | F.col("in_s").isNull()
    for v in values:
        a, b = F.col(f"d_{v}"), F.col(f"s_{v}")
        if dict(duck.dtypes)[v] == "double":
            tolerance = F.greatest(F.lit(ABS_TOL), F.lit(REL_TOL) * F.greatest(F.abs(a), F.abs(b)))
            close = F.abs(a - b) <= tolerance
            differs = differs | ~((a.isNull() & b.isNull()) | F.coalesce(close, F.lit(False)))
        else:
            differs = differs | ~a.eqNullSafe(b)
    bad = joined.where(differs)
    examples = bad.limit(5).collect()
    # no example means no difference: the full count (another pass over the join) only when
    # there is something to count
    return (bad.count() if examples else 0), examples
