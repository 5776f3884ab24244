"""Where a partition's file lives in the lake: one layout that DuckDB, Spark and Trino all read
with hive partitioning ON and get the files' own typed columns back.

    <dataset>/source=<source>/force_id=<force_id>/month=<YYYY-MM-DD>/<load_id>.parquet
    <dataset>/source=<source>/month=<YYYY-MM-DD>/<load_id>.parquet       (force-level datasets)

Force-level datasets (one row per force, month and category or measure: the national
comparators) hold every force of a load in one file a month (`month_path`): a file per force
and month made the demo write 5,040 files of 7 to 14 rows in 5,040 folders, and creating those
inodes was a fifth of the demo build's CPU (issue 11 item 6). The manifest still has one row per
(force, month), each naming the month's file; a force whose rows a later load replaced (or
real data removed) is no longer listed for that file, so every reader of these files takes a
file's rows only for the (force, month) rows the manifest lists for it, matched on the file's
load id (`etl.cubes.crime.listed_rows`).

Each folder key is either a column the files do not hold (`source`) or a column they do hold
with exactly its value and a value that the readers' type inference reads as the column's
type (`force_id` text; `month` the first day of the month, which DuckDB's hive_types_autocast
and Spark's partition inference both read as a DATE). Lakes written before this layout used
`force=<force_id>/month=<YYYY-MM>`: there the folder's `month` ('2019-01', text) overrode the
files' DATE, so every reader had to turn hive partitioning off. `python -m etl rebuild` moves
such a lake's live files to this layout (etl/lake/rebuild.py); readers go by the manifest's
paths, so both layouts read correctly with hive partitioning off, as everything here does.
"""

from __future__ import annotations

import os
import re
import shutil
from datetime import date
from pathlib import Path

import duckdb

from etl.lake.warehouse import fsync_dir, fsync_file

# this layout (a partition's file; a month's file of a force-level dataset), then the one before it
_PATH = re.compile(r"^([^/]+)/source=([^/]+)/force_id=([^/]+)/month=(\d{4}-\d{2})-01/([^/]+)\.parquet$")
_MONTH_PATH = re.compile(r"^([^/]+)/source=([^/]+)/month=(\d{4}-\d{2})-01/([^/]+)\.parquet$")
_OLD_PATH = re.compile(r"^([^/]+)/source=([^/]+)/force=([^/]+)/month=(\d{4}-\d{2})/([^/]+)\.parquet$")
# a glob matching partition files of either layout
GLOB = "*/source=*/*=*/month=*/*.parquet"
# a glob matching the month files of force-level datasets
MONTH_GLOB = "*/source=*/month=*/*.parquet"
# the force of a month file's path (parse): every force the file holds
EVERY_FORCE = ""


def lake_path(dataset: str, source: str, force_id: str, month: date, load_id: str) -> str:
    """A partition file's path relative to the lake."""
    return f"{dataset}/source={source}/force_id={force_id}/month={month:%Y-%m-%d}/{load_id}.parquet"


def month_path(dataset: str, source: str, month: date, load_id: str) -> str:
    """A force-level dataset's month file (every force of the load), relative to the lake."""
    return f"{dataset}/source={source}/month={month:%Y-%m-%d}/{load_id}.parquet"


def parse(rel: str) -> tuple[str, str, str, str, str] | None:
    """(dataset, source, force_id, 'YYYY-MM', load_id) of a lake path in either layout;
    force_id is EVERY_FORCE for a month file."""
    m = _PATH.match(rel) or _OLD_PATH.match(rel)
    if m:
        return m.group(1, 2, 3, 4, 5)
    m = _MONTH_PATH.match(rel)
    return (m.group(1), m.group(2), EVERY_FORCE, m.group(3), m.group(4)) if m else None


def is_current(rel: str) -> bool:
    return _PATH.match(rel) is not None or _MONTH_PATH.match(rel) is not None


def is_month_file(rel: str) -> bool:
    return _MONTH_PATH.match(rel) is not None


def relayout(wcon: duckdb.DuckDBPyConnection, lake: Path) -> int:
    """Give every live lake file of the version being built (`wcon`) a path in this layout:
    a hard link (a copy where the filesystem has none) at the new path, the manifest pointed at
    it, the old path queued in lake_garbage so readers of the previous version can finish.
    Nothing is rewritten; returns how many files moved. Run inside `new_version`: a rebuild
    killed before its switch leaves the old version and its paths as they were (a link it
    made is reused by the next rebuild)."""
    moved = []
    for (rel,) in wcon.execute("SELECT path FROM lake_manifest ORDER BY path").fetchall():
        parsed = parse(rel)
        if parsed is None or is_current(rel) or not (lake / rel).exists():
            continue  # (a missing file is left to `status --verify` and repair to report)
        dataset, source, force_id, month, load_id = parsed
        new = lake_path(dataset, source, force_id, date.fromisoformat(month + "-01"), load_id)
        target = lake / new
        target.parent.mkdir(parents=True, exist_ok=True)
        if not target.exists():
            try:
                os.link(lake / rel, target)
            except OSError:  # no hard links here: a whole copy, renamed into place
                partial = target.with_name(target.name + ".tmp")
                shutil.copy2(lake / rel, partial)
                os.replace(partial, target)
        moved.append((rel, new))
    if moved:
        for f in {lake / new for _, new in moved}:
            fsync_file(f)
        for d in {(lake / new).parent for _, new in moved}:
            fsync_dir(d)
        wcon.execute("CREATE OR REPLACE TEMP TABLE _relayout (old VARCHAR, new VARCHAR)")
        wcon.executemany("INSERT INTO _relayout VALUES (?, ?)", moved)
        wcon.execute("UPDATE lake_manifest m SET path = r.new FROM _relayout r WHERE m.path = r.old")
        wcon.execute("INSERT INTO lake_garbage SELECT old, now() FROM _relayout")
        wcon.execute("DROP TABLE _relayout")
    return len(moved)
