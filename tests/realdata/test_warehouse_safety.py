"""The warehouse survives readers, crashes and kill -9 at any moment of a load."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from etl.lake.ingest import load_police_uk
from etl.lake.warehouse import WarehousePaths, connect_readonly
from tests.support import REPO


def _months(shared: Path) -> list[Path]:
    base = shared / "police_uk_street" / "geoinformation_in_society"
    return sorted(base.glob("*/*-cheshire-street.csv")) + sorted(
        base.glob("*/*-merseyside-street.csv"))


def _snapshot(link: Path) -> list[tuple]:
    con = connect_readonly(link)
    try:
        rows = con.execute(
            "SELECT source, force_id, month, crimes, asb FROM month_status ORDER BY ALL"
        ).fetchall()
        paths = [r[0] for r in con.execute("SELECT path FROM lake_manifest").fetchall()]
        # every lake file the warehouse lists is present and readable
        lake = WarehousePaths(link).lake
        if paths:
            con.execute("SELECT count(*) FROM read_parquet(?, hive_partitioning = false)",
                        [[str(lake / p) for p in paths]]).fetchone()
        return rows
    finally:
        con.close()


def test_a_reader_holding_the_old_version_never_blocks_a_load(shared_data: Path,
                                                              tmp_path: Path) -> None:
    files = _months(shared_data)
    link = tmp_path / "w.duckdb"
    load_police_uk(link, files[:1])
    reader = connect_readonly(link)
    old = reader.execute("SELECT count(*) FROM month_status").fetchone()[0]
    report = load_police_uk(link, files[1:2])  # would raise if the live file were locked
    assert report.committed
    assert reader.execute("SELECT count(*) FROM month_status").fetchone()[0] == old == 1
    fresh = connect_readonly(link)
    assert fresh.execute("SELECT count(*) FROM month_status").fetchone()[0] == 2
    reader.close()
    fresh.close()


def test_an_exception_mid_build_leaves_the_previous_version(shared_data: Path, tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    files = _months(shared_data)
    link = tmp_path / "w.duckdb"
    load_police_uk(link, files[:1])
    before = _snapshot(link)

    import etl.cubes.crime

    def boom(*args: object, **kwargs: object) -> None:
        raise RuntimeError("disk full (simulated)")

    monkeypatch.setattr(etl.cubes.crime, "refresh_month_status", boom)
    with pytest.raises(RuntimeError):
        load_police_uk(link, files[1:3])
    assert _snapshot(link) == before
    monkeypatch.undo()
    assert load_police_uk(link, files[1:3]).committed
    assert len(_snapshot(link)) == 3


_LOADER = """
import sys
from pathlib import Path
from etl.lake.ingest import load_police_uk
load_police_uk(Path(sys.argv[1]), [Path(p) for p in sys.argv[2:]])
"""


def test_kill_9_at_random_moments_never_breaks_or_loses_a_month(shared_data: Path,
                                                                tmp_path: Path) -> None:
    files = _months(shared_data)
    link = tmp_path / "w.duckdb"
    load_police_uk(link, files[:2])
    base = _snapshot(link)
    rest = [str(p) for p in files[2:]]
    env = {**os.environ, "PYTHONPATH": str(REPO)}

    def run(delay: float | None) -> float:
        start = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "-c", _LOADER, str(link), *rest], env=env)
        if delay is None:
            assert proc.wait(timeout=120) == 0
        else:
            time.sleep(delay)
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=30)
        return time.perf_counter() - start

    # A full run, to learn how long a load takes here, then its expected end state.
    scratch = tmp_path / "full" / "w.duckdb"
    load_police_uk(scratch, files)
    full = _snapshot(scratch)
    duration = run(None)
    assert _snapshot(link) == full
    # Back to the base state, then kill loads at random moments across that duration.
    link2 = tmp_path / "k" / "w.duckdb"
    load_police_uk(link2, files[:2])
    link = link2
    rng = random.Random(20071001)
    outcomes = set()
    for _ in range(8):
        run(rng.uniform(0.05, duration))
        state = _snapshot(link)  # opens, and every listed lake file is readable
        assert state in (base, full)
        outcomes.add("full" if state == full else "base")
        if state == full:  # start again from the base state for the next kill
            link = tmp_path / f"k{len(outcomes)}{rng.random():.6f}" / "w.duckdb"
            load_police_uk(link, files[:2])
    # After any kill, the next load completes and gives the full state.
    run(None)
    assert _snapshot(link) == full
    assert duckdb.connect(str(WarehousePaths(link).live()), read_only=True) is not None
