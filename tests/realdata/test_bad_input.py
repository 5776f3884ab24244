"""Malformed data.police.uk files are refused whole, by file, with line and problem, and
nothing of them reaches the warehouse; good files in the same command still load."""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path

import pytest

from etl.lake.ingest import load_police_uk
from etl.lake.warehouse import WarehousePaths, connect_readonly

GOOD_NAME = "2019-01-cheshire-street.csv"


@pytest.fixture
def good(shared_data: Path) -> Path:
    return shared_data / "police_uk_street" / "geoinformation_in_society" / "2019-01" / GOOD_NAME


def _lines(good: Path) -> list[str]:
    return good.read_text(encoding="utf-8").splitlines(keepends=True)


def _write(folder: Path, name: str, body: str | bytes) -> Path:
    p = folder / name
    if isinstance(body, bytes):
        p.write_bytes(body)
    else:
        p.write_text(body, encoding="utf-8")
    return p


def _set_field(line: str, index: int, value: str) -> str:
    fields = next(csv.reader([line]))
    fields[index] = value
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow(fields)
    return out.getvalue()


def make_corpus(good: Path, folder: Path) -> dict[str, tuple[Path, int | None, str]]:
    """name -> (file, expected line or None, a phrase the message must contain)."""
    lines = _lines(good)
    header, rows = lines[0], lines[1:200]
    corpus: dict[str, tuple[Path, int | None, str]] = {}

    def add(key: str, name: str, body: str | bytes, line: int | None, phrase: str) -> None:
        corpus[key] = (_write(folder, name, body), line, phrase)

    add("wrong_columns", "2018-01-cheshire-street.csv",
        header.replace("Crime type", "Offence"), 1, "missing column(s): 'Crime type'")
    add("missing_column", "2018-02-cheshire-street.csv",
        "".join(",".join(x.rstrip("\n").split(",")[:-1]) + "\n" for x in [header, *rows]),
        1, "missing column(s): 'Context'")
    bad_month = rows[:50] + [rows[50].replace("2019-01", "Jan 2019", 1)] + rows[51:]
    add("unparsable_month", "2018-03-cheshire-street.csv",
        header + "".join(r.replace("2019-01", "2018-03", 1) for r in bad_month[:50])
        + "".join(bad_month[50:]).replace("2019-01", "2018-03"),
        52, "unparsable Month 'Jan 2019'")
    add("month_disagrees", "2018-04-cheshire-street.csv", header + "".join(rows), 2,
        "Month '2019-01' disagrees with the file name")
    body = (header + "".join(rows)).encode("utf-8")
    cut = body.index(b"\n", body.index(b"\n", len(header) + 1000) + 1) + 5
    add("non_utf8", GOOD_NAME.replace("2019-01", "2018-05").replace("01-", "05-", 1),
        (body[:cut] + b"\xff\xfe" + body[cut:]).replace(b"2019-01", b"2018-05"),
        body[:cut].count(b"\n") + 1, "not UTF-8")
    truncated = [r.replace("2019-01", "2018-06") for r in rows]
    truncated[99] = ",".join(truncated[99].split(",")[:5]) + "\n"
    add("truncated_row", "2018-06-cheshire-street.csv", header + "".join(truncated), 101,
        "row has 5 fields, expected 12")
    add("empty_header_only", "2018-07-cheshire-street.csv", header, None, "no data rows")
    add("zero_bytes", "2018-08-cheshire-street.csv", b"", None, "empty file (0 bytes)")
    empty_zip = folder / "no-csvs.zip"
    with zipfile.ZipFile(empty_zip, "w") as z:
        z.writestr("readme.txt", "nothing here")
    corpus["zip_without_csv"] = (empty_zip, None, "zip archive holds no .csv files")
    bad_number = [r.replace("2019-01", "2018-09") for r in rows]
    bad_number[9] = _set_field(bad_number[9], 4, "west")
    add("bad_longitude", "2018-09-cheshire-street.csv", header + "".join(bad_number), 11,
        "Longitude 'west' is not a number")
    bad_type = [r.replace("2019-01", "2017-01") for r in rows]
    bad_type[3] = _set_field(bad_type[3], 9, "Mischief")
    add("unknown_crime_type", "2017-01-cheshire-street.csv", header + "".join(bad_type), 5,
        "unknown Crime type 'Mischief'")
    return corpus


def _state(link: Path) -> tuple:
    live = WarehousePaths(link).live()
    if live is None:
        return (None,)
    con = connect_readonly(link)
    try:
        return (live.name,
                con.execute("SELECT * FROM month_status ORDER BY ALL").fetchall(),
                con.execute("SELECT count(*) FROM lake_manifest").fetchone()[0],
                con.execute("SELECT sum(n) FROM cube_crime_month").fetchone()[0])
    finally:
        con.close()


def test_each_malformed_file_is_refused_with_file_line_and_problem(good: Path,
                                                                   tmp_path: Path) -> None:
    bad = tmp_path / "bad"
    bad.mkdir()
    corpus = make_corpus(good, bad)
    link = tmp_path / "wh" / "warehouse.duckdb"
    report = load_police_uk(link, [good, *[p for p, _, _ in corpus.values()]])
    messages = {r.file: r for r in report.refused}
    for key, (path, line, phrase) in corpus.items():
        assert str(path) in messages, f"{key} was not refused"
        refusal = messages[str(path)]
        assert phrase in refusal.problem, (key, str(refusal))
        assert refusal.line == line, (key, str(refusal))
        assert str(path) in str(refusal)
    assert len(report.refused) == len(corpus)
    assert [o for o, _ in report.loaded] == [str(good)]
    assert report.exit_code == 1
    con = connect_readonly(link)
    try:
        months = con.execute("SELECT DISTINCT month FROM lake_manifest").fetchall()
        refused_logged = con.execute(
            "SELECT count(*) FROM load_log WHERE status = 'refused'").fetchone()[0]
    finally:
        con.close()
    assert [m[0].isoformat() for m in months] == ["2019-01-01"]
    assert refused_logged == len(corpus)


def test_a_batch_of_only_bad_files_leaves_the_warehouse_unchanged(good: Path,
                                                                  tmp_path: Path) -> None:
    link = tmp_path / "wh" / "warehouse.duckdb"
    load_police_uk(link, [good])
    before = _state(link)
    bad = tmp_path / "bad"
    bad.mkdir()
    corpus = make_corpus(good, bad)
    report = load_police_uk(link, [bad])
    assert not report.committed
    assert len(report.refused) == len(corpus)
    assert _state(link) == before


