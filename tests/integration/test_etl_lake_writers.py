"""The three ways etl/lake/commit.py `_write_partitions` writes a staged table's partitions,
each chosen by the table's shape, give the same files: one per (force, month), in the
layout's folder, named for the load, holding exactly that partition's rows with the
dataset's DuckDB types, read alike by DuckDB with hive partitioning on.

- a stream: one scan of the table in row order, each partition's rows written by pyarrow as
  they pass, when partitions are big enough and few interleave at any point;
- rowid ranges (one COPY a partition), the same shape with a column type pyarrow does not write
  as DuckDB does;
- pyarrow, from one Arrow fetch, when the table is small and its partitions tiny;
- DuckDB's partitioned COPY otherwise (rows interleaved, a view, a big table of tiny parts).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import pytest

from etl.lake import commit
from etl.sources.shapes import FORCE_MONTH_COLUMNS, select_list

LOAD = "20260101T000000-0123abcd"
FORCES = ("cheshire", "dorset", "kent")
MONTHS = (date(2020, 1, 1), date(2020, 2, 1), date(2020, 3, 1))


def _staged(con: duckdb.DuckDBPyConnection, per: int, interleave: bool) -> list[tuple]:
    """A staged force_month table: `per` rows a partition, grouped by partition or not.
    Returns its rows (as the dataset's columns), the expected content of the lake."""
    order = "i % 9, i" if not interleave else "i"
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE stg AS
            SELECT (['cheshire', 'dorset', 'kent'])[(i % 9) // 3 + 1] AS force_id,
                   CAST(DATE '2020-01-01' + INTERVAL ((i % 3)) MONTH AS DATE) AS month,
                   'burglary-' || (i % 5) AS category, i AS n, (i % 7) AS sd
            FROM range({per * 9}) t(i) ORDER BY {order}""")
    return con.execute(f"SELECT {select_list(FORCE_MONTH_COLUMNS)} FROM stg ORDER BY ALL").fetchall()


def _written(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> dict[tuple[str, date], Path]:
    parts = [(f, m) for f in FORCES for m in MONTHS]
    return commit._write_partitions(con, "stg", FORCE_MONTH_COLUMNS, tmp_path, "force_month",
                                    "demo", LOAD, parts)


def _written_by(con: duckdb.DuckDBPyConnection, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                columns: dict[str, str] = FORCE_MONTH_COLUMNS
                ) -> tuple[dict[tuple[str, date], Path], str]:
    """The files written, and which writer wrote them (the one whose call returned them)."""
    used: list[str] = []
    for name in ("_write_stream", "_write_small"):
        real = getattr(commit, name)

        def spy(*a: object, _r=real, _n=name) -> object:
            got = _r(*a)
            if got is not None:
                used.append(_n)
            return got
        monkeypatch.setattr(commit, name, spy)
    parts = [(f, m) for f in FORCES for m in MONTHS]
    files = commit._write_partitions(con, "stg", columns, tmp_path, "force_month", "demo", LOAD,
                                     parts)
    took = ("stream" if "_write_stream" in used else "pyarrow" if "_write_small" in used else
            "ranges" if commit._row_ranges(con, "stg", 9) is not None else "partitioned")
    return files, took


@pytest.mark.parametrize(("per", "interleave", "path"), [
    (5000, False, "stream"),        # 9 runs of 5,000 rows
    (10, False, "pyarrow"),         # 90 rows in tiny partitions
    (10, True, "pyarrow"),          # interleaved, but small: pyarrow sorts them
    (5000, True, "partitioned"),    # 45,000 rows interleaved row by row: partitioned COPY
])
def test_every_writer_gives_one_file_per_partition_with_its_rows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, per: int, interleave: bool, path: str
) -> None:
    con = duckdb.connect()
    expected = _staged(con, per, interleave)
    if path == "partitioned":
        monkeypatch.setattr(commit, "SMALL_TABLE_ROWS", 10)  # 45,000 rows are not 'small'
    files, took = _written_by(con, tmp_path, monkeypatch)
    assert took == path
    assert sorted(files) == sorted((f, m) for f in FORCES for m in MONTHS)
    for (force_id, month), file in files.items():
        assert file.parent == tmp_path / "force_month" / "source=demo" / f"force_id={force_id}" \
            / f"month={month:%Y-%m-%d}"
        assert file.name.startswith(LOAD)
        assert con.execute("SELECT count(*), count(*) FILTER (WHERE force_id = ? AND month = ?) "
                           "FROM read_parquet(?)", [force_id, month, str(file)]).fetchall() == [(per, per)]
    # the whole lake, read with hive partitioning on: the same rows and the dataset's types
    got = con.execute("SELECT * EXCLUDE (source) FROM read_parquet(?, hive_partitioning = true) "
                      "ORDER BY ALL", [str(tmp_path / "force_month" / "**" / "*.parquet")])
    types = [str(d[1]) for d in got.description]
    assert got.fetchall() == expected
    assert types == list(FORCE_MONTH_COLUMNS.values())


def test_a_run_broken_by_a_deleted_row_is_not_written_as_a_range(tmp_path: Path) -> None:
    """A partition whose rows do not fill their rowid span (a row deleted inside it, as a
    refused file's rows are) takes the partitioned COPY, and still writes exactly its rows."""
    con = duckdb.connect()
    _staged(con, 5000, False)
    con.execute("DELETE FROM stg WHERE n = 100")
    assert commit._row_ranges(con, "stg", 9) is None
    files = _written(con, tmp_path)
    rows = sum(con.execute("SELECT count(*) FROM read_parquet(?)", [str(f)]).fetchall()[0][0]
               for f in files.values())
    assert rows == 9 * 5000 - 1


def test_a_view_is_written_by_the_partitioned_copy(tmp_path: Path) -> None:
    con = duckdb.connect()
    _staged(con, 5000, False)
    con.execute("ALTER TABLE stg RENAME TO stg_rows")
    con.execute("CREATE TEMP VIEW stg AS SELECT * FROM stg_rows")
    assert commit._row_ranges(con, "stg", 9) is None and not commit._small(con, "stg", 9)
    files = _written(con, tmp_path)
    assert len(files) == 9


def test_a_type_pyarrow_would_write_differently_takes_duckdbs_writer(tmp_path: Path) -> None:
    """A small table with a column of a type outside the ones pyarrow writes as DuckDB does
    (here a DECIMAL) is written by DuckDB's partitioned COPY, with its own type kept."""
    con = duckdb.connect()
    _staged(con, 10, False)
    columns = {**FORCE_MONTH_COLUMNS, "n": "DECIMAL(18,3)"}
    assert commit._small(con, "stg", 9)
    parts = [(f, m) for f in FORCES for m in MONTHS]
    files = commit._write_partitions(con, "stg", columns, tmp_path, "force_month", "demo",
                                     LOAD, parts)
    assert len(files) == 9
    got = con.execute("SELECT n FROM read_parquet(?) LIMIT 1", [str(next(iter(files.values())))])
    assert str(got.description[0][1]) == "DECIMAL(18,3)"


def _lake_rows(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> list[tuple]:
    return con.execute("SELECT * EXCLUDE (source) FROM read_parquet(?, hive_partitioning = true) "
                       "ORDER BY ALL", [str(tmp_path / "force_month" / "**" / "*.parquet")]).fetchall()


def test_partitions_interleaved_in_blocks_stream_into_one_file_each(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Rows of three partitions at a time alternating in blocks of 1,000 (as a staged batch's
    files come out of DuckDB's parallel joins), read in batches of 700 rows, with row groups of
    at most 2,500 rows and pieces of at most two batches held: every partition still ends in
    one file holding exactly its rows, in several row groups."""
    monkeypatch.setattr(commit, "STREAM_BATCH_ROWS", 700)
    monkeypatch.setattr(commit, "STREAM_GROUP_ROWS", 2500)
    monkeypatch.setattr(commit, "STREAM_LIVE_BATCHES", 2)
    con = duckdb.connect()
    # partition p = i // 15000 * 3 + (i // 1000) % 3: three partitions interleave per 15,000 rows
    con.execute(
        """CREATE TEMP TABLE stg AS
           WITH r AS (SELECT i, (i // 15000) * 3 + (i // 1000) % 3 AS p FROM range(45000) t(i))
           SELECT (['cheshire', 'dorset', 'kent'])[p // 3 + 1] AS force_id,
                  CAST(DATE '2020-01-01' + INTERVAL (p % 3) MONTH AS DATE) AS month,
                  'burglary' AS category, i AS n, i % 7 AS sd FROM r ORDER BY i""")
    expected = con.execute(f"SELECT {select_list(FORCE_MONTH_COLUMNS)} FROM stg ORDER BY ALL").fetchall()
    files, took = _written_by(con, tmp_path, monkeypatch)
    assert took == "stream"
    assert len(files) == 9
    assert _lake_rows(con, tmp_path) == expected
    for (force_id, month), file in files.items():
        assert con.execute("SELECT count(*), count(*) FILTER (WHERE force_id = ? AND month = ?) "
                           "FROM read_parquet(?)", [force_id, month, str(file)]).fetchall() == [(5000, 5000)]
        groups = con.execute("SELECT count(DISTINCT row_group_id) FROM parquet_metadata(?)",
                             [str(file)]).fetchall()[0][0]
        assert groups >= 2


def test_rows_too_finely_interleaved_leave_no_stream_file_behind(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Partitions few enough to stream but alternating every 10 rows: the stream gives up
    and DuckDB's partitioned COPY writes them; what the stream had begun is removed, so each
    partition has exactly one file."""
    monkeypatch.setattr(commit, "STREAM_BATCH_ROWS", 5000)
    monkeypatch.setattr(commit, "SMALL_TABLE_ROWS", 10)
    con = duckdb.connect()
    con.execute(
        """CREATE TEMP TABLE stg AS
           WITH r AS (SELECT i, CASE WHEN i < 20000 THEN 0 ELSE 1 + (i // 10) % 8 END AS p
                      FROM range(60000) t(i))
           SELECT (['cheshire', 'dorset', 'kent'])[p // 3 + 1] AS force_id,
                  CAST(DATE '2020-01-01' + INTERVAL (p % 3) MONTH AS DATE) AS month,
                  'burglary' AS category, i AS n, i % 7 AS sd FROM r ORDER BY i""")
    expected = con.execute(f"SELECT {select_list(FORCE_MONTH_COLUMNS)} FROM stg ORDER BY ALL").fetchall()
    files, took = _written_by(con, tmp_path, monkeypatch)
    assert took == "partitioned"
    assert len(list((tmp_path / "force_month").rglob("*.parquet"))) == 9 == len(files)
    assert _lake_rows(con, tmp_path) == expected


def test_big_runs_of_a_type_pyarrow_would_write_differently_take_the_range_copies(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    con = duckdb.connect()
    _staged(con, 5000, False)
    columns = {**FORCE_MONTH_COLUMNS, "n": "DECIMAL(18,3)"}
    files, took = _written_by(con, tmp_path, monkeypatch, columns)
    assert took == "ranges"
    assert len(files) == 9
    got = con.execute("SELECT n FROM read_parquet(?) LIMIT 1", [str(next(iter(files.values())))])
    assert str(got.description[0][1]) == "DECIMAL(18,3)"


def test_a_staged_row_of_a_partition_not_counted_fails_the_write(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A row the stream meets for a partition beyond its count (the table changed between
    the count and the scan) fails the load rather than publishing a file with other rows."""
    con = duckdb.connect()
    _staged(con, 5000, False)
    real = commit._spans

    def short(*a: object) -> dict:
        spans = real(*a)
        key = next(iter(spans))
        first, last, n = spans[key]
        return {**spans, key: (first, last, n - 1)}
    monkeypatch.setattr(commit, "_spans", short)
    with pytest.raises(RuntimeError, match="changed while they were written"):
        _written(con, tmp_path)
    assert list((tmp_path / "force_month").rglob("*.parquet")) == []
