"""The audit log: who was handed individual-level data, when, of which unit, through which route.

Append-only by construction: this module offers `append` and reads, nothing that changes or
removes an entry, and the database refuses UPDATE and DELETE on the table (triggers made by
migration 0003). Retention is not automatic: entries stay until an administrator of the
database removes them deliberately (docs/audit.md).

What is recorded, and when, is decided by the access seam (dashboard/data/facade.py `_audit`);
the route is added by the app's sink (dashboard/audit.py).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, or_, select

from dashboard.data.audit import AuditEvent
from dashboard.store import schema
from dashboard.store.db import Store, aware

# Widths of the text columns (see schema.py): longer values are cut, never refused, so an
# entry is always written (a refused write would withhold the data).
ACTOR_MAX = 100
UNIT_MAX = 300
ROUTE_MAX = 2000
DETAIL_MAX = 2000
VIA = ("page", "callback", "export", "api", "other")


@dataclass(frozen=True)
class Entry:
    id: int
    at: datetime     # aware UTC
    actor: str
    roles: str
    what: str
    via: str
    unit_id: str | None
    route: str
    detail: str

    def as_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["at"] = self.at.isoformat()
        return out


def append(store: Store, event: AuditEvent, via: str, route: str) -> int:
    """Write one entry (committed before this returns); returns its id."""
    if via not in VIA:
        raise ValueError(f"via must be one of {', '.join(VIA)}, not {via!r}")
    at = aware(event.at).replace(tzinfo=None)
    with store.begin() as conn:
        return int(conn.execute(insert(schema.audit_log).values(
            at=at, actor=event.actor[:ACTOR_MAX], roles=event.roles, what=event.what, via=via,
            unit_id=event.unit_id[:UNIT_MAX] if event.unit_id is not None else None,
            route=route[:ROUTE_MAX], detail=event.detail[:DETAIL_MAX],
        )).inserted_primary_key[0])


def read(store: Store, *, since: datetime | None = None, user: str | None = None,
         unit: str | None = None, limit: int | None = None) -> list[Entry]:
    """Entries newest first: from `since` (aware, or naive UTC) on, of one user, of one unit
    or any unit below it (unit ids are paths: 'cheshire/northern' covers
    'cheshire/northern/widnes/...'), at most `limit`."""
    t = schema.audit_log
    query = select(t).order_by(t.c.at.desc(), t.c.id.desc())
    if since is not None:
        query = query.where(t.c.at >= aware(since).replace(tzinfo=None))
    if user:
        query = query.where(t.c.actor == user)
    if unit:
        unit = unit.strip().rstrip("/")
        prefix = unit + "/"
        # a prefix compared by substr, not LIKE: a unit id may hold '_' or '%'
        query = query.where(or_(t.c.unit_id == unit,
                                func.substr(t.c.unit_id, 1, len(prefix)) == prefix))
    if limit is not None:
        query = query.limit(limit)
    with store.connect() as conn:
        return [Entry(r.id, aware(r.at), r.actor, r.roles, r.what, r.via, r.unit_id, r.route, r.detail)
                for r in conn.execute(query)]
