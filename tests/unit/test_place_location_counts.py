"""place.location_counts (fastui7: its records read without the harm weights, which it never
used): crimes per map point of a unit, on a hand-made lake file whose counts are written out
here, with weight tables present or absent (a duplicate-free weight table cannot change them)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import pytest

from dashboard.data.queries import place

M = date(2024, 1, 1)
ROWS = [
    # force, npu, lsoa, location, lon, lat, asb, category, offence_code
    ("f1", "n1", "L1", "On or near A Street", -2.5, 53.1, False, "burglary", "28E"),
    ("f1", "n1", "L1", "On or near A Street", -2.5, 53.1, False, "burglary", None),
    ("f1", "n1", "L1", "On or near A Street", -2.5, 53.1, False, "shoplifting", "46"),
    ("f1", None, "L2", "On or near B Road", -2.6, 53.2, False, "burglary", "28E"),   # NPU from dim_lsoa
    ("f1", "n1", "L1", None, -2.7, 53.3, False, "burglary", "28E"),                   # no location: left out
    ("f1", "n1", "L1", "On or near C Lane", None, 53.3, False, "burglary", "28E"),   # no coordinates
    ("f1", "n1", "L1", "On or near D Way", -2.8, 53.4, True, "anti-social-behaviour", None),   # ASB
    ("f1", "n2", "L3", "On or near E Close", -2.9, 53.5, False, "burglary", "28E"),  # another NPU
]


@pytest.fixture
def cur(tmp_path: Path) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("CREATE TABLE dim_lsoa (force_id VARCHAR, lsoa_code VARCHAR, npu_id VARCHAR, "
                "lsoa_name VARCHAR)")
    con.execute("INSERT INTO dim_lsoa VALUES ('f1', 'L1', 'n1', 'one'), ('f1', 'L2', 'n1', 'two'), "
                "('f1', 'L3', 'n2', 'three')")
    con.execute("CREATE TABLE dim_unit (unit_id VARCHAR, parent_id VARCHAR)")
    con.execute("INSERT INTO dim_unit VALUES ('n1', 'b1'), ('n2', 'b1'), ('b1', 'f1')")
    con.execute("CREATE TABLE facts (force_id VARCHAR, npu_id VARCHAR, lsoa_code VARCHAR, location VARCHAR, "
                "longitude DOUBLE, latitude DOUBLE, is_asb BOOLEAN, category VARCHAR, offence_code VARCHAR, "
                "month DATE)")
    con.executemany("INSERT INTO facts VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", [(*r, M) for r in ROWS])
    con.execute(f"COPY facts TO '{tmp_path / 'crime.parquet'}' (FORMAT parquet)")
    return con


def _counts(cur: duckdb.DuckDBPyConnection, tmp_path: Path, level: str, unit: str,
            cats: list[str]) -> list[tuple]:
    frame = place.location_counts(cur, [str(tmp_path / "crime.parquet")], level, unit, cats, M, M, "month")
    assert list(frame.columns) == place.LOCATION_COLUMNS
    return list(frame.itertuples(index=False, name=None))


@pytest.mark.parametrize("weights", [False, True])
def test_crimes_per_point_of_a_unit(cur: duckdb.DuckDBPyConnection, tmp_path: Path, weights: bool) -> None:
    if weights:   # the version's weight tables, one row per key: they change no count
        cur.execute("CREATE TABLE ref_crime_severity AS SELECT * FROM (VALUES ('28E', 400.0), ('46', 20.0)) "
                    "t(code, weight)")
        cur.execute("CREATE TABLE ref_crime_severity_category AS SELECT * FROM (VALUES ('burglary', 300.0)) "
                    "t(category, weight)")
    both = ["burglary", "shoplifting"]
    assert _counts(cur, tmp_path, "npu", "n1", both) == [
        (-2.5, 53.1, "On or near A Street", "L1", 3),
        (-2.6, 53.2, "On or near B Road", "L2", 1),
    ]
    assert _counts(cur, tmp_path, "npu", "n1", ["burglary"]) == [
        (-2.5, 53.1, "On or near A Street", "L1", 2),
        (-2.6, 53.2, "On or near B Road", "L2", 1),
    ]
    # the BCU (the NPUs' parent) and the force: every NPU's points, most first, then by location
    expected = [
        (-2.5, 53.1, "On or near A Street", "L1", 3),
        (-2.6, 53.2, "On or near B Road", "L2", 1),
        (-2.9, 53.5, "On or near E Close", "L3", 1),
    ]
    assert _counts(cur, tmp_path, "bcu", "b1", both) == expected
    assert _counts(cur, tmp_path, "force", "f1", both) == expected
    assert _counts(cur, tmp_path, "npu", "n2", ["shoplifting"]) == []


MORE = [   # repeat points with ties on the count, to order by location and then coordinates
    ("f1", "n2", "L3", "On or near F Street", -3.0, 53.6, False, "burglary", "28E"),
    ("f1", "n2", "L3", "On or near F Street", -3.0, 53.6, False, "burglary", "28E"),
    ("f1", "n2", "L3", "On or near B Road", -3.1, 53.7, False, "burglary", "28E"),
    ("f1", "n2", "L4", "On or near B Road", -3.1, 53.7, False, "burglary", "28E"),
    ("f1", "n2", "L3", "On or near B Road", -3.2, 53.8, False, "burglary", "28E"),
    ("f1", "n2", "L3", "On or near B Road", -3.2, 53.8, False, "burglary", "28E"),
    ("f1", "n2", "L3", None, -3.2, 53.8, False, "burglary", "28E"),   # no location: not counted
]


@pytest.mark.parametrize("top", [1, 2, 3, 10])
def test_location_repeats_are_the_counts_first_repeat_points(cur: duckdb.DuckDBPyConnection, tmp_path: Path,
                                                              top: int) -> None:
    cur.executemany("INSERT INTO facts VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", [(*r, M) for r in MORE])
    cur.execute(f"COPY facts TO '{tmp_path / 'crime.parquet'}' (FORMAT parquet)")
    files = [str(tmp_path / "crime.parquet")]
    cats = ["burglary", "shoplifting"]
    counts = place.location_counts(cur, files, "force", "f1", cats, M, M, "month")
    # A Street 3; then the 2s by location (B Road before F Street), B Road's two points by longitude
    assert list(counts.itertuples(index=False, name=None))[:4] == [
        (-2.5, 53.1, "On or near A Street", "L1", 3),
        (-3.2, 53.8, "On or near B Road", "L3", 2),
        (-3.1, 53.7, "On or near B Road", "L3", 2),
        (-3.0, 53.6, "On or near F Street", "L3", 2),
    ]
    totals, first = place.location_repeats(cur, files, "force", "f1", cats, M, M, "month", 2, top)
    # 6 points (A Street, B Road at -2.6, E Close, F Street, B Road at -3.1 and at -3.2), 4 with
    # 2+ crimes, holding 3 + 2 + 2 + 2 of the 11 crimes with a point
    assert totals == (6, 4, 11, 9)
    assert list(first.columns) == place.LOCATION_COLUMNS
    assert first.equals(counts[counts["crimes"] >= 2].head(top))
    empty_totals, none = place.location_repeats(cur, files, "npu", "n1", ["shoplifting"], M, M, "month", 2,
                                                top)
    assert empty_totals == (1, 0, 1, 0) and none.empty
