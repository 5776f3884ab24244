"""A police.uk load writes each staged batch of street rows into the lake as it is staged
(etl/lake/commit.py `LakeBatches`), so `stg_crime` never holds more than one batch: the
lake, the quarantine and the report are what a load staging everything gave; a load that
publishes nothing leaves no file in the lake; a load that fails after batches were written
leaves them to the next load, which removes them."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from etl.lake import commit
from etl.lake.ingest import load_police_uk
from etl.lake.warehouse import WarehousePaths
from tests.support.street import lake_crime_rows, parquet_files, street_file


def _inputs(folder: Path) -> list[Path]:
    """Three force-months of 4, 5 and 6 rows; each of the last two repeats the Crime ID of its
    first row, the first row of its batch (line 4 of Cheshire's February, line 7 of Dorset's
    January): a batch's repeats are looked for from its own first row, whatever earlier
    batches staged or dropped."""
    return [
        street_file(folder, "2019-01-cheshire-street.csv", "cheshire", "2019-01",
                    ["a1", "a2", "a3", "a4"]),
        street_file(folder, "2019-02-cheshire-street.csv", "cheshire", "2019-02",
                    ["b1", "b2", "b1", "b4", "b5"]),
        street_file(folder, "2019-01-dorset-street.csv", "dorset", "2019-01",
                    ["c1", "c2", "c3", "c4", "c5", "c1"]),
    ]




def test_each_batch_is_written_as_it_is_staged_and_the_load_is_the_same(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """One force-month a batch (LG_LOAD_BATCH_ROWS=1): each flush sees only its batch's rows,
    and a repeated Crime ID in the second and third batch is still found, by its line."""
    monkeypatch.setenv("LG_LOAD_BATCH_ROWS", "1")
    seen: list[int] = []
    real = commit.LakeBatches.flush

    def spy(self, con, table):  # noqa: ANN001, ANN202 - passes through
        seen.append(con.execute(f"SELECT count(*) FROM {table}").fetchone()[0])
        return real(self, con, table)

    monkeypatch.setattr(commit.LakeBatches, "flush", spy)
    link = tmp_path / "w" / "warehouse.duckdb"
    report = load_police_uk(link, _inputs(tmp_path / "in"))
    assert report.committed and not report.refused
    assert sorted(seen) == [4, 4, 5]  # one batch each: 4 rows, 5 - 1 repeat, 6 - 1 repeat
    rows = lake_crime_rows(link)
    assert [(f, m, c) for f, m, c, _ in rows] == sorted(
        [("cheshire", "2019-01", x, ) for x in ("a1", "a2", "a3", "a4")]
        + [("cheshire", "2019-02", x) for x in ("b1", "b2", "b4", "b5")]
        + [("dorset", "2019-01", x) for x in ("c1", "c2", "c3", "c4", "c5")])
    assert ("cheshire", "2019-02", "b4", 5) in rows and ("dorset", "2019-01", "c5", 6) in rows
    con = duckdb.connect(str(WarehousePaths(link).live()), read_only=True)
    try:
        quarantined = con.execute(
            "SELECT force_id, strftime(month, '%Y-%m'), line, record FROM quarantine "
            "ORDER BY ALL").fetchall()
        manifest = con.execute("SELECT force_id, strftime(month, '%Y-%m'), rows, duplicates "
                               "FROM lake_manifest ORDER BY ALL").fetchall()
    finally:
        con.close()
    assert quarantined == [("cheshire", "2019-02", 4, "b1"), ("dorset", "2019-01", 7, "c1")]
    assert manifest == [("cheshire", "2019-01", 4, 0), ("cheshire", "2019-02", 4, 1),
                        ("dorset", "2019-01", 5, 1)]
    assert len(parquet_files(link)) == 3
    assert not any((WarehousePaths(link).lake / ".incoming").iterdir())


def test_a_file_without_force_and_month_in_its_name_stages_everything_first(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A file not named <month>-<force>-street.csv may hold rows of any batch's partitions:
    nothing is written until commit(), which writes each partition once, whole."""
    monkeypatch.setenv("LG_LOAD_BATCH_ROWS", "1")
    files = _inputs(tmp_path / "in")
    extra = street_file(tmp_path / "in", "more-cheshire.csv", "cheshire", "2019-01", ["a9"])
    flushed: list[int] = []
    monkeypatch.setattr(commit.LakeBatches, "flush",
                        lambda self, con, table: flushed.append(1) or True)
    link = tmp_path / "w" / "warehouse.duckdb"
    report = load_police_uk(link, [*files, extra])
    assert report.committed and not report.refused and not flushed
    assert [r[2] for r in lake_crime_rows(link) if r[:2] == ("cheshire", "2019-01")] == [
        "a1", "a2", "a3", "a4", "a9"]
    assert len(parquet_files(link)) == 3


