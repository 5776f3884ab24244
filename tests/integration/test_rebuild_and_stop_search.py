"""`python -m etl rebuild` gives the loaded numbers back, table by table; data.police.uk
stop-and-search files load from files, folders and zips through `load police-uk`, and their
measures in the cube equal counts taken independently from the raw file."""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Callable
from datetime import date
from pathlib import Path

import duckdb
import pytest

from dashboard.analysis.stats import rate_ratio
from dashboard.data.facade import DataAccess
from dashboard.data.warehouse import WarehouseReader
from etl.lake.ingest import load_police_uk
from etl.lake.rebuild import rebuild_warehouse
from etl.lake.warehouse import WarehousePaths
from tests.conftest import DemoBuild
from tests.support.warehouses import copy_warehouse

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "docs" / "examples" / "2019-01-cheshire-stop-and-search.csv"
BAD = REPO / "docs" / "examples" / "bad" / "2019-02-cheshire-stop-and-search.csv"

# Every table a rebuild re-derives, with the columns that identify a row's content (load ids
# and timestamps differ by design).
TABLES = {
    "cube_crime_month": "*", "cube_crime_day": "*", "month_status": "*", "dim_unit": "*",
    "dim_lsoa": "*", "ref_msf_groups": "*", "ref_targets": "*", "ref_force_characteristics": "*",
    "ref_population_ethnicity": "*",
    "cube_measure_month": None, "cube_measure_day": None,
    "dq_log": "source, force_id, month, file, line, kind, detail, rows",
}
# The measure cubes hold sums of doubles (harm weights, durations), which DuckDB's parallel
# aggregation adds in no fixed order: the same figure can differ in its last bits between two
# builds, and rounding both to n places still splits a pair that straddles a rounding boundary.
# So their rows are matched on their keys and their values compared within a tolerance.
MEASURE_KEYS = {"cube_measure_month": "dataset, source, force_id, unit_id, level, month, measure_id",
                "cube_measure_day": "dataset, source, force_id, unit_id, level, day, measure_id"}
VALUES = ("num", "den", "num2", "den2")


def _same(col: str) -> str:
    return (f"((a.{col} IS NULL AND b.{col} IS NULL) OR "
            f"abs(a.{col} - b.{col}) <= 1e-9 * greatest(1, abs(a.{col}), abs(b.{col})))")


def _only_in(con: duckdb.DuckDBPyConnection, table: str, first: str, second: str) -> int:
    """Rows of `first` with no row of `second` that has the same key and the same values."""
    keys = MEASURE_KEYS[table]
    on = " AND ".join(f"a.{k} = b.{k}" for k in keys.split(", "))
    same = " AND ".join(_same(c) for c in VALUES)
    return con.execute(f"SELECT count(*) FROM {first}.{table} a WHERE NOT EXISTS "
                       f"(SELECT 1 FROM {second}.{table} b WHERE {on} AND {same})").fetchone()[0]


def _differences(a: Path, b: Path) -> dict[str, tuple[int, int, int]]:
    con = duckdb.connect()
    con.execute(f"ATTACH '{a}' AS a (READ_ONLY)")
    con.execute(f"ATTACH '{b}' AS b (READ_ONLY)")
    out = {}
    for table, cols in TABLES.items():
        n = con.execute(f"SELECT count(*) FROM a.{table}").fetchone()[0]
        if cols is None:
            keys = MEASURE_KEYS[table]
            unique = con.execute(f"SELECT count(*) FROM (SELECT DISTINCT {keys} FROM a.{table})"
                                 ).fetchone()[0]
            assert unique == n, f"{table}: its key does not identify a row"
            out[table] = (n, _only_in(con, table, "a", "b"), _only_in(con, table, "b", "a"))
            continue
        only_a = con.execute(f"SELECT count(*) FROM (SELECT {cols} FROM a.{table} EXCEPT ALL "
                             f"SELECT {cols} FROM b.{table})").fetchone()[0]
        only_b = con.execute(f"SELECT count(*) FROM (SELECT {cols} FROM b.{table} EXCEPT ALL "
                             f"SELECT {cols} FROM a.{table})").fetchone()[0]
        out[table] = (n, only_a, only_b)
    con.close()
    return out


