"""`python -m dashboard audit --since ...`: who was handed individual-level data, newest first.

Reads the store's append-only audit log (dashboard/store/audit.py); a rich table by default,
or `--json`, one object per line (for a SIEM or `jq`). Times are UTC, given and shown.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from dashboard.store import audit as AU
from dashboard.store.db import open_store
from dashboard.store.errors import StoreError
from etl.config import warehouse_path

err = Console(stderr=True, highlight=False, soft_wrap=True)
out = Console(highlight=False, markup=False)  # stored text is never read as rich markup
SINCE_FORMATS = ("%Y-%m-%d", "%Y-%m-%dT%H:%M")


def parse_since(text: str) -> datetime:
    """'2026-12-01' or '2026-12-01T09:30' (UTC) as an aware time; BadParameter otherwise."""
    for fmt in SINCE_FORMATS:
        try:
            return datetime.strptime(text.strip(), fmt).replace(tzinfo=UTC)
        except ValueError:
            continue
    raise typer.BadParameter(f"{text[:40]!r} is not a date: use YYYY-MM-DD or YYYY-MM-DDTHH:MM (UTC).")


def audit(
    since: Annotated[str, typer.Option(
        "--since", help="From this UTC time on: YYYY-MM-DD or YYYY-MM-DDTHH:MM.")],
    user: Annotated[str | None, typer.Option("--user", help="Only this user's entries.")] = None,
    unit: Annotated[str | None, typer.Option(
        "--unit", help="Only this unit and the units below it.")] = None,
    as_json: Annotated[bool, typer.Option(
        "--json", help="One JSON object per line instead of a table.")] = False,
    warehouse: Annotated[Path | None, typer.Option(
        "--warehouse",
        help="Warehouse path (else $LG_WAREHOUSE, else data/warehouse.duckdb); the store sits beside "
        "it unless $LG_STORE_URL is set.")] = None,
) -> None:
    """Print the audit log of individual-level data handed out (records, map points, officers)."""
    start = parse_since(since)
    try:
        entries = AU.read(open_store(warehouse_path(warehouse)), since=start, user=user, unit=unit)
    except StoreError as exc:
        err.print(f"error: {exc}", markup=False)
        raise typer.Exit(1) from None
    if as_json:
        for e in entries:
            sys.stdout.write(json.dumps(e.as_json(), ensure_ascii=False) + "\n")
        sys.stdout.flush()
        return
    if not entries:
        err.print(f"No audit entries since {start:%Y-%m-%d %H:%M} UTC"
                  + (f" for user {user}" if user else "") + (f" for unit {unit}" if unit else "") + ".",
                  markup=False)
        return
    table = Table("at (UTC)", "user", "roles", "what", "via", "unit", "route", "detail", box=None)
    for e in entries:
        table.add_row(f"{e.at:%Y-%m-%d %H:%M:%S}", e.actor, e.roles, e.what, e.via, e.unit_id or "",
                      e.route, e.detail)
    out.print(table)