def test_a_refused_hierarchy_leaves_no_file_of_the_batches_written(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LG_LOAD_BATCH_ROWS", "1")
    bad = tmp_path / "hierarchy.csv"
    bad.write_text("lsoa_code,npu\nE01012516,Town\n")  # no bcu column
    link = tmp_path / "w" / "warehouse.duckdb"
    report = load_police_uk(link, _inputs(tmp_path / "in"), hierarchy=bad)
    assert not report.committed and [r.file for r in report.refused] == [str(bad)]
    assert parquet_files(link) == []
    assert WarehousePaths(link).live() is None
    incoming = WarehousePaths(link).lake / ".incoming"
    assert not incoming.exists() or not any(incoming.iterdir())


def test_a_load_failing_after_its_batches_were_written_leaves_them_to_the_next_load(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The batches' files are named for their load and marked unfinished: the version the
    next load publishes lists its own files only, and the failed load's are gone."""
    monkeypatch.setenv("LG_LOAD_BATCH_ROWS", "1")
    link = tmp_path / "w" / "warehouse.duckdb"
    files = _inputs(tmp_path / "in")
    real = commit._build_version

    def fail(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        raise RuntimeError("killed")

    monkeypatch.setattr(commit, "_build_version", fail)
    with pytest.raises(RuntimeError, match="killed"):
        load_police_uk(link, files)
    left = parquet_files(link)
    assert len(left) == 3 and WarehousePaths(link).live() is None
    monkeypatch.setattr(commit, "_build_version", real)
    report = load_police_uk(link, files[:1])
    assert report.committed
    assert parquet_files(link) == [p for p in parquet_files(link) if report.load_id in p.name]
    assert len(parquet_files(link)) == 1
    assert [r[2] for r in lake_crime_rows(link)] == ["a1", "a2", "a3", "a4"]


def test_streamed_files_skip_statistics_of_unique_columns_only(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The stream writes no min/max of crime ids, addresses, LSOA names, coordinates and line
    numbers (nothing a reader prunes by) and keeps the rest's; the rows read back are the
    same."""
    import pyarrow.parquet as pq  # lazy: only this test reads Parquet metadata

    monkeypatch.setattr(commit, "RANGE_MIN_ROWS", 1)  # (the stream, not the small-table writer)
    used: list[str] = []
    real = commit._write_stream

    def spy(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202 - passes through
        used.append("stream")
        return real(*args, **kwargs)

    monkeypatch.setattr(commit, "_write_stream", spy)
    link = tmp_path / "w" / "warehouse.duckdb"
    report = load_police_uk(link, _inputs(tmp_path / "in")[:1])
    assert report.committed and used == ["stream"]
    [path] = parquet_files(link)
    group = pq.ParquetFile(path).metadata.row_group(0)
    stats = {group.column(i).path_in_schema: group.column(i).statistics
             for i in range(group.num_columns)}
    for column in ("crime_id", "location", "lsoa_name", "longitude", "latitude", "line"):
        assert stats[column] is None or not stats[column].has_min_max, column
    assert stats["category"].has_min_max and stats["lsoa_code"].min == "E01012516"
    assert [r[2:] for r in lake_crime_rows(link)] == [("a1", 2), ("a2", 3), ("a3", 4), ("a4", 5)]
