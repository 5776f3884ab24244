"""The crime cube build runs passes of several forces (etl/cubes/crime.py `_statements`): a
pass's outcomes files are every force's of the pass, joined on (force, crime id). Two forces
whose outcomes files name the same crime ids: each force's detections must count only its
own, and the cubes of one pass must equal those built one force a pass, row for row and in
the same order (one pass is built on the connection itself; two are folded on threads ahead
of their inserts, `_folded_ahead`). Expected counts written out by hand from the files below."""

from __future__ import annotations

import csv
from pathlib import Path

import duckdb
import pytest

from etl.cubes import crime
from etl.lake.ingest import load_police_uk
from etl.lake.warehouse import WarehousePaths
from etl.sources.police_uk.reader import OUTCOME_HEADER
from tests.support.street import FORCES, street_file
from tests.support.warehouses import copy_warehouse


def _outcomes(folder: Path, force: str, month: str, charged: list[str]) -> Path:
    path = folder / f"{month}-{force}-outcomes.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(OUTCOME_HEADER)
        for crime_id in charged:
            w.writerow([crime_id, month, FORCES[force], FORCES[force], "-2.59", "53.39",
                        "On or near High St", "E01012516", "Warrington 001A", "Suspect charged"])
    return path


def _cubes(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    return con.execute("SELECT * FROM cube_crime_month ORDER BY rowid").fetchall()


@pytest.fixture
def loaded(tmp_path: Path) -> Path:
    folder = tmp_path / "in"
    # the same ids in both forces: only the join's force keeps their outcomes apart
    street_file(folder, "2019-01-cheshire-street.csv", "cheshire", "2019-01", ["x1", "x2", "x3"])
    street_file(folder, "2019-02-cheshire-street.csv", "cheshire", "2019-02", ["x4"])
    street_file(folder, "2019-01-dorset-street.csv", "dorset", "2019-01", ["x1", "x2"])
    _outcomes(folder, "cheshire", "2019-01", ["x1"])
    _outcomes(folder, "dorset", "2019-02", ["x1", "x2"])
    link = tmp_path / "w" / "warehouse.duckdb"
    report = load_police_uk(link, [folder])
    assert report.committed and not report.refused
    return link


def test_detections_stay_with_their_force_in_a_pass_of_two_forces(loaded: Path) -> None:
    with duckdb.connect(str(WarehousePaths(loaded).live()), read_only=True) as con:
        got = con.execute(
            "SELECT force_id, strftime(month, '%Y-%m'), n, sd FROM cube_crime_month "
            "WHERE level = 'force' ORDER BY ALL").fetchall()
    assert got == [("cheshire", "2019-01", 3, 1), ("cheshire", "2019-02", 1, 0),
                   ("dorset", "2019-01", 2, 2)]


def test_one_pass_equals_a_pass_a_force_in_order(loaded: Path, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    built: dict[str, list[tuple]] = {}
    passes: dict[str, list[int]] = {}
    real = crime._facts_select
    for name, statements in (("joined", crime._statements),
                             ("one force a pass", lambda chunks, budget: chunks)):
        monkeypatch.setattr(crime, "_statements", statements)
        seen: list[int] = []

        def spy(con, lake, files, outcomes, _seen=seen):  # noqa: ANN001, ANN202 - passes through
            _seen.append(len(files))
            return real(con, lake, files, outcomes)

        monkeypatch.setattr(crime, "_facts_select", spy)
        copy = copy_warehouse(loaded, tmp_path / name.replace(" ", "-"))
        with duckdb.connect(str(copy.resolve())) as con:
            parts = con.execute("SELECT source, force_id, month FROM lake_manifest "
                                "WHERE dataset = 'crime' ORDER BY ALL").fetchall()
            crime.rebuild_crime(con, str(copy.resolve().parent / "warehouse.lake"), parts)
            built[name] = _cubes(con)
        passes[name] = sorted(seen)  # (two passes fold on two threads, in either order)
    assert passes == {"joined": [3], "one force a pass": [1, 2]}
    assert len(built["joined"]) >= 3
    assert built["joined"] == built["one force a pass"]
    with duckdb.connect(str(WarehousePaths(loaded).live()), read_only=True) as con:
        assert _cubes(con) == built["joined"]  # as the load built them
