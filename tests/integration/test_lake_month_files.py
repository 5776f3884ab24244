"""Force-level datasets (the national comparators: the demo's 42 other forces) are written one
lake file a month holding every force, not one file per force and month (issue 11 item 6: the
demo wrote 5,040 files of 7 to 14 rows, each in its own folder). The manifest lists each force
in its month's file; every reader takes a file's rows only for the forces the manifest lists
for it, so real data that replaces one comparator force's demo rows leaves the other forces'
figures as they were, in the cubes, a rebuild, `status --verify`, garbage collection and
Spark's build alike.

Expected values are counted from the Parquet files with pyarrow and from the manifest, not
from the cube code under test."""

from __future__ import annotations

import csv
import os
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

import etl.lake.commit as commit_module
from etl.lake.ingest import load_police_uk
from etl.lake.rebuild import rebuild_warehouse
from etl.lake.repair import verify
from etl.lake.warehouse import WarehousePaths
from etl.sources.police_uk.reader import STREET_HEADER
from tests.conftest import DemoBuild
from tests.support.warehouses import copy_warehouse

FORCE_LEVEL = ("force_month", "service_force_month")
REPLACED = "kent"   # a comparison force of the demo, given real data.police.uk rows below


def _files(lake: Path, dataset: str) -> list[Path]:
    """Every Parquet file under the dataset's demo folder, found by walking the folders."""
    out = []
    for folder, _, names in os.walk(lake / dataset / "source=demo"):
        out += [Path(folder) / n for n in names if n.endswith(".parquet")]
    return sorted(out)


