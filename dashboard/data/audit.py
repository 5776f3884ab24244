"""What the access seam records when it hands out individual-level data, and the small
interface it records through.

`DataAccess` (dashboard/data/facade.py) calls `sink.record(event)` each time it hands out
crime-level records, map points or an officer's figures (docs/audit.md says exactly which
calls), after the access check and whatever the cache answered: a cached result is still a
view. The running app wires a sink that writes to the store's append-only `audit_log`
(dashboard/audit.py); scripts and benchmarks that build a `DataAccess` of their own have no
sink and record nothing.

Why an interface and not the store itself: the data layer reads the warehouse and knows
nothing of SQLAlchemy, Flask or Dash (the store is another database, the route belongs to
the web request). The sink adds the request's route and writes; the facade decides *what*
is individual-level and *when* it is handed out, in one place, so no page, callback, export
or API route has to remember to log.

Fail closed: if the sink fails, the facade raises `AuditUnavailable` and the data is not
handed out. It is a `PermissionError`, so every path that already withholds a refused unit
(the router's message, the exports' "nothing sent", the API's error answer) withholds this
too, with the plain words below and never the failure's own text.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

# The kinds of individual-level data the seam records (the audit log's `what`).
RECORDS = "records"              # crime-level records: the drill-through grid and its CSV/XLSX
MAP_POINTS = "map points"        # the records' coordinates: the NPU map and its CSV
OFFICER = "officer figures"      # one officer's figures: the Officer page (and any figure of an officer unit)
OFFICER_LIST = "officer list"    # a list naming officers with their ids: the API's /units
KINDS = (RECORDS, MAP_POINTS, OFFICER, OFFICER_LIST)

UNAVAILABLE = ("This could not be recorded in the audit log, so it is not shown. Try again in a "
               "minute; if it goes on, tell an administrator.")


class AuditUnavailable(PermissionError):
    """The audit entry could not be written, so the data is withheld (see the module docstring).
    Its text is always `UNAVAILABLE`: the cause goes to the server log only."""

    def __init__(self) -> None:
        super().__init__(UNAVAILABLE)


@dataclass(frozen=True)
class AuditEvent:
    """One hand-out of individual-level data, as the seam knows it. `detail`: what of it, as
    short 'key=value' pairs (measure, period, rows returned)."""

    at: datetime              # aware UTC
    actor: str                # the user's name, or 'anonymous'
    roles: str                # 'role (scope); role (scope)', '' for the anonymous actor
    what: str                 # one of KINDS
    unit_id: str | None       # the unit whose data it is (None: a list across units)
    detail: str


class AuditSink(Protocol):
    """Where the seam records: `record` returns once the event is stored, or raises."""

    def record(self, event: AuditEvent) -> None: ...
