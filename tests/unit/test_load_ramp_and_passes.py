"""How a police.uk load cuts its files into batches at its two ends (reader.ramped) and how the
crime cube build joins its pieces into passes (crime._statements), and the cached ids of a
default assignment (etl/reference/lsoa_mapping.py). Expected cuts worked out by hand."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from etl.cubes.crime import _statements
from etl.reference import areas
from etl.reference.lsoa_mapping import Assignment, default_assignment, warm_defaults
from etl.sources.police_uk.reader import InputFile, batches, ramped


def _files(spec: list[tuple[str, int, int]]) -> list[InputFile]:
    """(force, month number from 1, rows) -> one street file each, in that order."""
    return [InputFile(f"{m:02d}-{f}", Path(f"{m:02d}-{f}.csv"), "street",
                      date(2020 + (m - 1) // 12, (m - 1) % 12 + 1, 1), f, n)
            for f, m, n in spec]


def _cut(got: list[list[InputFile]]) -> list[list[str]]:
    return [[i.origin for i in b] for b in got]


def test_ramped_batches_start_and_end_small_and_keep_the_order() -> None:
    # 16 force-months of 10 rows, budget 80: the first batch 80 / 8 = 10 rows, then twice the
    # last (20, 40, 80), none more than half the rows left (nor under 10)
    files = _files([("a", m, 10) for m in range(1, 17)])
    got = [sum(i.rows for i in b) for b in ramped(files, 80)]
    # 160 rows: 10 (150 left), 20 (130), 40 (90), min(80, 45) = 40 (50), 20 (30), 10 (20), 10, 10
    assert got == [10, 20, 40, 40, 20, 10, 10, 10]
    assert [i for b in ramped(files, 80) for i in b] == files       # every file once, in order
    assert max(got) <= 80


def test_ramped_never_splits_a_force_month_and_matches_batches_without_a_budget() -> None:
    # two files of force a's month 1 (6 + 6 rows) must stay together though the first cut is 2
    files = [*_files([("a", 1, 6)]), *_files([("a", 1, 6)]), *_files([("b", 1, 5), ("b", 2, 5)])]
    cut = _cut(list(ramped(files, 16)))
    assert cut == [["01-a", "01-a"], ["01-b"], ["02-b"]]
    assert _cut(list(ramped(files, None))) == _cut(list(batches(files, None)))
    assert list(ramped([], 16)) == []


def test_ramped_a_file_over_the_budget_is_a_batch_of_its_own() -> None:
    files = _files([("a", 1, 5), ("a", 2, 500), ("a", 3, 5)])
    assert _cut(list(ramped(files, 100))) == [["01-a"], ["02-a"], ["03-a"]]


def test_passes_join_consecutive_pieces_within_the_budget() -> None:
    a = [("a", "s", "a/1", 300), ("a", "s", "a/2", 300)]
    b = [("b", "s", "b/1", 200)]
    c = [("c", "s", "c/1", 900)]
    d = [("d", "s", "d/1", 50)]
    big = [("e", "s", "e/1", 2000)]
    got = _statements([a, b, c, d, big, d], 1000)
    assert got == [
        [*a, *b],   # 600 + 200 = 800; c's 900 would take it to 1,700
        [*c, *d],   # 900 + 50 = 950
        big,        # over the budget alone: a pass of its own
        d,
    ]
    assert _statements([], 1000) == []


def test_default_assignment_ids_are_the_slugs_of_its_names() -> None:
    a = Assignment("cheshire", "E01018325", "Cheshire West & Chester", "Chester Central 001-004")
    assert a.bcu_id == "cheshire/cheshire-west-and-chester"
    assert a.npu_id == "cheshire/cheshire-west-and-chester/chester-central-001-004"
    again = Assignment("dorset", "E01020000", "Cheshire West & Chester", "Ch\u00e9ster")
    assert again.npu_id == "dorset/cheshire-west-and-chester/chester"


def test_warm_defaults_builds_the_hierarchies_once_before_the_update_asks() -> None:
    areas.hierarchy.cache_clear()
    warm_defaults(["cheshire", "cheshire", "not-a-force"]).join()
    assert areas.hierarchy.cache_info().misses == 2      # each force once, the unknown too
    # a Chester LSOA: Cheshire West and Chester, in the HMIC's 2007 Western BCU
    a = default_assignment("cheshire", "E01018325")
    assert a is not None and a.bcu_id == "cheshire/western"
    assert areas.hierarchy.cache_info().misses == 2      # found built: not built again
    assert default_assignment("not-a-force", "E01018325") is None
