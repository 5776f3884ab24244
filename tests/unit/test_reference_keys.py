"""A reference table that a reader joins on its key holds one row per key: the loader refuses a
file that repeats one, naming the file, the second line and the first (etl/reference/tables.py).
The place queries join the crime harm weights directly, so a repeated offence code would have
counted each of its crimes twice in an LSOA's harm."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest

from etl.errors import InputRefused
from etl.reference.tables import REFERENCE_FILES, data_dir, write_reference_tables


def _copy_data(tmp_path: Path) -> Path:
    """The shipped reference files, in a directory of the test's own."""
    out = tmp_path / "data"
    for ref in REFERENCE_FILES:
        src = data_dir() / ref.file
        if src.is_file():
            (out / ref.file).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(src, out / ref.file)
    return out


def _append(path: Path, line: str) -> int:
    """Append one CSV line; return its line number in the file."""
    text = path.read_text(encoding="utf-8")
    if not text.endswith("\n"):
        text += "\n"
    path.write_text(text + line + "\n", encoding="utf-8")
    return len((text + line).splitlines())


def _line_of(path: Path, first_field: str) -> int:
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if line.split(",")[0] == first_field:
            return n
    raise AssertionError(first_field)


def test_the_shipped_files_hold_one_row_per_key(tmp_path: Path) -> None:
    con = duckdb.connect()
    write_reference_tables(con, _copy_data(tmp_path))
    for table, key in (("ref_crime_severity", "upper(trim(code))"),
                       ("ref_crime_severity_category", "category"),
                       ("ref_population_ethnicity", "force_id")):
        rows, keys = con.execute(f"SELECT count(*), count(DISTINCT {key}) FROM {table}").fetchone()
        assert rows == keys > 0, table


@pytest.mark.parametrize("folded", [False, True])
def test_a_repeated_offence_code_is_refused_with_both_lines(tmp_path: Path, folded: bool) -> None:
    data = _copy_data(tmp_path)
    path = data / "reference" / "crime_severity_weights.csv"
    # the file's first data row, repeated at the end (in lower case: the join folds case)
    header_at = next(n for n, line in enumerate(path.read_text().splitlines(), start=1)
                     if not line.startswith("#"))
    first = path.read_text().splitlines()[header_at]       # the line after the header
    code = first.split(",")[0]
    repeat = (f" {code.lower()} " if folded else code) + "," + ",".join(first.split(",")[1:])
    added = _append(path, repeat)
    con = duckdb.connect()
    with pytest.raises(InputRefused) as refused:
        write_reference_tables(con, data)
    assert refused.value.file == str(path) and refused.value.line == added
    assert f"on line {_line_of(path, code)} already" in str(refused.value)
    # nothing half-made: no weight table was created from the refused file
    assert "ref_crime_severity" not in {r[0] for r in con.execute(
        "SELECT table_name FROM duckdb_tables()").fetchall()}


def test_a_category_differing_only_in_case_is_a_different_key(tmp_path: Path) -> None:
    """Categories are joined exactly (the street files' own spelling), so only an exact repeat
    is refused."""
    data = _copy_data(tmp_path)
    path = data / "reference" / "crime_severity_category_weights.csv"
    rows = [line for line in path.read_text().splitlines() if not line.startswith("#")]
    category = rows[1].split(",")[0]
    _append(path, category.upper() + "," + ",".join(rows[1].split(",")[1:]))
    con = duckdb.connect()
    write_reference_tables(con, data)
    assert con.execute("SELECT count(*) FROM ref_crime_severity_category").fetchone()[0] == len(rows)
    added = _append(path, rows[1])
    with pytest.raises(InputRefused) as refused:
        write_reference_tables(duckdb.connect(), data)
    assert refused.value.line == added
