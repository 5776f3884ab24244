"""A police.uk load writes each staged batch of street rows in a background thread while it
reads the next (etl/lake/commit.py `LakeBatches._write_behind`), and checks its files two at
a time (etl/sources/police_uk/reader.py `parse`): the lake and the refusals are what the
synchronous load gave; a writer that fails fails the load, publishes nothing, and leaves its
files to the next load, which removes them."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from etl.lake import commit
from etl.lake.ingest import load_police_uk
from etl.lake.warehouse import WarehousePaths
from etl.sources.police_uk.reader import STREET_HEADER
from tests.support.street import lake_crime_rows, parquet_files, street_file


def _inputs(folder: Path) -> list[Path]:
    return [
        street_file(folder, "2019-01-cheshire-street.csv", "cheshire", "2019-01",
                    ["a1", "a2", "a3"]),
        street_file(folder, "2019-02-cheshire-street.csv", "cheshire", "2019-02",
                    ["b1", "b2", "b1", "b4"]),
        street_file(folder, "2019-01-dorset-street.csv", "dorset", "2019-01", ["c1", "c2"]),
        street_file(folder, "2019-02-dorset-street.csv", "dorset", "2019-02",
                    ["d1", "d2", "d3"]),
    ]




def test_batches_are_written_by_the_writer_thread_and_the_lake_is_complete(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """One force-month a batch: every batch but none is written on the main thread, and the
    lake holds every row once (the repeated b1 on line 4 quarantined)."""
    monkeypatch.setenv("LG_LOAD_BATCH_ROWS", "1")
    threads: list[str] = []
    real = commit._write_partitions

    def spy(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202 - passes through
        threads.append(threading.current_thread().name)
        return real(*args, **kwargs)

    monkeypatch.setattr(commit, "_write_partitions", spy)
    link = tmp_path / "w" / "warehouse.duckdb"
    report = load_police_uk(link, _inputs(tmp_path / "in"))
    assert report.committed and not report.refused
    assert len(threads) == 4 and all(t.startswith("lake-writer") for t in threads)
    assert [r[:3] for r in lake_crime_rows(link)] == [
        ("cheshire", "2019-01", "a1"), ("cheshire", "2019-01", "a2"), ("cheshire", "2019-01", "a3"),
        ("cheshire", "2019-02", "b1"), ("cheshire", "2019-02", "b2"), ("cheshire", "2019-02", "b4"),
        ("dorset", "2019-01", "c1"), ("dorset", "2019-01", "c2"),
        ("dorset", "2019-02", "d1"), ("dorset", "2019-02", "d2"), ("dorset", "2019-02", "d3")]
    assert ("cheshire", "2019-02", "b4", 5) in lake_crime_rows(link)
    assert len(parquet_files(link)) == 4
    # the batches' tables are gone from the staging connection's database: nothing is left
    # behind for the next batch's names
    assert not any((WarehousePaths(link).lake / ".incoming").iterdir())


def test_a_writer_failing_in_the_background_fails_the_load_and_publishes_nothing(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The second batch's writer fails: the load raises that error (not later, not never),
    no version is published, and the next load removes what the failed one wrote."""
    monkeypatch.setenv("LG_LOAD_BATCH_ROWS", "1")
    calls: list[int] = []
    real = commit._write_partitions

    def fail_second(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        calls.append(1)
        if len(calls) == 2:
            raise OSError("disk full")
        return real(*args, **kwargs)

    monkeypatch.setattr(commit, "_write_partitions", fail_second)
    link = tmp_path / "w" / "warehouse.duckdb"
    files = _inputs(tmp_path / "in")
    with pytest.raises(OSError, match="disk full"):
        load_police_uk(link, files)
    assert WarehousePaths(link).live() is None
    assert len(parquet_files(link)) == 1  # the first batch's file, listed by no version
    monkeypatch.setattr(commit, "_write_partitions", real)
    report = load_police_uk(link, files[:1])
    assert report.committed
    assert len(parquet_files(link)) == 1
    assert all(report.load_id in p.name for p in parquet_files(link))
    assert [r[2] for r in lake_crime_rows(link)] == ["a1", "a2", "a3"]


def test_refusals_keep_the_files_order_when_checked_two_at_a_time(tmp_path: Path) -> None:
    """Files are checked in a pool of two; the refusals still come in the files' order, each
    with its own words, and the good files load."""
    folder = tmp_path / "in"
    good = _inputs(folder)
    empty = folder / "2019-03-cheshire-street.csv"
    empty.write_text(",".join(STREET_HEADER) + "\n", encoding="utf-8")
    wrong = folder / "2019-03-dorset-street.csv"
    wrong.write_text("a,b,c\n1,2,3\n", encoding="utf-8")
    other = street_file(folder, "2019-04-dorset-street.csv", "dorset", "2019-04", ["e1"],
                        falls_within="Cheshire Constabulary")
    link = tmp_path / "w" / "warehouse.duckdb"
    report = load_police_uk(link, [*good, empty, wrong, other])
    assert report.committed
    assert [Path(r.file).name for r in report.refused] == [
        "2019-03-cheshire-street.csv", "2019-03-dorset-street.csv", "2019-04-dorset-street.csv"]
    assert "header only" in report.refused[0].problem
    assert "not a data.police.uk" in report.refused[1].problem
    assert report.refused[2].line == 2
    assert len(lake_crime_rows(link)) == 11


def test_batches_are_half_the_row_budget_and_a_later_batch_is_checked_on_the_reader_thread(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """LG_LOAD_BATCH_ROWS=8 and files of 2 to 4 rows: two batches are in hand at once (one
    read ahead on the reader thread while the other is staged), so each holds at most 4 rows
    and every force-month here is a batch of its own (5 flushes; whole budgets would make 2).
    A malformed row in the last batch, read on the reader thread, is refused by its line and
    the other files load."""
    monkeypatch.setenv("LG_LOAD_BATCH_ROWS", "8")
    flushed: list[int] = []
    real = commit.LakeBatches.flush

    def spy(self, con, table):  # noqa: ANN001, ANN202 - passes through
        flushed.append(con.execute(f"SELECT count(*) FROM {table}").fetchone()[0])
        return real(self, con, table)

    monkeypatch.setattr(commit.LakeBatches, "flush", spy)
    folder = tmp_path / "in"
    files = _inputs(folder)
    bad = folder / "2019-03-dorset-street.csv"
    good = street_file(folder, "2019-03-dorset-street.csv", "dorset", "2019-03", ["f1", "f2"])
    assert good == bad
    lines = bad.read_text(encoding="utf-8").splitlines()
    bad.write_text("\n".join([*lines, "f3,2019-03,too,few,fields"]) + "\n", encoding="utf-8")
    link = tmp_path / "w" / "warehouse.duckdb"
    report = load_police_uk(link, [*files, bad])
    assert report.committed
    assert [(Path(r.file).name, r.line) for r in report.refused] == [
        ("2019-03-dorset-street.csv", 4)]
    # 3, 4 - 1 repeat, 2 and 3 rows; the refused file's batch hands over none
    assert sorted(flushed) == [0, 2, 3, 3, 3]
    assert len(lake_crime_rows(link)) == 11
