"""How the crime cube build cuts its input (etl/cubes/crime.py `_chunks`): pieces of one force
and at most the budget's rows, in order, a partition never cut. That the cubes built in
pieces equal the cubes built whole is tests/integration/test_cube_chunks.py."""

from __future__ import annotations

from etl.cubes.crime import _chunks


def test_pieces_are_one_force_each_within_the_budget_and_never_cut_a_partition() -> None:
    files = [("a", "s", f"a/{m}", n) for m, n in enumerate([400, 500, 100, 900, 1200, 50])]
    files += [("b", "s", f"b/{m}", 300) for m in range(3)]
    pieces = [[p for _, _, p, _ in c] for c in _chunks(files, 1000)]
    assert pieces == [
        ["a/0", "a/1", "a/2"],     # 400 + 500 + 100 = 1,000: exactly the budget
        ["a/3"],                   # 900, and a/4 would take it over
        ["a/4"],                   # 1,200: over the budget alone, kept whole
        ["a/5"],
        ["b/0", "b/1", "b/2"],     # another force starts another piece
    ]


def test_no_files_no_pieces() -> None:
    assert _chunks([], 1000) == []