@pytest.fixture(scope="module")
def demo_then_rebuilt(tmp_path_factory: pytest.TempPathFactory,
                      demo_warehouse: Callable[[int, int], DemoBuild]) -> tuple[Path, Path]:
    link = copy_warehouse(demo_warehouse(5, 1).link, tmp_path_factory.mktemp("rebuild"))
    loaded = WarehousePaths(link).live()
    report = rebuild_warehouse(link)
    assert report.committed
    rebuilt = WarehousePaths(link).live()
    assert loaded is not None and rebuilt is not None and rebuilt != loaded
    return loaded, rebuilt


def test_rebuild_equals_the_loaded_warehouse_table_by_table(demo_then_rebuilt: tuple[Path, Path]) -> None:
    diffs = _differences(*demo_then_rebuilt)
    assert all(n > 0 for t, (n, _, _) in diffs.items() if t != "dim_lsoa"), diffs
    assert {t: d[1:] for t, d in diffs.items()} == {t: (0, 0) for t in TABLES}, diffs


def test_every_measure_is_in_the_one_measure_cube(demo_then_rebuilt: tuple[Path, Path]) -> None:
    """Crime measures are cubed like any other: total crime = the category cube's sum."""
    con = duckdb.connect(str(demo_then_rebuilt[1]), read_only=True)
    total, by_category = con.execute(
        """SELECT (SELECT sum(num) FROM cube_measure_month WHERE measure_id = 'total_crime'
                   AND level = 'npu'),
                  (SELECT sum(n) FROM cube_crime_month WHERE level = 'npu'
                   AND category <> 'anti-social-behaviour')""").fetchone()
    assert total == by_category > 0
    kinds = {r[0] for r in con.execute("SELECT DISTINCT measure_id FROM cube_measure_month").fetchall()}
    assert {"total_crime", "crime_per_1000", "sanction_detection_rate", "calls_999_answered_10s",
            "stop_search_rr_black_white"} <= kinds
    con.close()


