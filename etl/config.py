"""Where the warehouse lives, resolved one way for the CLI, the dashboard and the tests."""

from __future__ import annotations

import os
from pathlib import Path

DEFAULT_WAREHOUSE = Path("data/warehouse.duckdb")


def warehouse_path(explicit: str | os.PathLike[str] | None = None) -> Path:
    """`--warehouse`, else `LG_WAREHOUSE`, else `data/warehouse.duckdb`.

    The result is the *link* path readers open; the versioned files live beside it.
    """
    if explicit:
        return Path(explicit)
    env = os.environ.get("LG_WAREHOUSE")
    if env:
        return Path(env)
    return DEFAULT_WAREHOUSE
