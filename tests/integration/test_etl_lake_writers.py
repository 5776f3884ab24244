"""The three ways etl/lake/commit.py `_write_partitions` writes a staged table's partitions,
each chosen by the table's shape, give the same files: one per (force, month), in the
layout's folder, named for the load, holding exactly that partition's rows with the
dataset's DuckDB types, read alike by DuckDB with hive partitioning on.

- rowid ranges (one COPY a partition), when every partition is one unbroken run of rows and
  they are big enough;
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


@pytest.mark.parametrize(("per", "interleave", "path"), [
    (5000, False, "ranges"),        # 9 runs of 5,000 rows
    (10, False, "pyarrow"),         # 90 rows in tiny partitions
    (10, True, "pyarrow"),          # interleaved, but small: pyarrow sorts them
    (5000, True, "partitioned"),    # 45,000 rows interleaved: DuckDB's partitioned COPY
])
def test_every_writer_gives_one_file_per_partition_with_its_rows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, per: int, interleave: bool, path: str
) -> None:
    con = duckdb.connect()
    expected = _staged(con, per, interleave)
    used = []
    for name in ("_write_small", "_row_ranges"):
        real = getattr(commit, name)
        monkeypatch.setattr(commit, name, lambda *a, _r=real, _n=name: (used.append(_n), _r(*a))[1])
    if path == "partitioned":
        monkeypatch.setattr(commit, "SMALL_TABLE_ROWS", 10)  # 45,000 rows are not 'small'
    files = _written(con, tmp_path)
    took = ("pyarrow" if "_write_small" in used else
            "ranges" if commit._row_ranges(con, "stg", 9) is not None else "partitioned")
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
