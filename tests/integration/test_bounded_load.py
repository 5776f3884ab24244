"""Bounded-memory loads (issue 11 item 1): `python -m etl load police-uk` streams its input in
batches of bounded rows, in a DuckDB connection whose memory is capped, so its peak memory
does not grow with the input. The load runs as a user runs it (a child process) with the
bounds set low (LG_LOAD_MEMORY_MB, LG_LOAD_BATCH_ROWS), over files big enough that reading
them whole, as the loader did before, peaks far above the bound asserted here (measured: the
old loader peaked at 0.68 GB on these files; the bounded one at about 0.3 GB).
"""

from __future__ import annotations

import csv
import os
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import numpy as np

from etl.measures.crime import CRIME_CATEGORIES
from etl.reference.forces import FORCE_BY_SLUG
from tests.support import REPO

FORCES = ("cheshire", "merseyside", "lancashire", "greater-manchester")
MONTHS = [f"2018-{m:02d}" for m in range(1, 7)]
ROWS_PER_FILE = 25_000           # 24 files, 600,000 rows, about 140 MB of CSV
PEAK_BOUND = 450 << 20           # the bounded load's peak RSS must stay under this
ASB = "Anti-social behaviour"
HEADER = ["Crime ID", "Month", "Reported by", "Falls within", "Longitude", "Latitude", "Location",
          "LSOA code", "LSOA name", "Crime type", "Last outcome category", "Context"]


def _write_files(folder: Path, rows_per_file: int) -> dict[tuple[str, str], int]:
    """data.police.uk street files, one per force and month, every Crime ID unique (so every
    row loads); returns (force, month) -> rows written, the reference the load must match."""
    rng = np.random.default_rng(11)
    types = sorted(CRIME_CATEGORIES)
    counts: dict[tuple[str, str], int] = {}
    for force_id in FORCES:
        name = FORCE_BY_SLUG[force_id].name
        for month in MONTHS:
            path = folder / month / f"{month}-{force_id}-street.csv"
            path.parent.mkdir(parents=True, exist_ok=True)
            kinds = rng.integers(0, len(types), size=rows_per_file)
            ids = rng.bytes(32 * rows_per_file).hex()
            lon = rng.normal(-2.5, 0.2, size=rows_per_file)
            lat = rng.normal(53.3, 0.2, size=rows_per_file)
            with open(path, "w", encoding="utf-8", newline="") as fh:
                w = csv.writer(fh)
                w.writerow(HEADER)
                for j in range(rows_per_file):
                    kind = types[kinds[j]]
                    w.writerow(["" if kind == ASB else ids[64 * j:64 * j + 64], month, name, name,
                                f"{lon[j]:.6f}", f"{lat[j]:.6f}", "On or near Main Street",
                                "", "", kind, "Under investigation", ""])
            counts[(force_id, month)] = rows_per_file
    return counts


def _csv_rows(folder: Path) -> dict[tuple[str, str], int]:
    """Data rows per file, counted with the csv module (independent of the loader)."""
    out = {}
    for path in folder.glob("*/*-street.csv"):
        with open(path, encoding="utf-8", newline="") as fh:
            n = sum(1 for _ in csv.reader(fh)) - 1
        month, force_id = path.name[:7], path.name[8:-len("-street.csv")]
        out[(force_id, month)] = n
    return out


def _hwm(pid: int) -> int:
    """A process's peak resident set (VmHWM of /proc/<pid>/status) in bytes; 0 once gone."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _load(files: Path, link: Path, env: dict[str, str]) -> tuple[int, str]:
    """Run the load in a child process; (its peak RSS, its stderr)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "etl", "load", "police-uk", str(files), "--warehouse", str(link)],
        cwd=REPO, env={**os.environ, **env, "COLUMNS": "1000"},
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    peak = 0
    while proc.poll() is None:
        peak = max(peak, _hwm(proc.pid))
        time.sleep(0.02)
    err = proc.stderr.read() if proc.stderr else ""
    assert proc.returncode == 0, err[-3000:]
    return peak, err


def _lake_rows(link: Path) -> tuple[dict[tuple[str, str], int], dict[tuple[str, str], int]]:
    """(force, month) -> rows, from the manifest and from the Parquet files themselves."""
    con = duckdb.connect(str(link.resolve()), read_only=True)
    try:
        manifest = {(f, f"{m:%Y-%m}"): n for f, m, n in con.execute(
            "SELECT force_id, month, rows FROM lake_manifest WHERE dataset = 'crime'").fetchall()}
        paths = [str(link.parent / "warehouse.lake" / r[0]) for r in con.execute(
            "SELECT path FROM lake_manifest WHERE dataset = 'crime'").fetchall()]
    finally:
        con.close()
    lake = duckdb.connect()
    counted = {(f, f"{m:%Y-%m}"): n for f, m, n in lake.execute(
        "SELECT force_id, month, count(*) FROM read_parquet(?, hive_partitioning = false) "
        "GROUP BY ALL", [paths]).fetchall()}
    return manifest, counted


def test_a_big_load_stays_within_its_memory_bound(tmp_path: Path) -> None:
    files = tmp_path / "street"
    written = _write_files(files, ROWS_PER_FILE)
    assert _csv_rows(files) == written
    link = tmp_path / "w" / "warehouse.duckdb"
    peak, err = _load(files, link, {"LG_LOAD_MEMORY_MB": "96", "LG_LOAD_BATCH_ROWS": "60000"})
    assert 0 < peak < PEAK_BOUND, f"peak RSS {peak / 2**20:.0f} MiB"
    manifest, counted = _lake_rows(link)
    assert manifest == written and counted == written
    # without a terminal the bar's last line says the rows read and their rate
    line = next(x for x in err.splitlines() if x.startswith("Reading CSV files: done in"))
    assert f"{sum(written.values()):,} rows" in line and "rows/s" in line


def test_batch_size_does_not_change_the_warehouse(tmp_path: Path) -> None:
    """The same files loaded in one batch and in batches of one force's month give the same
    cubes, row for row (a repeated Crime ID inside a month is still found: each file repeats
    one)."""
    files = tmp_path / "street"
    _write_files(files, 2_000)
    for path in files.glob("*/*-street.csv"):  # the last row again: a repeated Crime ID
        lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
        last = next(x for x in reversed(lines) if not x.startswith(","))
        path.write_text("".join(lines) + last, encoding="utf-8")
    cubes = []
    for batch in ("10000000", "1"):
        link = tmp_path / batch / "warehouse.duckdb"
        _load(files, link, {"LG_LOAD_BATCH_ROWS": batch})
        con = duckdb.connect(str(link.resolve()), read_only=True)
        try:
            cubes.append([con.execute(
                f"SELECT * EXCLUDE (load_id) FROM {t} ORDER BY ALL" if t == "quarantine" else
                f"SELECT * FROM {t} ORDER BY ALL").fetchall()
                for t in ("cube_crime_month", "cube_crime_day", "cube_measure_month",
                          "month_status", "dim_lsoa")])
            quarantined = con.execute("SELECT count(*) FROM quarantine").fetchone()[0]
        finally:
            con.close()
        assert quarantined == len(FORCES) * len(MONTHS)
    assert cubes[0] == cubes[1] and cubes[0][0]
