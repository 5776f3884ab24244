"""A police.uk load through the streaming lake writer (etl/lake/commit.py `_write_stream`) and
the lake's fsync overlapped with the version build: the files hold exactly their partitions'
rows even when the staged rows of several files interleave, and a version is never published
before its lake files are on disk."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import duckdb
import pytest

from etl.lake import commit
from etl.lake.ingest import load_police_uk
from etl.lake.warehouse import WarehousePaths
from etl.sources.police_uk.reader import STREET_HEADER

FORCES = {"cheshire": "Cheshire Constabulary", "dorset": "Dorset Police",
          "kent": "Kent Police", "essex": "Essex Police"}


def _street(force: str, month: str, n: int) -> str:
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(STREET_HEADER)
    for i in range(n):
        w.writerow([f"{force}-{month}-{i}", month, FORCES[force], FORCES[force], "-2.59", "53.39",
                    "On or near High St", "E01012516", "Warrington 001A", "Burglary",
                    "Under investigation", ""])
    return out.getvalue()


def _files(folder: Path, month: str, n: int, forces: tuple[str, ...] = tuple(FORCES)) -> list[Path]:
    """One street file per force for `month`, `n` rows each."""
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for force in forces:
        path = folder / f"{month}-{force}-street.csv"
        path.write_text(_street(force, month, n))
        out.append(path)
    return out


def _crimes(link: Path) -> dict[str, int]:
    con = duckdb.connect(str(WarehousePaths(link).live()), read_only=True)
    try:
        return {f"{m:%Y-%m}": int(n) for m, n in con.execute(
            "SELECT month, crimes FROM month_status WHERE force_id = 'cheshire' "
            "ORDER BY month").fetchall()}
    finally:
        con.close()


def test_many_files_streamed_each_partition_one_file_of_its_own_rows(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Four forces' files for two months, in batches of 5,000 staged rows read 700 at a time:
    every lake file holds exactly the rows of its force and month, as many as the manifest
    says, and the stream (not a fallback) wrote them."""
    monkeypatch.setattr(commit, "STREAM_BATCH_ROWS", 700)
    monkeypatch.setattr(commit, "RANGE_MIN_ROWS", 100)
    streamed: list[int] = []
    real = commit._write_stream

    def spy(*a: object) -> object:
        got = real(*a)
        streamed.append(0 if got is None else len(got))
        return got
    monkeypatch.setattr(commit, "_write_stream", spy)
    link = tmp_path / "warehouse.duckdb"
    paths = _files(tmp_path / "in", "2019-01", 2500) + _files(tmp_path / "in", "2019-02", 1200)
    report = load_police_uk(link, paths)
    assert report.committed, report.refused
    assert streamed == [8]
    lake = WarehousePaths(link).lake
    con = duckdb.connect(str(link.resolve()), read_only=True)
    manifest = con.execute("SELECT force_id, month, path, rows FROM lake_manifest "
                           "WHERE dataset = 'crime' ORDER BY ALL").fetchall()
    con.close()
    assert len(manifest) == 8
    reader = duckdb.connect()
    for force_id, month, path, rows in manifest:
        assert rows == (2500 if month.month == 1 else 1200)
        got = reader.execute(
            "SELECT count(*), count(*) FILTER (WHERE force_id = ? AND month = ?), "
            "count(DISTINCT line) FROM read_parquet(?)", [force_id, month, str(lake / path)]).fetchall()
        assert got == [(rows, rows, rows)]


def test_a_version_is_not_published_before_its_lake_files_are_on_disk(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The lake's fsync runs beside the version build; when it fails, the load fails and the
    previous version stays live, whatever the build had done by then."""
    link = tmp_path / "warehouse.duckdb"
    assert load_police_uk(link, _files(tmp_path / "in", "2019-01", 4, ("cheshire",))).committed
    before = WarehousePaths(link).live()

    def failing(files: list[Path]) -> None:
        raise OSError(5, "Input/output error")
    monkeypatch.setattr(commit, "_fsync_files", failing)
    with pytest.raises(OSError, match="Input/output error"):
        load_police_uk(link, _files(tmp_path / "in2", "2019-02", 3, ("cheshire",)))
    assert WarehousePaths(link).live() == before
    assert _crimes(link) == {"2019-01": 4}