def _raw_counts(path: Path) -> dict[str, int]:
    with open(path, encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    return {
        "searches": len(rows),
        "arrests": sum(r["Outcome"] in ("Arrest", "Suspect arrested") for r in rows),
        "with_outcome": sum(bool(r["Outcome"].strip()) for r in rows),
    }


def test_stop_and_search_loads_from_a_zip_and_a_folder(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(EXAMPLE, folder / EXAMPLE.name)
    archive = tmp_path / "march.zip"
    march = tmp_path / "2019-03-cheshire-stop-and-search.csv"
    march.write_text(EXAMPLE.read_text(encoding="utf-8").replace("2019-01-", "2019-03-"),
                     encoding="utf-8")
    with zipfile.ZipFile(archive, "w") as z:
        z.write(march, "2019-03/" + march.name)
    link = tmp_path / "w.duckdb"
    report = load_police_uk(link, [folder, archive])
    assert not report.refused and report.committed, report.refused
    expected = _raw_counts(EXAMPLE)
    con = duckdb.connect(str(WarehousePaths(link).live()), read_only=True)
    got = dict(con.execute(
        """SELECT measure_id, sum(num) FROM cube_measure_month WHERE force_id = 'cheshire'
           AND level = 'force' AND measure_id IN ('stop_search_searches', 'stop_search_arrest_rate')
           GROUP BY 1""").fetchall())
    den = con.execute("""SELECT sum(den) FROM cube_measure_month WHERE measure_id =
                         'stop_search_arrest_rate' AND level = 'force'""").fetchone()[0]
    months = con.execute("SELECT count(DISTINCT month) FROM cube_measure_month WHERE dataset = "
                         "'stop_search'").fetchone()[0]
    con.close()
    assert months == 2
    assert got["stop_search_searches"] == 2 * expected["searches"]
    assert got["stop_search_arrest_rate"] == 2 * expected["arrests"]
    assert den == 2 * expected["with_outcome"]


def test_a_bad_or_misnamed_stop_search_file_is_refused_and_the_good_one_loads(tmp_path: Path) -> None:
    misnamed = tmp_path / "searches.csv"
    shutil.copy(EXAMPLE, misnamed)
    link = tmp_path / "w.duckdb"
    run = subprocess.run(
        [sys.executable, "-m", "etl", "load", "police-uk", str(EXAMPLE), str(BAD), str(misnamed),
         "--warehouse", str(link)], capture_output=True, text=True, cwd=REPO,
        env={**os.environ, "COLUMNS": "1000"})  # rich wraps at 80 columns otherwise
    assert run.returncode == 1, run.stderr
    assert "searches.csv" in run.stderr and "must be named" in run.stderr
    assert BAD.name in run.stderr and "line" in run.stderr
    assert "Traceback" not in run.stderr
    con = duckdb.connect(str(WarehousePaths(link).live()), read_only=True)
    n = con.execute("SELECT sum(num) FROM cube_measure_month WHERE measure_id = "
                    "'stop_search_searches'").fetchone()[0]
    con.close()
    assert n == _raw_counts(EXAMPLE)["searches"]


def test_real_data_for_the_demo_force_replaces_its_demo_data_and_says_so(
        tmp_path: Path, demo_warehouse: Callable[[int, int], DemoBuild]) -> None:
    link = copy_warehouse(demo_warehouse(5, 1).link, tmp_path)
    report = load_police_uk(link, [EXAMPLE])
    assert report.committed and not report.refused
    said = [n for n in report.notes if "REPLACED" in n]
    assert len(said) == 1 and said[0].startswith("cheshire:") and "crime" in said[0], report.notes
    con = duckdb.connect(str(WarehousePaths(link).live()), read_only=True)
    sources = dict(con.execute("SELECT force_id, list(DISTINCT source) FROM lake_manifest "
                               "WHERE force_id IN ('cheshire', 'essex') GROUP BY 1").fetchall())
    left = con.execute("SELECT count(*) FROM cube_measure_month WHERE source = 'demo' "
                       "AND force_id = 'cheshire'").fetchone()[0]
    synthetic = con.execute("SELECT count(*) FROM dim_unit WHERE force_id = 'cheshire' "
                            "AND synthetic").fetchone()[0]
    # a comparison force whose data are still the demo's stays marked synthetic (issue 14 item 10)
    essex = con.execute("SELECT synthetic FROM dim_unit WHERE unit_id = 'essex'").fetchone()[0]
    con.close()
    assert sources == {"cheshire": ["police_uk"], "essex": ["demo"]}
    assert left == 0 and synthetic == 0 and essex is True


def test_the_dashboard_values_a_rate_ratio_with_its_interval(tmp_path: Path) -> None:
    """The Black/White ratio the API and pages show equals the one worked from the raw file
    and the 2011 Census populations by hand, with the Katz interval (dashboard.analysis.stats)."""
    link = tmp_path / "w.duckdb"
    assert load_police_uk(link, [EXAMPLE]).committed
    with open(EXAMPLE, encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    black = sum(r["Self-defined ethnicity"].startswith("Black") or (
        r["Self-defined ethnicity"] in ("", "Other ethnic group - Not stated")
        and r["Officer-defined ethnicity"] == "Black") for r in rows)
    white = sum(r["Self-defined ethnicity"].startswith("White") or (
        r["Self-defined ethnicity"] in ("", "Other ethnic group - Not stated")
        and r["Officer-defined ethnicity"] == "White") for r in rows)
    with open(REPO / "data" / "reference" / "population_by_ethnicity_census2011.csv",
              encoding="utf-8") as fh:
        pop = next(r for r in csv.DictReader(fh) if r["force_id"] == "cheshire")
    expected = rate_ratio(black, float(pop["black"]), white, float(pop["white"]))
    assert black > 0 and white > 0
    data = DataAccess(WarehouseReader(link))
    got = data.values("stop_search_rr_black_white", ("cheshire",), date(2019, 1, 1),
                      date(2019, 1, 31)).iloc[0]
    assert (got["value"], got["lower"], got["upper"]) == pytest.approx(expected, rel=1e-9)
    assert expected[0] == pytest.approx((black / float(pop["black"])) / (white / float(pop["white"])))
