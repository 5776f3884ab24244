"""`python -m etl cubes`: the DuckDB export the Spark build's output is compared with elsewhere
(the Spark engine itself is tested in-process, one JVM per run: tests/realdata/test_spark_cubes.py),
and the plain error without Java."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import duckdb

from tests.integration.test_hardening_integrity import load
from tests.support.cli import etl


def test_the_duckdb_export_writes_each_cube_as_the_warehouse_holds_it(tmp_path: Path) -> None:
    link = tmp_path / "warehouse.duckdb"
    load(link, "2019-01", 4)
    out = tmp_path / "cubes"
    done = etl("cubes", "--engine", "duckdb", "--out", str(out), "--warehouse", str(link))
    assert done.returncode == 0, done.stderr
    assert "cube_crime_month:" in done.stderr and "written to" in done.stderr
    con = duckdb.connect()
    exported = con.execute(
        "SELECT level, month, category, n, typeof(month) FROM read_parquet(?) ORDER BY ALL",
        [str(out / "cube_crime_month" / "*.parquet")]).fetchall()
    # 4 burglaries in a Warrington LSOA: counted for the force, and for the NPU and BCU the
    # default mapping gives it
    assert [r[0] for r in exported] == ["bcu", "force", "npu"]
    assert all(r[2:] == ("burglary", 4, "DATE") for r in exported)
    measures = con.execute("SELECT DISTINCT dataset FROM read_parquet(?)",
                           [str(out / "cube_measure_month" / "*.parquet")]).fetchall()
    assert measures == [("crime",)]


def test_the_spark_engine_without_java_says_what_to_install(tmp_path: Path) -> None:
    link = tmp_path / "warehouse.duckdb"
    load(link, "2019-01", 2)
    env = {k: v for k, v in os.environ.items() if k != "JAVA_HOME"}
    env["PATH"] = str(Path(sys.executable).parent)  # python, but no java
    done = etl("cubes", "--out", str(tmp_path / "out"), "--warehouse", str(link), env=env)
    assert done.returncode == 1
    assert "needs a Java 17+ runtime" in done.stderr and "scripts/ensure-java" in done.stderr
    assert "Traceback" not in done.stderr
