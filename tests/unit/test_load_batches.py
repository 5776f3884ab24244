"""How a police.uk load is cut into bounded batches, the memory bound of its connections, and
the words of its progress bar (issue 11 item 1)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from etl import limits
from etl.cli import eta_text, rows_text
from etl.sources.police_uk.reader import InputFile, batches


def _file(name: str, force: str | None, month: int | None, rows: int) -> InputFile:
    return InputFile(name, Path(name), "street", date(2018, month, 1) if month else None, force,
                     rows)


def test_batches_are_bounded_in_rows_and_keep_a_force_month_whole() -> None:
    files = [_file("a", "cheshire", 1, 40), _file("b", "cheshire", 2, 40),
             _file("c", "cheshire", 2, 40), _file("d", "kent", 1, 40), _file("e", "kent", 2, 200)]
    got = [[i.origin for i in b] for b in batches(files, 100)]
    # b and c (cheshire's February) stay together, though a + b + c is over the bound;
    # e alone is over the bound and is a batch of its own
    assert got == [["a"], ["b", "c"], ["d"], ["e"]]
    assert [[i.origin for i in b] for b in batches(files, None)] == [["a", "b", "c", "d", "e"]]
    assert list(batches([], 100)) == []


def test_files_without_a_name_share_one_batch() -> None:
    files = [_file("x", None, None, 10), _file("a", "kent", 1, 10), _file("y", None, None, 10)]
    assert [[i.origin for i in b] for b in batches(files, 15)] == [["x", "y"], ["a"]]


def test_the_load_memory_bound_does_not_grow_with_the_input(monkeypatch) -> None:
    monkeypatch.delenv("LG_LOAD_MEMORY_MB", raising=False)
    assert limits.staging_config(100 << 20, "/x")["memory_limit"] == "456MB"
    assert limits.staging_config(10 << 30, "/x")["memory_limit"] == "1024MB"  # 10 GiB of input
    monkeypatch.setenv("LG_LOAD_MEMORY_MB", "300")
    assert limits.staging_config(10 << 30, "/x")["memory_limit"] == "300MB"
    monkeypatch.setenv("LG_LOAD_BATCH_ROWS", "5000")
    assert limits.batch_rows() == 5000
    monkeypatch.setenv("LG_LOAD_BATCH_ROWS", "lots")
    assert limits.batch_rows() == 1_000_000


def test_progress_words() -> None:
    assert rows_text(12, 516, 2_000_000, 10.0) == "12/516 files  2,000,000 rows  200,000 rows/s"
    assert rows_text(0, 516, 0, 0.0) == "0/516 files  0 rows  - rows/s"
    # 1,000 rows in 2 s, 4,000 left: 8 s
    assert eta_text(1_000, 5_000, 2.0) == "ETA 0:00:08"
    assert eta_text(100, 100 + 3_600 * 100 + 65 * 100, 1.0) == "ETA 1:01:05"
    assert eta_text(0, 5_000, 2.0) == "ETA -"
