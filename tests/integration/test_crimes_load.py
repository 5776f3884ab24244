"""`load crimes`: a force's own crime extract, from CSV or from a SQL query.

Expected numbers are counted here, independently, from docs/examples/crimes.csv with the csv
module (and a local slug function), never with the code under test. Refusal cases write a
broken copy of the example and check the line named and that the warehouse did not change.
"""

from __future__ import annotations

import csv
import re
import sqlite3
from collections import Counter
from datetime import date
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from etl.cli import app
from etl.lake.ingest import load_crimes
from etl.lake.warehouse import WarehousePaths, connect_readonly
from etl.sources.csvscan import mask_url
from tests.support import EXAMPLES

EXAMPLE = EXAMPLES / "crimes.csv"
TABLES = ("dim_unit", "dim_lsoa", "lake_manifest", "load_log", "dq_log", "quarantine",
          "month_status", "cube_crime_month", "cube_crime_day")

# The example's offence groups -> police.uk category ids, written out by hand.
CATEGORY = {
    "burglary": "burglary", "violence and sexual offences": "violent-crime",
    "vehicle-crime": "vehicle-crime", "vehicle crime": "vehicle-crime",
    "shoplifting": "shoplifting", "drugs": "drugs",
    "criminal damage and arson": "criminal-damage-arson", "robbery": "robbery",
    "public order": "public-order", "other theft": "other-theft",
    "theft from the person": "theft-from-the-person", "bicycle theft": "bicycle-theft",
    "possession of weapons": "possession-of-weapons", "other crime": "other-crime",
}


def slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def example_rows() -> list[dict[str, str]]:
    with open(EXAMPLE, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def example_lines() -> list[str]:
    return EXAMPLE.read_text(encoding="utf-8").splitlines()


def unit_ids(row: dict[str, str]) -> dict[str, str | None]:
    force = row["force"]
    bcu = f"{force}/{slug(row['bcu'])}"
    npu = f"{bcu}/{slug(row['npu'])}"
    team = f"{npu}/{slug(row['team'])}" if row["team"] else None
    officer = f"{team or npu}/{slug(row['officer'])}" if row["officer"] else None
    return {"force": force, "bcu": bcu, "npu": npu, "team": team, "officer": officer}


def expected_month_cube() -> dict[tuple[str, str, date, str], tuple[int, int]]:
    """(level, unit_id, month, category) -> (crimes, sanction detections)."""
    n: Counter = Counter()
    sd: Counter = Counter()
    for row in example_rows():
        month = date.fromisoformat(row["recorded_date"]).replace(day=1)
        category = CATEGORY[row["offence_group"].lower()]
        for level, unit in unit_ids(row).items():
            if unit is not None:
                key = (level, unit, month, category)
                n[key] += 1
                sd[key] += row["detection_type"] != ""
    return {k: (n[k], sd[k]) for k in n}


def expected_day_cube() -> dict[tuple[str, str, date], tuple[int, int]]:
    """(level, unit_id, day) -> (crimes, sd); the day cube has no officer level."""
    out: Counter = Counter()
    sd: Counter = Counter()
    for row in example_rows():
        day = date.fromisoformat(row["recorded_date"])
        for level, unit in unit_ids(row).items():
            if unit is not None and level != "officer":
                out[(level, unit, day)] += 1
                sd[(level, unit, day)] += row["detection_type"] != ""
    return {k: (out[k], sd[k]) for k in out}


def query(link: Path, sql: str, params: list | None = None) -> list[tuple]:
    con = connect_readonly(link)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def month_cube(link: Path) -> dict[tuple[str, str, date, str], tuple[int, int]]:
    return {(r[0], r[1], r[2], r[3]): (r[4], r[5]) for r in query(
        link, "SELECT level, unit_id, month, category, n, sd FROM cube_crime_month "
        "WHERE source = 'force'")}


def day_cube(link: Path) -> dict[tuple[str, str, date], tuple[int, int]]:
    return {(r[0], r[1], r[2]): (int(r[3]), int(r[4])) for r in query(
        link, "SELECT level, unit_id, day, sum(n), sum(sd) FROM cube_crime_day "
        "WHERE source = 'force' GROUP BY ALL")}


def snapshot(link: Path) -> tuple[Path | None, dict[str, int]]:
    live = WarehousePaths(link).live()
    if live is None:
        return None, {}
    return live, {t: query(link, f"SELECT count(*) FROM {t}")[0][0] for t in TABLES}


@pytest.fixture
def loaded(tmp_path: Path) -> Path:
    link = tmp_path / "wh" / "warehouse.duckdb"
    report = load_crimes(link, str(EXAMPLE))
    assert report.refused == [], [str(r) for r in report.refused]
    assert report.committed
    assert report.loaded == [(str(EXAMPLE), len(example_rows()))]
    return link


# --------------------------------------------------------------------------- good input


def test_month_status_counts_each_month(loaded: Path) -> None:
    expected = Counter(date.fromisoformat(r["recorded_date"]).replace(day=1)
                       for r in example_rows())
    rows = query(loaded, "SELECT force_id, month, crimes, asb, unassigned, duplicates "
                         "FROM month_status WHERE source = 'force'")
    assert {r[1]: r[2] for r in rows} == dict(expected)
    assert {r[0] for r in rows} == {"cheshire"}
    assert all(r[3:] == (0, 0, 0) for r in rows)  # no ASB, every row has its NPU, no repeats


def test_month_cube_at_every_level(loaded: Path) -> None:
    expected = expected_month_cube()
    got = month_cube(loaded)
    assert got == expected
    levels = {k[0] for k in got}
    assert levels == {"force", "bcu", "npu", "team", "officer"}
    # the sums agree with the raw file at force level
    rows = example_rows()
    assert sum(v[0] for k, v in got.items() if k[0] == "force") == len(rows)
    assert sum(v[1] for k, v in got.items() if k[0] == "force") == \
        sum(r["detection_type"] != "" for r in rows)


def test_sanction_detections_by_officer(loaded: Path) -> None:
    expected: Counter = Counter()
    for row in example_rows():
        officer = unit_ids(row)["officer"]
        if officer and row["detection_type"]:
            expected[officer] += 1
    got = {r[0]: int(r[1]) for r in query(
        loaded, "SELECT unit_id, sum(sd) FROM cube_crime_month WHERE source = 'force' "
                "AND level = 'officer' GROUP BY ALL HAVING sum(sd) > 0")}
    assert got == dict(expected)


def test_day_cube(loaded: Path) -> None:
    assert day_cube(loaded) == expected_day_cube()


def test_units_have_the_right_parents(loaded: Path) -> None:
    units = {r[0]: r[1:] for r in query(
        loaded, "SELECT unit_id, level, parent_id, name, synthetic FROM dim_unit")}
    for row in example_rows():
        ids = unit_ids(row)
        assert units[ids["bcu"]][:2] == ("bcu", "cheshire")
        assert units[ids["npu"]][:2] == ("npu", ids["bcu"])
        if ids["team"]:
            assert units[ids["team"]][:3] == ("team", ids["npu"], row["team"])
        if ids["officer"]:
            assert units[ids["officer"]] == ("officer", ids["team"] or ids["npu"],
                                             row["officer"], False)
    officers = {u for u, v in units.items() if v[0] == "officer"}
    assert officers == {unit_ids(r)["officer"] for r in example_rows() if r["officer"]}
    assert units["cheshire"][:3] == ("force", None, "Cheshire Constabulary")


def test_crime_facts_keep_the_file_line(loaded: Path) -> None:
    lake = WarehousePaths(loaded).lake
    files = [str(lake / r[0]) for r in query(
        loaded, "SELECT path FROM lake_manifest WHERE source = 'force' AND dataset = 'crime'")]
    con = connect_readonly(loaded)
    try:
        got = dict(con.execute(
            "SELECT crime_id, line FROM read_parquet(?, hive_partitioning = false)", [files]
        ).fetchall())
    finally:
        con.close()
    assert got == {r["crime_ref"]: i for i, r in enumerate(example_rows(), start=2)}


def test_lines_are_physical_lines(tmp_path: Path) -> None:
    """A blank line and a quoted value spanning two lines: each crime keeps the line it
    starts on, for messages and drill-through."""
    lines = example_lines()
    out = [lines[0], lines[1], "", *lines[2:]]  # blank line 3
    k = next(i for i, ln in enumerate(out) if ln.startswith("CH/24/000107,"))
    out[k] = out[k].replace("Chester CID", '"Chester\nCID"')
    path = tmp_path / "odd.csv"
    path.write_text("\n".join(out) + "\n", encoding="utf-8")
    link = tmp_path / "wh" / "warehouse.duckdb"
    report = load_crimes(link, str(path))
    assert report.refused == [], [str(r) for r in report.refused]
    expected, line = {}, 1
    for ln in out[1:]:
        line += 1
        if ln:
            expected[ln.split(",")[0]] = line
            line += ln.count("\n")
    lake = WarehousePaths(link).lake
    files = [str(lake / r[0]) for r in query(link, "SELECT path FROM lake_manifest")]
    con = connect_readonly(link)
    try:
        got = dict(con.execute(
            "SELECT crime_id, line FROM read_parquet(?, hive_partitioning = false)", [files]
        ).fetchall())
    finally:
        con.close()
    assert got == expected
    assert got["CH/24/000108"] == got["CH/24/000107"] + 2


def test_existing_units_keep_their_figures(loaded: Path) -> None:
    """A unit file's population must survive a crime load that names the same unit."""
    live = WarehousePaths(loaded).live()
    con = duckdb.connect(str(live))
    try:
        con.execute("UPDATE dim_unit SET population = 123456, name = 'Northern BCU' "
                    "WHERE unit_id = 'cheshire/northern'")
    finally:
        con.close()
    report = load_crimes(loaded, str(EXAMPLE))
    assert report.committed
    assert query(loaded, "SELECT population, name FROM dim_unit "
                         "WHERE unit_id = 'cheshire/northern'") == [(123456, "Northern BCU")]


def test_loading_again_replaces_months(loaded: Path, tmp_path: Path) -> None:
    report = load_crimes(loaded, str(EXAMPLE))
    assert report.refused == [] and report.committed
    assert month_cube(loaded) == expected_month_cube()  # replaced, not doubled
    # A second extract holding only February, with one crime fewer: February is replaced,
    # January and March are kept.
    lines = example_lines()
    feb = [ln for ln in lines[1:] if ln.split(",")[1].startswith("2024-02")]
    second = tmp_path / "february.csv"
    second.write_text("\n".join([lines[0], *feb[1:]]) + "\n", encoding="utf-8")
    report = load_crimes(loaded, str(second))
    assert report.refused == [] and report.committed
    months = dict(query(loaded, "SELECT month, crimes FROM month_status WHERE source = 'force'"))
    expected = Counter(date.fromisoformat(r["recorded_date"]).replace(day=1)
                       for r in example_rows())
    expected[date(2024, 2, 1)] -= 1
    assert months == dict(expected)


# --------------------------------------------------------------------------- refusals


def _replace_field(line: str, column: str, value: str) -> str:
    header = example_lines()[0].split(",")
    fields = line.split(",")
    fields[header.index(column)] = value
    return ",".join(fields)


def _row_line(crime_ref: str) -> int:
    """Physical line of a crime in the example (header = line 1)."""
    return next(i for i, ln in enumerate(example_lines(), start=1) if ln.startswith(crime_ref + ","))


def _broken(case: str) -> tuple[bytes, int | None, str]:
    """(file content, line the refusal must name, text the message must contain)."""
    lines = example_lines()

    def edit(ref: str, column: str, value: str) -> tuple[list[str], int]:
        n = _row_line(ref)
        out = list(lines)
        out[n - 1] = _replace_field(out[n - 1], column, value)
        return out, n

    def text(out: list[str]) -> bytes:
        return ("\n".join(out) + "\n").encode("utf-8")

    if case == "missing column":
        header = lines[0].split(",")
        i = header.index("npu")
        out = [",".join(f for j, f in enumerate(ln.split(",")) if j != i) for ln in lines]
        return text(out), 1, "'npu'"
    if case == "bad date":
        out, n = edit("CH/24/000113", "recorded_date", "2024-02-30")
        return text(out), n, "unparsable recorded_date '2024-02-30'"
    if case == "slashed date":
        out, n = edit("CH/24/000104", "recorded_date", "05/01/2024")
        return text(out), n, "recorded_date"
    if case == "detection before recording":
        out, n = edit("CH/24/000117", "detection_date", "2024-02-19")
        return text(out), n, "before recorded_date"
    if case == "unknown offence group":
        out, n = edit("CH/24/000109", "offence_group", "Theft of a Ming vase")
        return text(out), n, "unknown offence_group"
    if case == "ASB":
        out, n = edit("CH/24/000106", "offence_group", "Anti-social behaviour")
        return text(out), n, "anti-social behaviour"
    if case == "unknown detection type":
        out, n = edit("CH/24/000102", "detection_type", "words of advice")
        return text(out), n, "unknown detection_type"
    if case == "blank npu":
        out, n = edit("CH/24/000120", "npu", "")
        return text(out), n, "blank npu"
    if case == "duplicate crime_ref":
        first = _row_line("CH/24/000104")
        out, n = edit("CH/24/000115", "crime_ref", "CH/24/000104")
        return text(out), n, f"repeats line {first}"
    if case == "truncated row":
        n = _row_line("CH/24/000111")
        out = list(lines)
        out[n - 1] = out[n - 1][:35]
        return text(out), n, "field(s)"
    if case == "truncated file":
        n = _row_line("CH/24/000122")
        out = list(lines)
        out[n - 1] = out[n - 1][:40]
        return "\n".join(out).encode("utf-8"), n, "field(s)"
    if case == "multi-line value shifts lines":
        # a quoted value holding a newline: the bad row's physical line is one further down
        out = list(lines)
        k = _row_line("CH/24/000103")
        out[k - 1] = out[k - 1].replace("Warrington CID", '"Warrington\nCID"')
        out, n = [*out], _row_line("CH/24/000110")
        out[n - 1] = _replace_field(out[n - 1], "offence_group", "Nonsense")
        return text(out), n + 1, "unknown offence_group"
    if case == "non-UTF-8 byte":
        n = _row_line("CH/24/000107")
        data = text(lines).replace(b"Chester CID,DC 4510", b"Chester CID,DC 4510\xe9", 1)
        return data, n, "not UTF-8"
    if case == "zero-byte file":
        return b"", None, "empty file"
    if case == "header only":
        return text(lines[:1]), None, "header only"
    raise AssertionError(case)


CASES = ["missing column", "bad date", "slashed date", "detection before recording",
         "unknown offence group", "ASB", "unknown detection type", "blank npu",
         "duplicate crime_ref", "truncated row", "truncated file",
         "multi-line value shifts lines", "non-UTF-8 byte", "zero-byte file", "header only"]


@pytest.mark.parametrize("case", CASES)
def test_refused_with_line_and_warehouse_unchanged(case: str, loaded: Path, tmp_path: Path) -> None:
    data, line, words = _broken(case)
    path = tmp_path / "broken.csv"
    path.write_bytes(data)
    before = snapshot(loaded)
    cube_before = month_cube(loaded)
    report = load_crimes(loaded, str(path))
    assert not report.committed
    assert report.exit_code == 1
    assert report.loaded == []
    [refusal] = report.refused
    assert refusal.file == str(path)
    assert refusal.line == line, str(refusal)
    assert words.lower() in refusal.problem.lower(), str(refusal)
    if line is not None:
        assert f"line {line}:" in str(refusal)
    assert snapshot(loaded) == before
    assert month_cube(loaded) == cube_before


def test_refused_into_an_empty_warehouse_builds_nothing(tmp_path: Path) -> None:
    link = tmp_path / "warehouse.duckdb"
    data, line, _ = _broken("bad date")
    path = tmp_path / "broken.csv"
    path.write_bytes(data)
    report = load_crimes(link, str(path))
    assert report.refused and report.refused[0].line == line
    assert WarehousePaths(link).live() is None
    assert WarehousePaths(link).versions() == {}


def test_missing_file_is_refused(tmp_path: Path) -> None:
    report = load_crimes(tmp_path / "wh.duckdb", str(tmp_path / "nope.csv"))
    assert report.exit_code == 1
    assert "no such file" in str(report.refused[0])


# --------------------------------------------------------------------------- --query


def _sqlite(path: Path, rows: list[dict[str, str]]) -> str:
    columns = list(rows[0])
    con = sqlite3.connect(path)
    try:
        con.execute(
            "CREATE TABLE crimes (" + ", ".join(
                f"{c} {'REAL' if c in ('longitude', 'latitude') else 'TEXT'}" for c in columns)
            + ")")
        con.executemany(
            f"INSERT INTO crimes VALUES ({', '.join('?' for _ in columns)})",
            [[(float(r[c]) if c in ("longitude", "latitude") else r[c]) if r[c] != "" else None
              for c in columns] for r in rows],
        )
        con.commit()
    finally:
        con.close()
    return f"sqlite:///{path}"


def test_query_loads_the_same_counts(tmp_path: Path) -> None:
    url = _sqlite(tmp_path / "force.db", example_rows())
    link = tmp_path / "wh" / "warehouse.duckdb"
    report = load_crimes(link, url, query="SELECT * FROM crimes ORDER BY crime_ref")
    assert report.refused == [], [str(r) for r in report.refused]
    assert report.loaded == [(url, len(example_rows()))]
    assert month_cube(link) == expected_month_cube()
    assert day_cube(link) == expected_day_cube()
    months = Counter(date.fromisoformat(r["recorded_date"]).replace(day=1) for r in example_rows())
    assert dict(query(link, "SELECT month, crimes FROM month_status WHERE source = 'force'")) \
        == dict(months)
    officers = {r[0] for r in query(link, "SELECT unit_id FROM dim_unit WHERE level = 'officer'")}
    assert officers == {unit_ids(r)["officer"] for r in example_rows() if r["officer"]}


def test_query_refusal_names_the_result_row(tmp_path: Path) -> None:
    rows = example_rows()
    rows[6]["detection_type"] = "a stern look"
    url = _sqlite(tmp_path / "force.db", rows)
    link = tmp_path / "wh" / "warehouse.duckdb"
    report = load_crimes(link, url, query="SELECT * FROM crimes ORDER BY crime_ref")
    [refusal] = report.refused
    assert refusal.line == 8  # result row 7 -> line 8, as if the result had a header
    assert "unknown detection_type" in refusal.problem
    assert WarehousePaths(link).live() is None


def test_query_missing_column_and_bad_sql(tmp_path: Path) -> None:
    url = _sqlite(tmp_path / "force.db", example_rows())
    link = tmp_path / "wh" / "warehouse.duckdb"
    report = load_crimes(link, url, query="SELECT crime_ref, recorded_date FROM crimes")
    assert "offence_group" in str(report.refused[0])
    report = load_crimes(link, url, query="SELECT * FROM no_such_table")
    assert "query failed" in str(report.refused[0])
    report = load_crimes(link, url, query="SELECT * FROM crimes WHERE 1 = 0")
    assert "no rows" in str(report.refused[0])
    assert WarehousePaths(link).live() is None


def test_passwords_never_reach_messages(tmp_path: Path) -> None:
    url = "postgresql://reader:s3cret-pw@127.0.0.1:1/crimes"
    assert "s3cret-pw" not in mask_url(url) and "***" in mask_url(url)
    report = load_crimes(tmp_path / "wh.duckdb", url, query="SELECT 1")
    assert report.refused
    assert "s3cret-pw" not in str(report.refused[0])
    assert report.refused[0].file == mask_url(url)


# --------------------------------------------------------------------------- CLI


def test_cli_exit_codes(tmp_path: Path) -> None:
    runner = CliRunner()
    link = tmp_path / "warehouse.duckdb"
    ok = runner.invoke(app, ["load", "crimes", str(EXAMPLE), "--warehouse", str(link)])
    assert ok.exit_code == 0, ok.output
    assert WarehousePaths(link).live() is not None

    data, _, _ = _broken("duplicate crime_ref")
    bad = tmp_path / "bad.csv"
    bad.write_bytes(data)
    before = snapshot(link)
    refused = runner.invoke(app, ["load", "crimes", str(bad), "--warehouse", str(link)])
    assert refused.exit_code == 1, refused.output
    assert snapshot(link) == before

    usage = runner.invoke(app, ["load", "crimes", "--warehouse", str(link)])
    assert usage.exit_code == 2
