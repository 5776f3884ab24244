"""The versioned warehouse file and its atomic switch.

Readers (dashboard workers) hold `warehouse.duckdb` open read-only. DuckDB forbids a writer
while any reader has a file open, and caches one database per path inside a process, so a
load never writes the live file: it copies the live version to a new versioned file
(`warehouse.v000042.duckdb`), changes that, checkpoints, and then repoints the
`warehouse.duckdb` symlink with `os.replace` (atomic on POSIX). A process killed at any
moment leaves either the old link or the new one, each pointing at a whole file.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb

from etl.limits import load_memory_bytes

SCHEMA_SQL = (Path(__file__).with_name("schema.sql")).read_text()
SCHEMA_VERSION = "3"  # 2: cube_measure_month/day for every measure; ref_* tables; 3: crime harm columns
# Old versions and orphaned lake files are kept this long so that a request that opened
# them just before a switch can finish.
GRACE_SECONDS = 600


@dataclass(frozen=True)
class WarehousePaths:
    """Every file a warehouse owns, derived from the link path the user names."""

    link: Path

    @property
    def directory(self) -> Path:
        return self.link.parent

    @property
    def stem(self) -> str:
        name = self.link.name
        return name[: -len(".duckdb")] if name.endswith(".duckdb") else name

    @property
    def lake(self) -> Path:
        return self.directory / f"{self.stem}.lake"

    @property
    def lock(self) -> Path:
        return self.directory / f"{self.stem}.lock"

    def version_file(self, number: int) -> Path:
        return self.directory / f"{self.stem}.v{number:06d}.duckdb"

    def versions(self) -> dict[int, Path]:
        pattern = re.compile(re.escape(self.stem) + r"\.v(\d{6})\.duckdb$")
        found: dict[int, Path] = {}
        if self.directory.exists():
            for p in self.directory.iterdir():
                m = pattern.match(p.name)
                if m:
                    found[int(m.group(1))] = p
        return found

    def live(self) -> Path | None:
        """The file readers should open now, or None when nothing has been loaded."""
        if self.link.is_symlink():
            target = self.link.resolve()
            return target if target.exists() else None
        if self.link.exists():
            return self.link
        return None


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_file(path: Path) -> None:
    with open(path, "rb") as fh:
        os.fsync(fh.fileno())


def apply_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create what is missing. A version copied from an older schema keeps its data; its
    cubes are marked for a full rebuild (see new_version_upgrades), and tables the new
    schema replaces by views are dropped first."""
    old = None
    if con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'meta'").fetchone()[0]:
        row = con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchall()
        old = row[0][0] if row else None
    if old is not None and old != SCHEMA_VERSION:
        # tables whose columns changed: recreated empty, then rebuilt from the lake
        for table in ("cube_service_month", "cube_service_day", "cube_crime_month", "cube_crime_day"):
            if con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = ?",
                           [table]).fetchone()[0]:
                con.execute(f"DROP TABLE {table}")
    con.execute(SCHEMA_SQL)
    if old is not None and old != SCHEMA_VERSION:
        con.execute("INSERT OR REPLACE INTO meta VALUES ('upgraded_from', ?)", [old])
    con.execute(
        "INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)", [SCHEMA_VERSION]
    )


def new_version_upgrades(con: duckdb.DuckDBPyConnection) -> bool:
    """True once for a version copied from an older schema: its cubes must be rebuilt."""
    rows = con.execute("SELECT value FROM meta WHERE key = 'upgraded_from'").fetchall()
    if rows:
        con.execute("DELETE FROM meta WHERE key = 'upgraded_from'")
    return bool(rows)


@contextlib.contextmanager
def writer_lock(paths: WarehousePaths) -> Iterator[None]:
    """One writer at a time; a second load waits rather than racing for the same version."""
    paths.directory.mkdir(parents=True, exist_ok=True)
    with open(paths.lock, "a+") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


