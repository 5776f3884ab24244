"""Per-process, read-only access to the live warehouse version.

A load never writes the file the dashboard reads: it publishes a new versioned file and
repoints the `warehouse.duckdb` symlink (see `etl.lake.warehouse`). So a reader must resolve the
link on every request (a cheap stat) to notice a switch without a restart.

DuckDB caches one database instance per path inside a process: connecting again to a path
that still has an open connection silently returns the *old* instance. We therefore keep
one connection per resolved version file, and before opening a path we make sure nothing of
ours is still open on it (that only matters if a version number is reused, e.g. after the
data directory was wiped and rebuilt).

Closing a DuckDB connection also kills the cursors made from it, so on a switch the old
connection is *retired* rather than closed at once: it is closed as soon as the last cursor
handed out from it has been garbage-collected (CPython frees a request's cursor when the
request returns), or after `etl.lake.warehouse.GRACE_SECONDS` at the latest.

The connection is opened lazily on first use, so a reader created before gunicorn forks its
workers still opens its connection inside each worker.
"""

from __future__ import annotations

import logging
import os
import threading
import time
import weakref
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from dashboard.data import limits
from etl.lake.warehouse import GRACE_SECONDS, WarehousePaths

log = logging.getLogger(__name__)


@dataclass(eq=False)
class _OpenVersion:
    """One open version file, and the cursors still alive on it."""

    path: Path
    identity: tuple[int, int]  # (st_dev, st_ino): tells a rebuilt file from the old one
    con: duckdb.DuckDBPyConnection
    cursors: weakref.WeakSet[duckdb.DuckDBPyConnection] = field(default_factory=weakref.WeakSet)
    retired_at: float | None = None

    def close(self) -> None:
        try:
            self.con.close()
        except duckdb.Error:  # already closed, or the file vanished: nothing left to free
            log.debug("closing %s failed", self.path, exc_info=True)


class WarehouseReader:
    """Read-only access to whatever version `link` points at right now.

    Thread-safe: Flask and gunicorn serve requests on several threads, and one DuckDB
    connection must not be used by two threads at once, so every request takes its own
    cursor with `cursor()`.
    """

    def __init__(self, link: Path) -> None:
        self.link = Path(link)
        self._paths = WarehousePaths(self.link)
        self._lock = threading.RLock()
        self._current: _OpenVersion | None = None
        self._retired: list[_OpenVersion] = []
        self._pid = os.getpid()
        self._settings = limits.duckdb_settings()  # read now: a wrong value stops the app at start

    # -- public -----------------------------------------------------------------------

    def connection(self) -> duckdb.DuckDBPyConnection:
        """The shared read-only connection to the live version (opening it if it changed).

        Do not run queries on it from request handlers: use `cursor()`, which also keeps
        the version open until the request is done with it.
        """
        with self._lock:
            return self._live().con

    def cursor(self) -> duckdb.DuckDBPyConnection:
        """A new cursor on the live version, for one request on one thread."""
        with self._lock:
            opened = self._live()
            cur = opened.con.cursor()
            opened.cursors.add(cur)
            return cur

    def version(self) -> str:
        """The live version's file name, e.g. `warehouse.v000042.duckdb` (for cache keys)."""
        return self._resolve()[0].name

    def version_key(self) -> tuple[str, int, int]:
        """(file name, device, inode) of the live version: a cache key that also tells a
        version rebuilt under a reused name from the old one."""
        path, identity = self._resolve()
        return (path.name, *identity)

    def close(self) -> None:
        """Close every connection this reader holds (tests, and orderly shutdown)."""
        with self._lock:
            for opened in [*self._retired, *([self._current] if self._current else [])]:
                opened.close()
            self._retired.clear()
            self._current = None

    # -- internals --------------------------------------------------------------------

    def _resolve(self) -> tuple[Path, tuple[int, int]]:
        live = self._paths.live()
        if live is None:
            raise FileNotFoundError(
                f"No warehouse at {self.link}. Build the demo one with `python -m etl demo` "
                "(or `make demo`), or load data with `python -m etl load police-uk PATH`."
            )
        st = live.stat()
        return live, (st.st_dev, st.st_ino)

    def _live(self) -> _OpenVersion:
        """Caller holds the lock."""
        if os.getpid() != self._pid:
            # Forked after opening (e.g. gunicorn --preload): the parent's DuckDB handles
            # are not ours to use. Forget them without touching them.
            self._current, self._retired, self._pid = None, [], os.getpid()
        path, identity = self._resolve()
        current = self._current
        if current is not None and current.path == path and current.identity == identity:
            self._reap()
            return current

        # The link moved (or the file under the same name was rebuilt).
        if current is not None:
            current.retired_at = time.monotonic()
            self._retired.append(current)
            self._current = None
        # Anything of ours still open on this exact path would make DuckDB hand back its
        # cached (stale) instance, so close it now even if a request is still using it.
        for opened in [o for o in self._retired if o.path == path]:
            opened.close()
            self._retired.remove(opened)
        self._reap()
        con = duckdb.connect(str(path), read_only=True)
        # Bounded per worker (dashboard/data/limits.py): DuckDB would otherwise let each
        # worker's buffer pool grow to 80% of the machine's memory. SET, not connect(config=):
        # a later plain connect to the same file in this process (the ETL's status, a test)
        # would be refused for a configuration that differs; after SET it shares the limit.
        for name, value in self._settings.items():  # names are ours, values are bound
            con.execute(f"SET {name} = ?", [value])
        self._current = _OpenVersion(path=path, identity=identity, con=con)
        log.info("warehouse reader opened %s", path)
        return self._current

    def _reap(self) -> None:
        """Close retired versions no request still uses (or that outlived the grace time)."""
        now = time.monotonic()
        keep: list[_OpenVersion] = []
        for opened in self._retired:
            idle = len(opened.cursors) == 0
            expired = opened.retired_at is not None and now - opened.retired_at > GRACE_SECONDS
            if idle or expired:
                opened.close()
                log.info("warehouse reader closed %s", opened.path)
            else:
                keep.append(opened)
        self._retired = keep
