"""etl.sources.police_uk.stop_search: parse() against counts taken independently with the csv module,
every kind of bad row refused whole (naming file and line), a good file loading beside a bad
one, the measures' SQL on the parsed rows, and the demo generator round-tripping through a
police.uk-format file."""

from __future__ import annotations

import csv
import shutil
from datetime import date
from pathlib import Path

import duckdb
import pytest

from etl.errors import InputRefused
from etl.sources.police_uk import stop_search as ss

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "docs" / "examples" / "2019-01-cheshire-stop-and-search.csv"
BAD_EXAMPLE = REPO / "docs" / "examples" / "bad" / "2019-02-cheshire-stop-and-search.csv"
JAN, FEB = date(2019, 1, 1), date(2019, 2, 1)


def _read(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with open(path, encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        return list(reader.fieldnames or []), list(reader)


def _write(path: Path, header: list[str], rows: list[dict[str, str]]) -> Path:
    with open(path, "w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, header, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return path


def _group(row: dict[str, str]) -> str | None:
    """Independent of the module: the census group is the first word of the 2011 wording
    ('Black/African/...' -> Black), 'Not stated' is no group, then officer-defined."""
    sd = row["Self-defined ethnicity"].strip()
    if sd and sd != "Other ethnic group - Not stated":
        return sd.replace("/", " ").split()[0]
    return row["Officer-defined ethnicity"].strip() or None


@pytest.fixture
def con() -> duckdb.DuckDBPyConnection:
    c = duckdb.connect()
    yield c
    c.close()


def _parse(con, *files: tuple[Path, date]) -> tuple[str | None, list[InputRefused]]:
    return ss.parse(con, [(p, f"in/{p.name}", "cheshire", m) for p, m in files])


# ------------------------------------------------------------------ the example file


def test_example_counts_match_an_independent_count(con) -> None:
    header, rows = _read(EXAMPLE)
    assert header == ss.HEADER
    table, refused = _parse(con, (EXAMPLE, JAN))
    assert refused == [] and table == "stg_stop_search"
    cols = [r[0] for r in con.execute(f"DESCRIBE {table}").fetchall()]
    assert cols == [*ss.COLUMNS, "_file"]
    types = dict(con.execute(f"SELECT column_name, column_type FROM (DESCRIBE {table})").fetchall())
    assert {c: types[c] for c in ss.COLUMNS} == ss.COLUMNS

    n, arrests, linked, linked_known = con.execute(
        f"SELECT count(*), count(*) FILTER (WHERE arrest), count(*) FILTER (WHERE outcome_linked), "
        f"count(outcome_linked) FROM {table}").fetchone()
    assert n == len(rows) == 31
    assert arrests == sum(r["Outcome"] in ("Arrest", "Suspect arrested") for r in rows) == 8
    assert linked == sum(r["Outcome linked to object of search"] == "True" for r in rows)
    assert linked_known == sum(r["Outcome linked to object of search"] != "" for r in rows)

    by_group = dict(con.execute(
        f"SELECT coalesce(ethnic_group, '-'), count(*) FROM {table} GROUP BY ALL").fetchall())
    expected: dict[str, int] = {}
    for r in rows:
        g = _group(r) or "-"
        expected[g] = expected.get(g, 0) + 1
    assert by_group == expected
    assert by_group == {"White": 14, "Black": 5, "Asian": 4, "Mixed": 2, "Other": 1, "-": 5}

    # Row-level: the line numbers, the types, the offset dropped, blanks as NULL.
    got = con.execute(f"SELECT * EXCLUDE (_file) FROM {table} ORDER BY line").fetchall()
    assert [g[-1] for g in got] == list(range(2, 33))
    first = dict(zip(ss.COLUMNS, got[0], strict=True))
    assert first["force_id"] == "cheshire" and first["month"] == JAN
    assert str(first["searched_at"]) == "2019-01-01 00:45:00" and first["date"] == JAN
    assert first["latitude"] == 53.388962 and first["longitude"] == -2.593547
    assert first["part_of_operation"] is False and first["operation"] is None
    vehicle = dict(zip(ss.COLUMNS, got[3], strict=True))
    assert vehicle["type"] == "Vehicle search" and vehicle["gender"] is None
    assert vehicle["ethnic_group"] is None and vehicle["removal_outer"] is None
    op = dict(zip(ss.COLUMNS, got[6], strict=True))
    assert op["part_of_operation"] is True and op["operation"] == "Operation Hawk, Crewe"
    # Mixed White and Black Caribbean, seen by the officer as Black: Mixed (self-defined wins)
    assert op["self_defined_ethnicity"].startswith("Mixed") and op["ethnic_group"] == "Mixed"
    # 'Not stated' falls back to the officer's view
    not_stated = dict(zip(ss.COLUMNS, got[7], strict=True))
    assert not_stated["officer_defined_ethnicity"] == "Black" and not_stated["ethnic_group"] == "Black"


def test_measures_sql_on_the_example(con) -> None:
    header, rows = _read(EXAMPLE)
    table, _ = _parse(con, (EXAMPLE, JAN))
    m = {x.id: x for x in ss.measures()}
    assert set(m) == {"stop_search_searches", "stop_search_per_1000", "stop_search_arrest_rate",
                      "stop_search_find_rate", "stop_search_rr_black_white",
                      "stop_search_rr_asian_white"}
    assert {x.dataset for x in m.values()} == {"stop_search"}
    assert {x.domain for x in m.values()} == {"Stop and search"}
    assert m["stop_search_searches"].kind == "count"
    assert m["stop_search_per_1000"].kind == "rate_per_population"
    assert m["stop_search_per_1000"].den_sql is None
    assert m["stop_search_rr_black_white"].kind == "rate_ratio"
    assert m["stop_search_rr_black_white"].den_sql is None
    assert m["stop_search_rr_black_white"].den2_sql is None

    def value(sql: str | None):
        return None if sql is None else con.execute(f"SELECT {sql} FROM {table}").fetchone()[0]

    outcomes = [r["Outcome"] for r in rows]
    linked = [r["Outcome linked to object of search"] for r in rows]
    expected = {
        "stop_search_searches": (31, None, None),
        "stop_search_per_1000": (31, None, None),
        "stop_search_arrest_rate": (sum(o in ("Arrest", "Suspect arrested") for o in outcomes),
                                    sum(o != "" for o in outcomes), None),
        "stop_search_find_rate": (linked.count("True"), linked.count("True") + linked.count("False"),
                                  None),
        "stop_search_rr_black_white": (sum(_group(r) == "Black" for r in rows), None,
                                       sum(_group(r) == "White" for r in rows)),
        "stop_search_rr_asian_white": (sum(_group(r) == "Asian" for r in rows), None,
                                       sum(_group(r) == "White" for r in rows)),
    }
    for mid, (num, den, num2) in expected.items():
        assert (value(m[mid].num_sql), value(m[mid].den_sql), value(m[mid].num2_sql)) == (
            num, den, num2), mid


# ------------------------------------------------------------------ bad rows

# (data row index, column, bad value, words the message must contain); line = index + 2
BAD_ROWS = [
    (4, "Date", "", "blank Date"),
    (4, "Date", "3 January 2019", "is not an ISO date and time"),
    (4, "Date", "2019-01-32T10:00:00+00:00", "is not an ISO date and time"),
    (4, "Date", "2019-02-01T00:00:00+00:00", "is not in 2019-01, the month in the file name"),
    (9, "Latitude", "53,4", "Latitude '53,4' is not a number"),
    (9, "Latitude", "95.2", "Latitude '95.2' is not a number between -90 and 90"),
    (9, "Longitude", "NaN", "Longitude 'NaN' is not a number between -180 and 180"),
    (9, "Longitude", "", "must both be given or both be blank"),
    (12, "Part of a policing operation", "Yes", "'Yes' is not True, False or blank"),
    (12, "Outcome linked to object of search", "1", "'1' is not True, False or blank"),
    (12, "Removal of more than just outer clothing", "N", "'N' is not True, False or blank"),
    (20, "Type", "Foot search", "unknown Type 'Foot search'"),
    (20, "Type", "", "blank Type"),
    (25, "Officer-defined ethnicity", "Chinese", "unknown Officer-defined ethnicity 'Chinese'"),
]


@pytest.mark.parametrize(("index", "column", "value", "words"), BAD_ROWS)
def test_each_kind_of_bad_row_refuses_the_file_naming_its_line(
        con, tmp_path: Path, index: int, column: str, value: str, words: str) -> None:
    header, rows = _read(EXAMPLE)
    rows[index][column] = value
    rows[index + 3]["Type"] = "Another bad type"   # a later problem: the first one is named
    bad = _write(tmp_path / EXAMPLE.name, header, rows)
    table, refused = _parse(con, (bad, JAN))
    assert table is None
    assert len(refused) == 1
    assert refused[0].file == f"in/{bad.name}"
    assert refused[0].line == index + 2
    assert words in refused[0].problem
    assert str(refused[0]).startswith(f"in/{bad.name}, line {index + 2}: ")


def test_good_file_beside_bad_ones_still_loads(con, tmp_path: Path) -> None:
    header, rows = _read(EXAMPLE)
    good_dir, bad_dir = tmp_path / "good", tmp_path / "bad"
    good_dir.mkdir()
    bad_dir.mkdir()
    good = shutil.copy(EXAMPLE, good_dir / EXAMPLE.name)
    rows[7]["Type"] = "Foot search"
    bad_type = _write(bad_dir / "2019-01-cheshire-stop-and-search.csv", header, rows)
    table, refused = _parse(con, (Path(good), JAN), (BAD_EXAMPLE, FEB), (bad_type, JAN))
    assert table == "stg_stop_search"
    assert sorted((r.file, r.line) for r in refused) == sorted(
        [(f"in/{BAD_EXAMPLE.name}", 6), (f"in/{bad_type.name}", 9)])
    assert next(r for r in refused if r.file.endswith("2019-02-cheshire-stop-and-search.csv")).problem \
        == "Date '2019-01-31T23:40:00+00:00' is not in 2019-02, the month in the file name"
    files = con.execute(f"SELECT DISTINCT _file FROM {table}").fetchall()
    assert files == [(str(good),)]
    assert con.execute(f"SELECT count(*) FROM {table}").fetchone()[0] == 31


def test_file_level_problems(con, tmp_path: Path) -> None:
    header, rows = _read(EXAMPLE)
    empty = tmp_path / "a" / EXAMPLE.name
    empty.parent.mkdir()
    empty.write_bytes(b"")
    header_only = _write(tmp_path / "b.csv", header, [])
    street = tmp_path / "2019-01-cheshire-street.csv"
    street.write_text("Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,"
                      "LSOA code,LSOA name,Crime type,Last outcome category,Context\n")
    missing = _write(tmp_path / "c.csv", header[:-1], [{k: r[k] for k in header[:-1]} for r in rows])
    ragged = tmp_path / "d.csv"
    text = EXAMPLE.read_text(encoding="utf-8").splitlines()
    text[5] += ",extra"
    ragged.write_text("\n".join(text) + "\n", encoding="utf-8")
    table, refused = _parse(con, *((p, JAN) for p in (empty, header_only, street, missing, ragged)))
    assert table is None
    got = {Path(r.file).name: (r.line, r.problem) for r in refused}
    assert got[empty.name] == (None, "empty file (0 bytes)")
    assert got["b.csv"] == (None, "no data rows: the file holds a header only")
    assert got[street.name] == (1, "this is a data.police.uk street file, not a stop-and-search file")
    assert got["c.csv"][0] == 1
    assert "missing column(s): 'Removal of more than just outer clothing'" in got["c.csv"][1]
    assert got["d.csv"][0] == 6 and "16 fields, expected 15" in got["d.csv"][1]


def test_line_numbers_are_physical_lines(con, tmp_path: Path) -> None:
    """A blank line (which DuckDB skips) and a value spanning two lines shift the rows after
    them: messages and the staged `line` name the line an editor shows."""
    lines = EXAMPLE.read_text(encoding="utf-8").splitlines()
    lines[3] = lines[3] + "\n"  # blank line after line 4
    lines[7] = lines[7].replace('"Operation Hawk, Crewe"', '"Operation Hawk,\nCrewe"')
    shifted = tmp_path / "good" / EXAMPLE.name
    shifted.parent.mkdir()
    shifted.write_text("\n".join(lines) + "\n", encoding="utf-8")
    table, refused = _parse(con, (shifted, JAN))
    assert refused == []
    got = con.execute(f"SELECT line, operation FROM {table} ORDER BY line").fetchall()
    # data rows 1..3 on lines 2..4; a blank line 5; row 4 on line 6; row 7 spans lines 9-10
    assert [g[0] for g in got[:8]] == [2, 3, 4, 6, 7, 8, 9, 11]
    assert got[6][1] == "Operation Hawk,\nCrewe"
    assert got[-1][0] == 34
    # and a bad value after them is named at its physical line
    lines[20] = lines[20].replace("Person search", "Foot search", 1)
    bad = tmp_path / EXAMPLE.name
    bad.write_text("\n".join(lines) + "\n", encoding="utf-8")
    _, refused = _parse(con, (bad, JAN))
    assert [(r.line, r.problem.split(" (")[0]) for r in refused] == [(23, "unknown Type 'Foot search'")]


def test_a_utf8_bom_is_allowed_and_other_bytes_are_refused(con, tmp_path: Path) -> None:
    data = EXAMPLE.read_bytes()
    bom = tmp_path / "a" / EXAMPLE.name
    bom.parent.mkdir()
    bom.write_bytes(b"\xef\xbb\xbf" + data)
    latin = tmp_path / EXAMPLE.name
    latin.write_bytes(data.replace(b"White - Irish", b"White - \xc9ire"))
    table, refused = _parse(con, (bom, JAN), (latin, JAN))
    assert con.execute(f"SELECT count(*) FROM {table}").fetchone()[0] == 31
    assert [(r.file, r.line, r.problem.split(":")[0]) for r in refused] == [
        (f"in/{latin.name}", 11, "not UTF-8 text")]


# ------------------------------------------------------------------ the demo


MONTHS = [date(2019, m, 1) for m in range(1, 13)]


def test_demo_is_deterministic_and_plausible() -> None:
    a = ss.generate_demo(11, MONTHS)
    b = ss.generate_demo(11, MONTHS)
    assert a.equals(b)
    assert not a.equals(ss.generate_demo(12, MONTHS))
    assert list(a.columns) == list(ss.COLUMNS)
    per_month = a.groupby("month").size()
    assert len(per_month) == 12 and per_month.between(500, 800).all()
    assert (a["object_of_search"] == "Controlled drugs").mean() > 0.5
    outcomes = a["outcome"].value_counts(normalize=True)
    assert 0.65 < outcomes["A no further action disposal"] < 0.75
    assert 0.12 < outcomes["Arrest"] < 0.18
    # rate ratios against Cheshire's 2011 populations: about 3 and 1.5
    groups = a["ethnic_group"].value_counts()
    white = groups["White"] / 995_998
    assert 2.0 < (groups["Black"] / 3_264) / white < 4.0
    assert 1.1 < (groups["Asian"] / 16_011) / white < 2.0


def test_demo_written_as_police_uk_files_parses_back_identically(con, tmp_path: Path) -> None:
    demo = ss.generate_demo(5, MONTHS[:3], force_id="cheshire")
    files = []
    for month, rows in demo.groupby("month"):
        path = tmp_path / ss.file_name("cheshire", month)
        ss.write_police_uk_csv(rows, path)
        files.append((path, str(path), "cheshire", month))
    header, first_rows = _read(files[0][0])
    assert header == ss.HEADER and len(first_rows) == (demo["month"] == MONTHS[0]).sum()
    table, refused = ss.parse(con, files)
    assert refused == []
    con.register("demo_frame", demo)
    cast = ", ".join(f'CAST("{c}" AS {t}) AS "{c}"' for c, t in ss.COLUMNS.items())
    con.execute(f"CREATE TEMP TABLE demo AS SELECT {cast} FROM demo_frame")
    cols = ", ".join(f'"{c}"' for c in ss.COLUMNS)
    assert con.execute(f"SELECT count(*) FROM {table}").fetchone()[0] == len(demo)
    for a, b in (("demo", table), (table, "demo")):
        diff = con.execute(f"SELECT count(*) FROM (SELECT {cols} FROM {a} EXCEPT ALL "
                           f"SELECT {cols} FROM {b})").fetchone()[0]
        assert diff == 0
