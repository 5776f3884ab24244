"""The day cube is written in day order within each dataset, source and force
(etl/cubes/measures.py `_group_order`), so that DuckDB's zone maps skip all but about one row
group of a week's or a custom range's read: the dashboard's day-cube reads filter by source,
measure, unit and a day range, and only the day prunes (a VARCHAR's zone map keeps its first 8
bytes, and every unit of a force starts with the force's name). Unit first, as before, a
week of one NPU read 12 of the 5-year demo's 31 row groups.

The expected figures come from the cube's size and DuckDB's row group of 122,880 rows, not from
the code under test: a week of every crime measure of every unit is about 5,000 rows of the
2-year demo, so a read fits in the row group that holds the week plus at most one more (where
the previous dataset's rows end and this one's begin, whose min and max span every day).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

import duckdb

from dashboard.data.queries import cubes
from etl.cubes.measures import rebuild_crime_measures
from etl.measures.registry import MEASURES
from tests.support.warehouses import copy_warehouse

ROW_GROUP = 122_880
# the day cube's rows as a multiset: equal whatever order they are stored in
CONTENT = ("SELECT count(*), bit_xor(hash(dataset, source, force_id, unit_id, level, day, measure_id, "
           "num, den, num2, den2)) FROM cube_measure_day")


def _out_of_order(con: duckdb.DuckDBPyConnection) -> int:
    """Rows of the day cube whose day is earlier than the row before them (by rowid) of the
    same dataset, source and force."""
    return con.execute(
        """SELECT count(*) FROM (
               SELECT day, lag(day) OVER (PARTITION BY dataset, source, force_id ORDER BY rowid) AS prev
               FROM cube_measure_day)
           WHERE day < prev""").fetchone()[0]


def _row_groups(con: duckdb.DuckDBPyConnection, folder: Path,
                read: Callable[[duckdb.DuckDBPyConnection], list]) -> tuple[int, int, int]:
    """(row groups scanned, row groups in the table, rows returned) of one read, from DuckDB's
    own profile of it."""
    out = folder / "profile.json"
    cur = con.cursor()
    cur.execute("PRAGMA enable_profiling = 'json'")
    cur.execute("SET profiling_mode = 'detailed'")
    cur.execute(f"SET profiling_output = '{out}'")
    rows = read(cur)
    cur.execute("PRAGMA disable_profiling")
    query = json.loads(out.read_text())["query"]
    return query["total_row_groups_scanned"], query["total_row_groups_to_scan"], len(rows)


def _an_npu(con: duckdb.DuckDBPyConnection) -> str:
    return con.execute("SELECT min(unit_id) FROM dim_unit WHERE force_id = 'cheshire' "
                       "AND level = 'npu'").fetchone()[0]


def test_day_cube_rows_come_in_day_order(demo_link: Path) -> None:
    con = duckdb.connect(str(demo_link), read_only=True)
    try:
        rows = con.execute("SELECT count(*) FROM cube_measure_day").fetchone()[0]
        assert rows > 5 * ROW_GROUP  # big enough for the order to matter
        assert _out_of_order(con) == 0
    finally:
        con.close()


def test_a_week_of_one_measure_reads_at_most_two_row_groups(demo_link: Path, tmp_path: Path) -> None:
    con = duckdb.connect(str(demo_link), read_only=True)
    try:
        npu = _an_npu(con)
        last = con.execute("SELECT max(day) FROM cube_measure_day WHERE dataset = 'crime'").fetchone()[0]
        for first in (date(last.year - 1, 6, 1), last - timedelta(days=6)):
            scanned, total, n = _row_groups(con, tmp_path, lambda c, first=first: cubes.measure_tuples(
                c, "demo", [npu], "crime_burglary", first, first + timedelta(days=6), "day"))
            assert n > 0  # the NPU records burglaries most weeks: the read found its days
            assert total >= 10
            assert scanned <= 3, (first, scanned, total)
        # a calls measure: the calls rows are a region of their own, in day order too
        scanned, total, n = _row_groups(con, tmp_path, lambda c: cubes.measure_tuples(
            c, "demo", [npu], "calls_999", last - timedelta(days=6), last, "day"))
        assert n > 0
        assert scanned <= 3, scanned
    finally:
        con.close()


def test_an_incremental_rebuild_appends_its_months_in_day_order(demo_link: Path, tmp_path: Path) -> None:
    """A load rebuilds only the partitions it touched: their rows are deleted and appended at the
    end of the table, in day order. The newest month keeps the whole table in order; an older
    month lands after it, in the row group(s) at the end, whose days then span from that month
    to the newest: a read between the two scans one or two more row groups (`python -m etl rebuild`
    writes the table in order again)."""
    copy = copy_warehouse(demo_link, tmp_path / "w")
    con = duckdb.connect(str(copy.resolve()))
    try:
        npu = _an_npu(con)
        crime = [m for m in MEASURES.values() if m.dataset == "crime"]
        newest, older = con.execute(
            "SELECT max(month), min(month) + INTERVAL 6 MONTH FROM cube_crime_month "
            "WHERE source = 'demo' AND force_id = 'cheshire'").fetchone()
        older = older.date()
        weeks = (newest + timedelta(days=3), newest - timedelta(days=60), older + timedelta(days=3),
                 older - timedelta(days=60))

        def scanned() -> list[int]:
            counts = []
            for first in weeks:
                n_groups, _, n = _row_groups(con, tmp_path, lambda c, first=first: cubes.measure_tuples(
                    c, "demo", [npu], "crime_burglary", first, first + timedelta(days=6), "day"))
                assert n > 0
                counts.append(n_groups)
            return counts

        content, reads = con.execute(CONTENT).fetchone(), scanned()
        # A month's rebuilt rows are fewer than a row group, so once appended they sit in at most
        # two: the end of the table's last, part-filled group and one new one. Where the last
        # group ends depends on how the build's two cube chains' inserts landed (etl/cubes/build.py),
        # so a read of that month may scan one or two groups more (its old groups are still
        # counted for their deleted rows), never more.
        for month in (newest, older):
            appended = con.execute(
                "SELECT count(*) FROM cube_measure_day WHERE dataset = 'crime' AND source = 'demo' "
                "AND force_id = 'cheshire' AND date_trunc('month', day) = ?", [month]).fetchone()[0]
            assert 0 < appended < ROW_GROUP
        rebuild_crime_measures(con, [("demo", "cheshire", newest)], crime)
        con.execute("CHECKPOINT")
        assert _out_of_order(con) == 0
        assert all(a <= r + 2 for a, r in zip(scanned(), reads, strict=True))
        rebuild_crime_measures(con, [("demo", "cheshire", older)], crime)
        con.execute("CHECKPOINT")
        assert con.execute(CONTENT).fetchone() == content  # the same rows, wherever they are
        # out of order only where the older month's rows follow the newest month's
        assert _out_of_order(con) == 1
        after = scanned()
        # before the older month: untouched but for one group at most. The CHECKPOINT after the
        # newest month's rebuild may merge the row group its deleted rows left part-empty with
        # the table's last group; when that one holds the start of another dataset's rows (which
        # span every day: it depends on how the two chains' inserts landed), the merged group
        # spans every day and every read scans it. Seen on CI at cbe003e: that read scanned 2 groups,
        # then 3; the copy's storage_info: group 11 went from 2008-01-16..2008-03-31
        # (111,860 rows) to 2006-04-01..2008-03-31 (96,397 rows: by the counts, its own rows left
        # and the last group's 30,777 merged).
        assert after[3] <= reads[3] + 1, (reads, after)
        assert all(a <= r + 2 for a, r in zip(after, reads, strict=True)), (reads, after)
    finally:
        con.close()
