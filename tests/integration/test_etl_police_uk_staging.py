"""The police.uk reader's cheaper passes (issue 11 item 1) refuse and drop exactly what the
old ones did: a repeated Crime ID is found inside a force's month only (trimmed, ASB rows
apart), whatever the batch; a byte that is not UTF-8 deep inside a file is refused with the
full scan's words (line and column) though the precheck no longer decodes the file, and the
batch's other files load."""

from __future__ import annotations

import csv
import io
from datetime import date
from pathlib import Path

import duckdb
import pytest

from etl.lake.ingest import load_police_uk
from etl.sources.police_uk import reader
from etl.sources.police_uk.reader import STREET_HEADER

CHESHIRE, MERSEYSIDE = "Cheshire Constabulary", "Merseyside Police"
ASB = "Anti-social behaviour"


def _file(folder: Path, name: str, falls: str, month: str, rows: list[tuple[str, str]]) -> Path:
    """A street file of (Crime ID, Crime type) rows; line n + 2 holds rows[n]."""
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(STREET_HEADER)
    for crime_id, kind in rows:
        w.writerow([crime_id, month, falls, falls, "-2.59", "53.39", "On or near High St",
                    "E01012516", "Warrington 001A", kind, "Under investigation", ""])
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(out.getvalue(), encoding="utf-8")
    return path


@pytest.mark.parametrize("batch_rows", [None, 1])
def test_repeated_crime_ids_are_found_within_a_force_month_only(tmp_path: Path,
                                                                batch_rows: int | None) -> None:
    jan = _file(tmp_path, "2019-01-cheshire-street.csv", CHESHIRE, "2019-01", [
        ("A", "Burglary"),            # line 2: the first A of Cheshire's January, kept
        (" A ", "Burglary"),          # line 3: the same ID once trimmed: repeated
        ("B", ASB), ("B", ASB),       # lines 4-5: ASB rows are never repeats
        ("C", "Burglary"),            # line 6
        ("", "Burglary"), ("  ", "Burglary"),  # lines 7-8: no ID, never repeats
        ("A", "Shoplifting"),         # line 9: A again, another category: repeated
    ])
    mers = _file(tmp_path, "2019-01-merseyside-street.csv", MERSEYSIDE, "2019-01",
                 [("A", "Burglary"), ("C", "Burglary")])          # another force: not repeats
    feb = _file(tmp_path, "2019-02-cheshire-street.csv", CHESHIRE, "2019-02",
                [("A", "Burglary"), ("A", "Burglary")])            # another month: line 3 only
    items = [reader.InputFile(str(p), p) for p in (jan, mers, feb)]
    result = reader.ParseResult()
    con = duckdb.connect()
    try:
        reader.parse(con, items, result, batch_rows)
        staged = con.execute("SELECT force_id, month, count(*) FROM stg_crime GROUP BY ALL "
                             "ORDER BY ALL").fetchall()
    finally:
        con.close()
    assert not result.refused
    assert sorted(result.duplicates) == [
        (str(jan), "cheshire", date(2019, 1, 1), 3, "A"),
        (str(jan), "cheshire", date(2019, 1, 1), 9, "A"),
        (str(feb), "cheshire", date(2019, 2, 1), 3, "A"),
    ]
    assert staged == [("cheshire", date(2019, 1, 1), 6), ("cheshire", date(2019, 2, 1), 1),
                      ("merseyside", date(2019, 1, 1), 2)]


def test_a_byte_that_is_not_utf8_deep_in_a_file_is_refused_with_its_line(tmp_path: Path) -> None:
    rows = [(f"id{i}", "Burglary") for i in range(3000)]
    good = _file(tmp_path / "in", "2019-01-merseyside-street.csv", MERSEYSIDE, "2019-01", rows)
    bad = _file(tmp_path / "in", "2019-01-cheshire-street.csv", CHESHIRE, "2019-01", rows)
    lines = bad.read_bytes().split(b"\n")
    lines[2500] = lines[2500].replace(b"High St", b"High \xe9St")  # latin-1 'e acute'
    bad.write_bytes(b"\n".join(lines))
    column = lines[2500].index(b"\xe9") + 1
    report = load_police_uk(tmp_path / "w" / "warehouse.duckdb", [good, bad])
    [refusal] = report.refused
    assert refusal.file == str(bad) and refusal.line == 2501
    assert refusal.problem.startswith(f"not UTF-8 text: byte 0xe9 at column {column} ")
    assert report.loaded == [(str(good), 3000)] and report.committed


def _rows(n: int, **changes: dict[str, str]) -> list[dict[str, str]]:
    """n good rows; `changes` maps a line ('3') to the cells that line holds instead."""
    out = [{"Crime type": "Burglary"} for _ in range(n)]
    for line, cells in changes.items():
        out[int(line) - 2].update(cells)
    return out


