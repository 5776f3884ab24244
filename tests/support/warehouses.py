"""Warehouses for the tests: the demo build parameters, a copy helper, and independent counts
of the real data.police.uk files (small hand-built warehouses are in `tests.support.tiny`).

The demo and real-data warehouses themselves are session fixtures (`demo_link`,
`demo_warehouse`, `real_link` in the conftests), built once per test run; tests only read them.
Two years (April 2006 to March 2008) are enough for "this financial year against the last" and a
13-month sparkline, at less than half the build time of the default five.
"""

from __future__ import annotations

import csv
import shutil
from collections import Counter
from datetime import date
from pathlib import Path

from etl.lake.warehouse import WarehousePaths, new_version, writer_lock

DEMO_SEED = 2007
DEMO_YEARS = 2


def copy_warehouse(link: Path, directory: Path) -> Path:
    """A private copy of the warehouse at `link` (its version files, lake and symlink) in
    `directory`, for a test that writes: a shared session warehouse is never written to."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = WarehousePaths(link)
    for item in paths.directory.iterdir():
        # The store beside it (actions, users: dashboard/store/) is not part of the warehouse, nor
        # are the results kept beside it (dashboard/data/precomputed.py), which name the version
        # file's inode and so are never read for a copy: the shared demo's fill up as the run's
        # pages compute on it, and copying them was work for nothing.
        if not item.name.startswith(paths.stem + ".") or item.name.startswith(
                (paths.stem + ".store.", paths.stem + ".precomputed")):
            continue
        # Nor is a DuckDB spill folder (`<version file>.tmp/`): a reader of the shared demo in
        # another test may be spilling into it right now, so its files come and go mid-copy.
        if item.is_dir() and item.name.endswith(".duckdb.tmp"):
            continue
        target = directory / item.name
        if item.is_symlink():
            target.symlink_to(item.readlink())  # the link is relative to its directory
        elif item.is_dir():
            shutil.copytree(item, target, symlinks=True)
        else:
            shutil.copy2(item, target)
    return directory / link.name


def publish_new_version(link: Path) -> Path:
    """A new live version of the warehouse at `link`, with the same data, published the way a
    load publishes one (`etl.lake.warehouse.new_version`: a copy, the version stamp, a checkpoint,
    an atomic switch of the link, old versions collected), and returned.

    For tests of what survives a version switch (the store beside it, a running app): a full
    `etl.lake.rebuild.rebuild_warehouse` did the same for them at 87 s on the 2-year demo (under
    a second this way); the rebuild itself is tested in test_rebuild_and_stop_search.py."""
    paths = WarehousePaths(link)
    with writer_lock(paths), new_version(paths):
        pass
    live = paths.live()
    assert live is not None
    return live


# -- the real data.police.uk street files ---------------------------------------------------------


def street_dir(shared_data: Path) -> Path:
    return shared_data / "police_uk_street" / "geoinformation_in_society"


def month_folders(shared_data: Path) -> list[Path]:
    return sorted(p for p in street_dir(shared_data).iterdir() if p.is_dir())


def street_files(shared_data: Path) -> list[Path]:
    return sorted(p for p in street_dir(shared_data).glob("*/*-street.csv"))


def raw_counts(shared_data: Path) -> dict[tuple[str, date, str], int]:
    """Crimes per (force slug, month, crime type) counted from the raw CSVs with the csv module,
    independently of the loader: ASB rows are incidents (counted under their own type), and
    a Crime ID repeated within a force's month is one crime (blank IDs each count)."""
    counts: Counter[tuple[str, date, str]] = Counter()
    seen: set[tuple[str, date, str]] = set()
    for path in street_files(shared_data):
        # 2018-10-cheshire-street.csv -> cheshire
        force = path.name[len("2018-10-") : -len("-street.csv")]
        with open(path, encoding="utf-8-sig", newline="") as fh:
            for row in csv.DictReader(fh):
                year, month = row["Month"].split("-")
                m = date(int(year), int(month), 1)
                kind = row["Crime type"]
                crime_id = row["Crime ID"].strip()
                if kind != "Anti-social behaviour" and crime_id:
                    key = (force, m, crime_id)
                    if key in seen:
                        continue
                    seen.add(key)
                counts[(force, m, kind)] += 1
    return dict(counts)
