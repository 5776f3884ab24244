"""How much memory one dashboard worker may spend on results and on DuckDB (docs/dashboard.md,
"Memory per worker").

A worker of the README's serving command should stay under 400 MB: about 200 MB is Python,
Dash, pandas and SciPy themselves; the rest is shared by the result cache and DuckDB's buffer
pool. Both are bounded here, each by an environment variable read when the app starts, so a
wrong value stops the server at start-up with the variable's name rather than at the first
request.
"""

from __future__ import annotations

import os

CACHE_ENV = "LG_CACHE_MB"               # the result cache (dashboard/data/cache.py)
DUCKDB_MEMORY_ENV = "LG_DUCKDB_MEMORY_MB"  # DuckDB's memory_limit per connection (per worker)
DUCKDB_THREADS_ENV = "LG_DUCKDB_THREADS"   # DuckDB's threads per connection

DEFAULT_CACHE_MB = 96
DEFAULT_DUCKDB_MEMORY_MB = 128
# A reader's queries are small (cube rows of a few units); two threads is all the parallelism
# a query needs, and gunicorn's workers share the cores anyway.
DEFAULT_DUCKDB_THREADS = 2

MB = 1024 * 1024


def env_int(name: str, default: int, minimum: int = 1) -> int:
    """A whole number from the environment, `default` when unset or blank. Anything else is a
    ValueError naming the variable, what it holds and what it must be."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        value = None
    if value is None or value < minimum:
        raise ValueError(f"{name} must be a whole number of at least {minimum}, not {raw!r}")
    return value


def cache_bytes() -> int:
    """The result cache's bound in bytes ($LG_CACHE_MB, default 96 MB)."""
    return env_int(CACHE_ENV, DEFAULT_CACHE_MB) * MB


def duckdb_settings() -> dict[str, str]:
    """The settings of every read-only connection the dashboard opens (megabytes are MiB, as
    DuckDB reports them): DuckDB's own default
    memory limit is 80% of the machine's memory, per process, which several workers would
    each claim."""
    return {
        "memory_limit": f"{env_int(DUCKDB_MEMORY_ENV, DEFAULT_DUCKDB_MEMORY_MB)}MiB",
        "threads": str(env_int(DUCKDB_THREADS_ENV, DEFAULT_DUCKDB_THREADS)),
    }