@contextlib.contextmanager
def new_version(paths: WarehousePaths, base: Path | None = None) -> Iterator[duckdb.DuckDBPyConnection]:
    """Yield a read-write connection to the next version; publish it if the block succeeds.
    It starts as a copy of the live version, or of `base` (an older version that reads
    whole, when the live one is damaged: etl/lake/repair.py).

    The caller must already hold `writer_lock`. On any exception the new file is removed
    and the live warehouse is untouched.
    """
    _remove_stale_temporaries(paths)
    versions = paths.versions()
    number = max(versions, default=0) + 1
    final = paths.version_file(number)
    tmp = final.with_name(final.name + ".tmp")
    live = base if base is not None else paths.live()
    if live is not None:
        shutil.copyfile(live, tmp)
    # A bound whatever the history's size: the cube rebuild over a big lake spills, not grows.
    con = duckdb.connect(str(tmp), config={"memory_limit": f"{load_memory_bytes() // 2 >> 20}MB"})
    try:
        apply_schema(con)
        yield con
        con.execute(
            "INSERT OR REPLACE INTO meta VALUES ('version', ?), ('built_at', ?)",
            [str(number), datetime.now().isoformat(timespec="seconds")],
        )
        con.execute("CHECKPOINT")
        con.close()
    except BaseException:
        with contextlib.suppress(Exception):
            con.close()
        for p in (tmp, Path(str(tmp) + ".wal")):
            with contextlib.suppress(FileNotFoundError):
                p.unlink()
        raise
    fsync_file(tmp)
    os.replace(tmp, final)
    _publish(paths, final)
    collect_garbage(paths)


def _publish(paths: WarehousePaths, target: Path) -> None:
    tmp_link = paths.directory / f".{paths.stem}.link.tmp"
    with contextlib.suppress(FileNotFoundError):
        tmp_link.unlink()
    os.symlink(target.name, tmp_link)
    os.replace(tmp_link, paths.link)
    fsync_dir(paths.directory)


def _remove_stale_temporaries(paths: WarehousePaths) -> None:
    """Left by a killed load. Safe to remove: we hold the writer lock.

    DuckDB spills to a folder named after its database file plus `.tmp`: a reader of a
    published version (a web worker) may have `warehouse.vN.duckdb.tmp/` open, which this
    pattern also matches, and must keep it (it is DuckDB's to clear); a killed load's own
    spill folder (its temporary file's name plus `.tmp`) goes with the rest."""
    for p in paths.directory.glob(f"{paths.stem}.v*.duckdb.tmp*"):
        if not p.is_dir():
            p.unlink(missing_ok=True)
        elif p.with_suffix("").name.endswith(".tmp"):
            shutil.rmtree(p, ignore_errors=True)
    (paths.directory / f".{paths.stem}.link.tmp").unlink(missing_ok=True)


def recover_killed_loads(paths: WarehousePaths) -> None:
    """Remove what loads killed before their switch left in the lake. Call with the writer
    lock held and before this load writes anything."""
    incoming = paths.lake / ".incoming"
    if incoming.exists():
        # Each folder here is a load that was killed before it switched the warehouse.
        # Files it wrote into the lake are named <load_id>.parquet (or <load_id>.part<n>.parquet
        # before their rename) and are not in the live manifest: remove them. Normal loads
        # never pay for this scan.
        stale = [d.name for d in incoming.iterdir()]
        if stale:
            live = paths.live()
            referenced: set[str] = set()
            if live is not None:
                con = duckdb.connect(str(live), read_only=True)
                try:
                    referenced = {r[0] for r in con.execute(
                        "SELECT path FROM lake_manifest").fetchall()}
                finally:
                    con.close()
            for load_id in stale:
                for p in paths.lake.rglob(f"{load_id}*.parquet"):
                    if p.relative_to(paths.lake).as_posix() not in referenced:
                        p.unlink(missing_ok=True)
                shutil.rmtree(incoming / load_id, ignore_errors=True)


def collect_garbage(paths: WarehousePaths, now: float | None = None) -> None:
    """Remove old versions and orphaned lake files once no request can still be using them."""
    now = time.time() if now is None else now
    live = paths.live()
    versions = paths.versions()
    ordered = sorted(versions)
    keep = set(ordered[-2:])  # the live version and the one before it
    for number, path in versions.items():
        if number in keep or path == live:
            continue
        if now - path.stat().st_mtime > GRACE_SECONDS:
            path.unlink(missing_ok=True)


def connect_readonly(link: Path) -> duckdb.DuckDBPyConnection:
    """Open the live version read-only (resolving the link, so a switch is seen)."""
    paths = WarehousePaths(link)
    live = paths.live()
    if live is None:
        raise FileNotFoundError(
            f"No warehouse at {link}. Build one with `python -m etl demo` or load data with "
            "`python -m etl load police-uk PATH`."
        )
    return duckdb.connect(str(live), read_only=True)