def _rows(link: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(WarehousePaths(link).live()), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


# the demo rows at force level that come from the force-level files: comparator forces' crime
# categories and service measures (the demo force's own force level comes from its records)
CRIME = ("SELECT force_id, month, category, n, sd, harm FROM cube_crime_month WHERE source = 'demo' "
         "AND level = 'force' AND force_id <> 'cheshire' ORDER BY ALL")
MEASURES = ("SELECT force_id, month, measure_id, num, den FROM cube_measure_month "
            "WHERE dataset = 'service_force_month' ORDER BY ALL")


def _street_file(folder: Path) -> Path:
    """A small data.police.uk street file for the replaced force (a month the demo lacks)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"2019-01-{REPLACED}-street.csv"
    with open(path, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(STREET_HEADER)
        for i in range(12):
            w.writerow([f"k{i:04d}", "2019-01", "Kent Police", "Kent Police", "", "",
                        "No location", "", "", "Burglary", "Under investigation", ""])
    return path


@pytest.fixture(scope="module")
def demo(demo_warehouse: Callable[[int, int], DemoBuild]) -> Path:
    return demo_warehouse(5, 1).link


@pytest.fixture(scope="module")
def replaced(demo: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list, list]:
    """A copy of the demo after real data for REPLACED was loaded, with no grace period for
    superseded lake files (so the load collects them at once), and the demo's cube rows
    before it."""
    link = copy_warehouse(demo, tmp_path_factory.mktemp("month-files"))
    before = (_rows(link, CRIME), _rows(link, MEASURES))
    mp = pytest.MonkeyPatch()
    mp.setattr(commit_module, "GRACE_SECONDS", -1)
    try:
        report = load_police_uk(link, [_street_file(link.parent / "in")])
    finally:
        mp.undo()
    assert report.committed and not report.refused, report
    assert any(n.startswith(f"{REPLACED}:") and "REPLACED" in n for n in report.notes), report.notes
    return link, *before


def test_force_level_datasets_are_one_file_a_month_listed_once_per_force(demo: Path) -> None:
    lake = WarehousePaths(demo).lake
    manifest = _rows(demo, "SELECT dataset, force_id, strftime(month, '%Y-%m-%d'), path, rows "
                           "FROM lake_manifest WHERE source = 'demo'")
    for dataset in FORCE_LEVEL:
        files = _files(lake, dataset)
        assert len(files) == 12  # the one-year demo's months
        listed = {(f, m): (p, n) for d, f, m, p, n in manifest if d == dataset}
        assert len(listed) == 42 * 12
        for file in files:
            rel = file.relative_to(lake).as_posix()
            month = file.parent.name.removeprefix("month=")
            assert file.parent.parent.name == "source=demo"  # no force folder
            table = pq.read_table(file)
            counts = Counter(table.column("force_id").to_pylist())
            assert {str(m) for m in table.column("month").to_pylist()} == {month}
            assert len(counts) == 42
            for force, n in counts.items():
                assert listed[(force, month)] == (rel, n)


def test_the_comparison_cubes_equal_sums_of_the_month_files(demo: Path) -> None:
    lake = WarehousePaths(demo).lake
    crimes: Counter = Counter()
    for file in _files(lake, "force_month"):
        t = pq.read_table(file).to_pylist()
        for r in t:
            crimes[(r["force_id"], r["month"], r["category"])] += r["n"]
    got = {(f, m, c): n for f, m, c, n, *_ in _rows(demo, CRIME)}
    assert got == dict(crimes) and len(got) > 1000


def test_real_data_for_one_comparison_force_leaves_the_others_as_they_were(
        replaced: tuple[Path, list, list]) -> None:
    link, crime_before, measures_before = replaced
    assert _rows(link, "SELECT count(*) FROM lake_manifest WHERE source = 'demo' "
                       f"AND force_id = '{REPLACED}'") == [(0,)]
    others = [r for r in crime_before if r[0] != REPLACED]
    assert len(others) < len(crime_before)
    assert _rows(link, CRIME) == others
    assert _rows(link, MEASURES) == [r for r in measures_before if r[0] != REPLACED]


def test_a_month_file_another_force_still_uses_is_not_collected(
        replaced: tuple[Path, list, list]) -> None:
    """The load collected superseded files with no grace period: each month file was
    superseded for REPLACED but is still listed for the 41 others, so it stays; the demo
    force's own replaced files (listed for nobody) were removed."""
    link = replaced[0]
    lake = WarehousePaths(link).lake
    for dataset in FORCE_LEVEL:
        assert len(_files(lake, dataset)) == 12
    listed = {p for (p,) in _rows(link, "SELECT DISTINCT path FROM lake_manifest")}
    assert all((lake / p).exists() for p in listed)
    # each month file was queued as garbage (for REPLACED's rows) and has left the queue
    assert _rows(link, "SELECT count(*) FROM lake_garbage") == [(0,)]


def test_verify_counts_only_the_listed_forces_rows_of_a_month_file(
        replaced: tuple[Path, list, list]) -> None:
    """Each month file holds REPLACED's 12-odd rows that the manifest no longer lists:
    `status --verify` does not call that damage, and still finds a file cut short."""
    link = replaced[0]
    assert verify(link) == []
    lake = WarehousePaths(link).lake
    victim = _files(lake, "service_force_month")[0]
    table = pq.read_table(victim)
    pq.write_table(table.slice(0, table.num_rows - 1), victim)
    try:
        damage = verify(link)
        assert len(damage) == 1 and str(victim) == damage[0].path
        assert "rows; the manifest says" in damage[0].problem
    finally:
        pq.write_table(table, victim)
    assert verify(link) == []


def test_a_rebuild_takes_the_same_rows_from_the_month_files(
        replaced: tuple[Path, list, list], tmp_path: Path) -> None:
    link = copy_warehouse(replaced[0], tmp_path)
    crime, measures = _rows(link, CRIME), _rows(link, MEASURES)
    assert rebuild_warehouse(link).committed
    assert _rows(link, CRIME) == crime
    assert _rows(link, MEASURES) == measures
    assert not any(r[0] == REPLACED for r in crime)


def test_spark_takes_the_same_rows_from_the_month_files(
        spark, replaced: tuple[Path, list, list]) -> None:  # noqa: ANN001
    from etl.cubes import spark as spark_cubes

    link = replaced[0]
    cubes = spark_cubes.crime_cubes(spark, spark_cubes.read_inputs(link))
    got = sorted(
        (r.force_id, r.month, r.category, r.n, r.sd) for r in cubes["cube_crime_month"]
        .where("source = 'demo' AND level = 'force' AND force_id <> 'cheshire'").collect())
    assert got == [r[:5] for r in _rows(link, CRIME)]
    assert not any(r[0] == REPLACED for r in got)


def test_repair_finds_each_force_of_a_month_file_the_manifest_lost(
        demo: Path, tmp_path: Path) -> None:
    """When a damaged version's manifest is lost, repair adds the lake files of later loads
    from the lake itself: a month file gives one manifest row per force in it, with that
    force's rows."""
    from etl.lake.repair import _later_lake_files
    from etl.lake.warehouse import new_version

    link = copy_warehouse(demo, tmp_path)
    want = "SELECT dataset, force_id, month, path, rows FROM lake_manifest " \
           "WHERE dataset IN ('force_month', 'service_force_month') ORDER BY ALL"
    before = _rows(link, want)
    paths = WarehousePaths(link)
    with new_version(paths) as wcon:
        wcon.execute("DELETE FROM lake_manifest WHERE dataset IN ('force_month', 'service_force_month') "
                     "AND month > DATE '2004-06-01'")  # (the earlier months keep the base's newest load)
        assert _later_lake_files(wcon, paths) > 0
    assert _rows(link, want) == before


def test_a_glob_reader_with_hive_partitioning_gets_source_month_and_force(demo: Path) -> None:
    """Read by folder as Trino or a Spark/DuckDB glob would: `source` and `month` (a DATE)
    from the folders, `force_id` from the file, the same rows the files hold."""
    lake = WarehousePaths(demo).lake
    con = duckdb.connect()
    rows = con.execute(
        "SELECT source, typeof(month), count(DISTINCT month), count(DISTINCT force_id), count(*) "
        "FROM read_parquet(?, hive_partitioning = true) GROUP BY ALL",
        [str(lake / "force_month" / "**" / "*.parquet")]).fetchall()
    total = sum(pq.read_metadata(f).num_rows for f in _files(lake, "force_month"))
    assert rows == [("demo", "DATE", 12, 42, total)]
