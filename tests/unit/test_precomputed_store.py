"""The on-disk store of results that depend only on the warehouse version
(dashboard/data/precomputed.py): a result is read back exactly, and only for the version, code,
name and arguments it was written for; a damaged, planted or stale file is ignored, never
loaded. Real files in a temporary folder; no warehouse is needed (the store reads only the
names of the version files beside the link)."""

from __future__ import annotations

import math
import os
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from dashboard.data import precomputed
from dashboard.data.precomputed import ResultStore

V1 = ("warehouse.v000001.duckdb", 2049, 101)
V2 = ("warehouse.v000002.duckdb", 2049, 202)
ARGS = ("cheshire", date(2007, 4, 1), date(2008, 3, 31), "standard", None)


def _frame() -> pd.DataFrame:
    """The kinds of column an assessment holds: text, dates and None, floats with NaN,
    a bool and None, ints, lists."""
    return pd.DataFrame({
        "unit_id": ["cheshire", "cheshire"],
        "spc_month": [date(2008, 1, 1), None],
        "value": [12.5, math.nan],
        "target_met": [True, None],
        "peer_rank": [3, 7],
        "peer_position": ["within", math.nan],
        "spark": [[1.0, math.nan, 3.0], []],
    })


@pytest.fixture
def store(tmp_path: Path) -> ResultStore:
    for v in (V1, V2):
        (tmp_path / v[0]).write_bytes(b"")   # the version files the store keeps folders for
    return ResultStore(tmp_path / "warehouse.duckdb")


def test_a_result_reads_back_exactly(store: ResultStore) -> None:
    frame = _frame()
    assert store.read(V1, "assessment.unit", ARGS) is None
    assert store.write(V1, "assessment.unit", ARGS, frame)
    back = store.read(V1, "assessment.unit", ARGS)
    pd.testing.assert_frame_equal(back, frame)
    assert back["spc_month"].iloc[1] is None and back["target_met"].iloc[1] is None
    assert back["spark"].iloc[0][0] == 1.0 and isinstance(back["spark"].iloc[0], list)
    # the file sits under its version's folder; no temporary file is left behind
    files = [p for p in store.root.rglob("*") if p.is_file()]
    assert len(files) == 1 and files[0].is_relative_to(store.root / V1[0])


def test_another_version_name_or_arguments_never_read_it(store: ResultStore) -> None:
    store.write(V1, "assessment.unit", ARGS, _frame())
    assert store.read(V2, "assessment.unit", ARGS) is None
    # the same file name rebuilt (another inode) is another version
    assert store.read((V1[0], V1[1], 999), "assessment.unit", ARGS) is None
    assert store.read(V1, "assessment.other", ARGS) is None
    assert store.read(V1, "assessment.unit", ("cheshire/eastern", *ARGS[1:])) is None


def test_a_file_planted_in_another_versions_folder_is_ignored(store: ResultStore) -> None:
    store.write(V1, "assessment.unit", ARGS, _frame())
    old = next(p for p in store.root.rglob("*.pkl"))
    new = store.version_folder(V2) / old.relative_to(store.version_folder(V1))
    new.parent.mkdir(parents=True)
    new.write_bytes(old.read_bytes())
    os.chmod(new, 0o600)
    assert store.read(V2, "assessment.unit", ARGS) is None   # its header names version 1


def test_results_of_other_code_are_stale(store: ResultStore, monkeypatch: pytest.MonkeyPatch) -> None:
    store.write(V1, "assessment.unit", ARGS, _frame())
    monkeypatch.setattr(precomputed, "code_fingerprint", lambda: "0" * 64)
    assert store.read(V1, "assessment.unit", ARGS) is None


@pytest.mark.parametrize("damage", ["truncate", "flip", "header", "empty"])
def test_a_damaged_file_is_ignored(store: ResultStore, damage: str) -> None:
    store.write(V1, "assessment.unit", ARGS, _frame())
    path = next(store.root.rglob("*.pkl"))
    blob = bytearray(path.read_bytes())
    if damage == "truncate":
        blob = blob[: len(blob) - 40]
    elif damage == "flip":
        blob[-20] ^= 0xFF
    elif damage == "header":
        blob[len(precomputed.MAGIC) + 2] = ord("#")
    else:
        blob = bytearray()
    path.write_bytes(bytes(blob))
    assert store.read(V1, "assessment.unit", ARGS) is None
    # written again, it is read again
    assert store.write(V1, "assessment.unit", ARGS, _frame())
    pd.testing.assert_frame_equal(store.read(V1, "assessment.unit", ARGS), _frame())


def test_a_file_others_may_write_is_never_loaded(store: ResultStore) -> None:
    store.write(V1, "assessment.unit", ARGS, _frame())
    path = next(store.root.rglob("*.pkl"))
    os.chmod(path, 0o666)
    assert store.read(V1, "assessment.unit", ARGS) is None
    os.chmod(path, 0o600)
    os.chmod(path.parent, 0o777)     # nor one in a folder others may write to
    assert store.read(V1, "assessment.unit", ARGS) is None


def test_folders_of_gone_versions_are_removed_when_a_new_one_is_written(store: ResultStore,
                                                                      tmp_path: Path) -> None:
    store.write(V1, "assessment.unit", ARGS, _frame())
    (tmp_path / V1[0]).unlink()        # the ETL collected version 1
    store.write(V2, "assessment.unit", ARGS, _frame())
    assert not store.version_folder(V1).exists()
    assert store.read(V2, "assessment.unit", ARGS) is not None


def test_a_store_that_cannot_be_written_is_not_an_error(tmp_path: Path) -> None:
    (tmp_path / V1[0]).write_bytes(b"")
    blocked = ResultStore(tmp_path / "warehouse.duckdb")
    blocked.root.write_text("a file where the store's folder would be")
    assert blocked.write(V1, "assessment.unit", ARGS, _frame()) is False
    assert blocked.read(V1, "assessment.unit", ARGS) is None


def test_a_store_switched_off_reads_and_writes_nothing(store: ResultStore) -> None:
    store.write(V1, "assessment.unit", ARGS, _frame())
    store.enabled = False
    assert store.read(V1, "assessment.unit", ARGS) is None
    assert store.write(V2, "assessment.unit", ARGS, _frame()) is False
    assert not store.version_folder(V2).exists()
