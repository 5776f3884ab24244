"""Which measure aggregates the cube build may add up from partial groups
(etl/cubes/measures.py `additive`): a wrong yes would sum what cannot be summed (a count of
distinct officers over days is not the sum of the days' counts), so anything but a plain
count or sum must say no."""

from __future__ import annotations

import duckdb
import pytest

from etl.cubes.measures import additive
from etl.measures.registry import MEASURES


@pytest.fixture(scope="module")
def con() -> duckdb.DuckDBPyConnection:
    return duckdb.connect()


@pytest.mark.parametrize("sql", [
    "count(*)",
    "count(*) FILTER (WHERE channel = '999' AND answered <= received + INTERVAL 10 SECOND)",
    "count(officer_ref)",
    "sum(x)",
    "sum(x * x) FILTER (WHERE y)",
    "SUM(date_diff('millisecond', received, answered) / 1000.0)",
])
def test_plain_counts_and_sums_are_additive(con: duckdb.DuckDBPyConnection, sql: str) -> None:
    assert additive(con, sql)


@pytest.mark.parametrize("sql", [
    "count(DISTINCT officer_id)",
    "count(DISTINCT coalesce(officer_id, 'ref:' || officer_ref))",
    "sum(x) / 2",
    "count(*) * 1.0",
    "CAST(sum(x) AS DOUBLE)",
    "max(x)",
    "avg(x)",
    "median(x)",
    "sum(x), count(*)",
    "sum(",               # not SQL at all
    "x",
])
def test_anything_else_is_not(con: duckdb.DuckDBPyConnection, sql: str) -> None:
    assert not additive(con, sql)


def test_the_registered_distinct_count_takes_the_row_path(con: duckdb.DuckDBPyConnection) -> None:
    """The one registered measure that counts distinct values (the RSO caseload per officer)."""
    distinct = [m.id for m in MEASURES.values()
                if any(sql and not additive(con, sql)
                       for sql in (m.num_sql, m.den_sql, m.num2_sql, m.den2_sql))]
    assert distinct == ["solo_caseload"]
