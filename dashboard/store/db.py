"""Where the store lives, and opening it: one SQLAlchemy engine per database URL per process,
migrated to the newest schema the first time it is opened.

Location, first match wins:
    1. `url` given to `open_store` (any SQLAlchemy URL, e.g. postgresql+psycopg://...)
    2. $LG_STORE_URL
    3. an SQLite file beside the warehouse: `data/warehouse.duckdb` -> `data/warehouse.store.sqlite`

Never inside the warehouse: the warehouse is read-only to the dashboard and each load builds a
new versioned file, so anything written there would vanish at the next load.

SQLite is opened in WAL mode with a busy timeout, so several gunicorn workers (processes) can
read while one writes; optimistic locking (actions.update_action) decides between two editors.
Migrations are Alembic's (migrations/), run on first open under a lock (a file lock beside an
SQLite file, an advisory lock on PostgreSQL) so two workers starting together do not both
create the tables.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url

from dashboard.store.errors import StoreError
from etl.config import warehouse_path
from etl.lake.warehouse import WarehousePaths

STORE_URL_ENV = "LG_STORE_URL"
MIGRATIONS = Path(__file__).resolve().parent / "migrations"
# Any constant: the key of the PostgreSQL advisory lock taken while migrating.
PG_MIGRATION_LOCK = 7_200_714


@dataclass(frozen=True)
class Store:
    """An open store: the engine of one database. Services take it as their first argument."""

    url: str  # for messages: the password, if any, hidden
    engine: Engine

    @contextlib.contextmanager
    def begin(self) -> Iterator[Connection]:
        """One transaction: committed at the end of the block, rolled back on an error."""
        with self.engine.begin() as conn:
            yield conn

    @contextlib.contextmanager
    def connect(self) -> Iterator[Connection]:
        """A connection for reads."""
        with self.engine.connect() as conn:
            yield conn


def default_path(warehouse_link: Path) -> Path:
    """The SQLite file beside the warehouse link: `<dir>/<stem>.store.sqlite`."""
    paths = WarehousePaths(Path(warehouse_link))
    return paths.directory / f"{paths.stem}.store.sqlite"


def store_url(warehouse_link: Path | None = None, url: str | None = None) -> str:
    """The store's URL: `url`, else $LG_STORE_URL, else SQLite beside the warehouse."""
    if url:
        return url
    env = os.environ.get(STORE_URL_ENV, "").strip()
    if env:
        return env
    path = default_path(warehouse_path(warehouse_link)).resolve()
    return f"sqlite:///{path}"


def now() -> datetime:
    """The time stored with a change: naive UTC (see schema.py)."""
    return datetime.now(UTC).replace(tzinfo=None)


def aware(value: datetime) -> datetime:
    """A stored time as aware UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


_STORES: dict[tuple[int, str], Store] = {}
_LOCK = threading.Lock()


def open_store(warehouse_link: Path | None = None, url: str | None = None) -> Store:
    """The store for this warehouse (or URL), migrated to the newest schema; one per URL per
    process (a forked worker opens its own: engines must not cross a fork)."""
    resolved = store_url(warehouse_link, url)
    key = (os.getpid(), resolved)
    with _LOCK:
        found = _STORES.get(key)
        if found is None:
            found = _open(resolved)
            _STORES[key] = found
        return found


def close_all() -> None:
    """Forget every open store of this process (as a restart would)."""
    with _LOCK:
        for store in _STORES.values():
            store.engine.dispose()
        _STORES.clear()


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cur = dbapi_connection.cursor()
    cur.execute("PRAGMA foreign_keys = ON")
    cur.execute("PRAGMA busy_timeout = 30000")
    cur.execute("PRAGMA journal_mode = WAL")
    cur.close()


def _open(url: str) -> Store:
    parsed = make_url(url)
    sqlite_file: Path | None = None
    if parsed.get_backend_name() == "sqlite":
        if not parsed.database or parsed.database == ":memory:":
            raise ValueError("The store needs a database file, not an in-memory SQLite database.")
        sqlite_file = Path(parsed.database)
        if not sqlite_file.parent.is_dir():
            # A mistyped --warehouse must not leave a store in a new folder somewhere.
            raise StoreError(f"The folder of the store, {sqlite_file.parent}, does not exist: check "
                             "--warehouse / LG_WAREHOUSE, or set LG_STORE_URL.")
        engine = create_engine(parsed, connect_args={"timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
    else:
        engine = create_engine(parsed, pool_pre_ping=True)
    migrate(engine, sqlite_file)
    return Store(parsed.render_as_string(hide_password=True), engine)


@contextlib.contextmanager
def _file_lock(path: Path | None) -> Iterator[None]:
    if path is None:
        yield
        return
    with open(path.with_name(path.name + ".migrate.lock"), "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def migrate(engine: Engine, sqlite_file: Path | None = None) -> None:
    """Upgrade the database to the newest schema (Alembic `upgrade head`); nothing to do when
    it is there already. Serialised between processes (see the module docstring)."""
    cfg = alembic_config()
    with _file_lock(sqlite_file), engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": PG_MIGRATION_LOCK})
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
