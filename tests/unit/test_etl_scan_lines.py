"""The police.uk precheck's line count (etl.sources.csvscan.scan_lines) against the full scan
it replaced (scan_file): the same header and line count on every shape of file a download can
have, and None (so the caller runs scan_file for its words) where the first line is not a
clean header."""

from __future__ import annotations

from pathlib import Path

import pytest

from etl.errors import InputRefused
from etl.sources import csvscan
from etl.sources.csvscan import scan_file, scan_lines

HEADER = b"Crime ID,Month,Falls within"
ROW = b"abc,2019-01,Cheshire Constabulary"

# body -> the line count a reader of the file counts by hand: the header and the data rows up
# to the last one that is not blank
SHAPES = {
    "plain": (HEADER + b"\n" + ROW + b"\n" + ROW + b"\n", 3),
    "no final newline": (HEADER + b"\n" + ROW + b"\n" + ROW, 3),
    "CRLF": (HEADER + b"\r\n" + ROW + b"\r\n" + ROW + b"\r\n", 3),
    "blank lines at the end": (HEADER + b"\n" + ROW + b"\n\n\r\n\n", 2),
    "a blank line inside": (HEADER + b"\n" + ROW + b"\n\n" + ROW + b"\n", 4),
    "BOM": (b"\xef\xbb\xbf" + HEADER + b"\n" + ROW + b"\n", 2),
    "header only": (HEADER + b"\n", 1),
    "quoted header": (b'"Crime ID","Month","Falls within"\n' + ROW + b"\n", 2),
    "non-UTF-8 byte in a row": (HEADER + b"\n" + ROW + b"\xff\n" + ROW + b"\n", 3),
}


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_the_same_header_and_lines_as_the_full_scan(tmp_path: Path, shape: str) -> None:
    body, lines = SHAPES[shape]
    path = tmp_path / "f.csv"
    path.write_bytes(body)
    fast = scan_lines(path, "f.csv")
    assert fast is not None
    assert fast.header == ["Crime ID", "Month", "Falls within"] and fast.lines == lines
    if shape != "non-UTF-8 byte in a row":  # scan_file refuses that one; DuckDB's read does too
        full = scan_file(path, "f.csv")
        assert (full.header, full.lines) == (fast.header, fast.lines)


def test_counts_across_chunks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Chunk edges falling anywhere, blank lines running across them: as counted whole."""
    monkeypatch.setattr(csvscan, "_CHUNK", 64)
    body = HEADER + b"\n" + (ROW + b"\n") * 37 + ROW + b"\n" * 150 + b"\r\n" * 40
    path = tmp_path / "f.csv"
    path.write_bytes(body)
    fast = scan_lines(path, "f.csv")
    assert fast is not None and fast.lines == 39


@pytest.mark.parametrize("body", [b"", b"\n\nabc\n", b"Crime ID,M\xe9nth\nx,y\n", b"x" * 300,
                                  b"\xff\xfeC\x00r\x00\n\x00"])
def test_no_clean_header_line_is_left_to_the_full_scan(tmp_path: Path, body: bytes,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(csvscan, "_CHUNK", 256)
    path = tmp_path / "f.csv"
    path.write_bytes(body)
    assert scan_lines(path, "f.csv") is None
    assert scan_lines(tmp_path / "missing.csv", "missing.csv") is None


def test_the_row_limit_is_the_full_scans(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LG_MAX_ROWS_PER_FILE", "2")
    path = tmp_path / "f.csv"
    path.write_bytes(HEADER + b"\n" + (ROW + b"\n") * 3)
    with pytest.raises(InputRefused, match="3 rows is more than the 2 one file may hold"):
        scan_lines(path, "f.csv")