def _street(folder: Path, name: str, falls: str, month: str, rows: list[dict[str, str]]) -> Path:
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(STREET_HEADER)
    for i, cells in enumerate(rows):
        row = {"Crime ID": f"{name}{i}", "Month": month, "Reported by": falls,
               "Falls within": falls, "Longitude": "-2.59", "Latitude": "53.39",
               "Location": "On or near High St", "LSOA code": "E01012516",
               "LSOA name": "Warrington 001A", "Last outcome category": "Under investigation",
               "Context": "", **cells}
        w.writerow([row[c] for c in STREET_HEADER])
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(out.getvalue(), encoding="utf-8")
    return path


def test_each_bad_file_of_a_batch_is_refused_for_its_first_failing_check(tmp_path: Path) -> None:
    """One batch, one scan of its rows for every check: each file is named with the first
    check it fails (in the order the checks are listed), that check's first failing line and
    the value on it; the good file loads and the bad files' rows are gone."""
    folder = tmp_path / "in"
    files = {
        # a bad Month on line 4 and a bad Longitude on line 3: the Month check comes first
        "month": _street(folder, "2019-01-cheshire-street.csv", CHESHIRE, "2019-01",
                         _rows(6, **{"4": {"Month": "2019-1"}, "3": {"Longitude": "east"},
                                     "6": {"Month": "Jan"}})),
        "longitude": _street(folder, "2019-01-merseyside-street.csv", MERSEYSIDE, "2019-01",
                             _rows(6, **{"5": {"Longitude": "x1"}, "7": {"Longitude": "x2"}})),
        "name month": _street(folder, "2019-02-cheshire-street.csv", CHESHIRE, "2019-02",
                              _rows(3, **{"3": {"Month": "2019-01"}})),
        "other force": _street(folder, "2019-01-lancashire-street.csv", "Lancashire Constabulary",
                               "2019-01", _rows(3, **{"4": {"Falls within": CHESHIRE}})),
        "crime type": _street(folder, "2019-01-kent-street.csv", "Kent Police", "2019-01",
                              _rows(5, **{"6": {"Crime type": "Burgling"}})),
        "blank force": _street(folder, "2019-01-essex-street.csv", "Essex Police", "2019-01",
                               _rows(3, **{"2": {"Falls within": " "}, "3": {"Crime type": "?"}})),
    }
    good = _street(folder, "2019-01-durham-street.csv", "Durham Constabulary", "2019-01", _rows(4))
    items = [reader.InputFile(str(p), p) for p in [*files.values(), good]]
    result = reader.ParseResult()
    con = duckdb.connect()
    try:
        reader.parse(con, items, result, None)
        staged = con.execute("SELECT _file, count(*) FROM stg_crime GROUP BY ALL").fetchall()
    finally:
        con.close()
    got = {r.file: (r.line, r.problem) for r in result.refused}
    assert got == {
        str(files["month"]): (4, "unparsable Month '2019-1' (expected YYYY-MM)"),
        str(files["longitude"]): (5, "Longitude 'x1' is not a number"),
        str(files["name month"]): (3, "Month '2019-01' disagrees with the file name's month"),
        str(files["other force"]): (4, "'Falls within' is 'Cheshire Constabulary', but the file "
                                    "name names force 'lancashire': the file holds another "
                                    "force's rows"),
        str(files["crime type"]): (6, "unknown Crime type 'Burgling'"),
        str(files["blank force"]): (2, "blank 'Falls within' (the force is unknown)"),
    }
    assert staged == [(items[-1].key, 4)]  # the staged rows name their file by its key
    assert [i.origin for i in result.accepted] == [str(good)]


def test_the_lake_writes_never_raise_the_loads_memory_bound(tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """A load mostly spilled lowers its staging connection while the lake is written (512 MB)
    and after (256 MB), but never above the bound LG_LOAD_MEMORY_MB set (here 64 MB)."""
    from etl.lake import commit

    monkeypatch.setenv("LG_LOAD_MEMORY_MB", "64")
    monkeypatch.setattr(commit, "_mostly_spilled", lambda con: True)  # as a load of years
    seen: list[str] = []
    real = commit._write_partitions

    def spy(con, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003 - passes through
        seen.append(con.execute("SELECT current_setting('memory_limit')").fetchall()[0][0])
        return real(con, *args, **kwargs)

    monkeypatch.setattr(commit, "_write_partitions", spy)
    path = _street(tmp_path / "in", "2019-01-durham-street.csv", "Durham Constabulary", "2019-01",
                   _rows(50))
    report = load_police_uk(tmp_path / "w" / "warehouse.duckdb", [path])
    assert report.committed and seen
    assert all(float(v.split()[0]) <= 64 and v.split()[1] in ("MiB", "KiB") for v in seen), seen
