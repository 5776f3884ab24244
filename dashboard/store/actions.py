"""The PIM action tracker: actions agreed at a Performance Improvement Meeting, each with its
unit, measure (optional), owner, due date and status, and every change kept.

HMIC (2007, L787): "actions are allocated to specific owners as part of this process, with
dates for completion and reporting back". Pages, packs and the scorecard call these functions
and never the tables.

Two editors at once: every update names the version it was read at (`expected_version`); the
update is one `UPDATE ... WHERE id = ? AND version = ?`, so the second editor's save matches no
row and gets a ConflictError saying who changed the action and when. Nothing is overwritten
and nothing half-written: the update and its history rows are one transaction.
"""

from __future__ import annotations

from collections.abc import Collection, Container, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, insert, or_, select, update

from dashboard.data.access import Actor
from dashboard.store import schema
from dashboard.store.db import Store, aware, now
from dashboard.store.errors import ConflictError, NotFoundError, ValidationError
from etl.measures.registry import MEASURES

STATUSES: tuple[str, ...] = schema.STATUSES
STATUS_LABELS: dict[str, str] = {
    "open": "Open", "in_progress": "In progress", "done": "Done", "dropped": "Dropped",
}
OPEN_STATUSES: tuple[str, ...] = ("open", "in_progress")
# What an update may change; the rest (ids, who and when, version) the store keeps itself.
EDITABLE: tuple[str, ...] = ("unit_id", "measure_id", "description", "owner", "due", "meeting",
                             "status", "status_reason")
FIELD_LABELS: dict[str, str] = {
    "unit_id": "Unit", "measure_id": "Measure", "description": "Description", "owner": "Owner",
    "due": "Due date", "meeting": "Meeting", "status": "Status", "status_reason": "Reason",
}
MAX_DESCRIPTION = 2000
MAX_OWNER = 200
MAX_REASON = 1000


@dataclass(frozen=True)
class Action:
    id: int
    unit_id: str
    measure_id: str | None
    description: str
    owner: str
    due: date
    meeting: date
    status: str
    status_reason: str | None
    created_by: str
    created_at: datetime
    updated_by: str
    updated_at: datetime
    version: int

    def overdue(self, as_of: date) -> bool:
        """Past its due date and neither done nor dropped."""
        return self.status in OPEN_STATUSES and self.due < as_of

    @property
    def status_label(self) -> str:
        return STATUS_LABELS.get(self.status, self.status)


@dataclass(frozen=True)
class Change:
    """One field of one action changed: who, when, from what to what (text, None for empty)."""

    action_id: int
    version: int
    changed_by: str
    changed_at: datetime
    field: str
    old_value: str | None
    new_value: str | None

    @property
    def field_label(self) -> str:
        return FIELD_LABELS.get(self.field, self.field)


def actor_id(actor: Actor | str) -> str:
    return actor.id if isinstance(actor, Actor) else str(actor)


# -- reading ---------------------------------------------------------------------------------


def _action(row: Any) -> Action:
    return Action(
        id=row.id, unit_id=row.unit_id, measure_id=row.measure_id, description=row.description,
        owner=row.owner, due=row.due, meeting=row.meeting, status=row.status,
        status_reason=row.status_reason, created_by=row.created_by,
        created_at=aware(row.created_at), updated_by=row.updated_by,
        updated_at=aware(row.updated_at), version=row.version,
    )


def get_action(store: Store, action_id: int) -> Action:
    with store.connect() as conn:
        row = conn.execute(select(schema.actions).where(schema.actions.c.id == action_id)).first()
    if row is None:
        raise NotFoundError(f"There is no action {action_id}.")
    return _action(row)


def list_actions(
    store: Store,
    *,
    unit_id: str | None = None,
    include_below: bool = True,
    owner: str | None = None,
    meeting: date | None = None,
    statuses: Collection[str] | None = None,
) -> list[Action]:
    """Actions matching every filter given, soonest due first. `unit_id` with `include_below`
    also matches the units below it (ids starting with `unit_id + "/"`); `owner` matches
    whatever its case and surrounding spaces."""
    t = schema.actions
    query = select(t)
    if unit_id:
        if include_below:
            query = query.where(or_(t.c.unit_id == unit_id,
                                    t.c.unit_id.startswith(unit_id + "/", autoescape=True)))
        else:
            query = query.where(t.c.unit_id == unit_id)
    if owner and owner.strip():
        query = query.where(func.lower(t.c.owner) == owner.strip().lower())
    if meeting is not None:
        query = query.where(t.c.meeting == meeting)
    if statuses is not None:
        query = query.where(t.c.status.in_(list(statuses)))
    query = query.order_by(t.c.due, t.c.id)
    with store.connect() as conn:
        return [_action(r) for r in conn.execute(query)]


def owners(store: Store) -> list[str]:
    """Every owner named on an action, one spelling per owner whatever its case (the filter
    matches any case), in alphabetical order."""
    t = schema.actions
    with store.connect() as conn:
        names = sorted(r[0] for r in conn.execute(select(t.c.owner).distinct()))
    first: dict[str, str] = {}
    for name in names:
        first.setdefault(name.lower(), name)
    return sorted(first.values(), key=str.lower)


def meetings(store: Store) -> list[date]:
    """Every meeting date an action was raised at, latest first."""
    t = schema.actions
    with store.connect() as conn:
        return [r[0] for r in conn.execute(select(t.c.meeting).distinct().order_by(t.c.meeting.desc()))]


def history(store: Store, action_id: int) -> list[Change]:
    """Every change of the action, oldest first (its creation included)."""
    t = schema.action_history
    query = select(t).where(t.c.action_id == action_id).order_by(t.c.version, t.c.id)
    with store.connect() as conn:
        return [Change(r.action_id, r.version, r.changed_by, aware(r.changed_at), r.field,
                       r.old_value, r.new_value) for r in conn.execute(query)]


# -- checking --------------------------------------------------------------------------------


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _date(value: Any, label: str, errors: dict[str, str], field: str) -> date | None:
    if value is None or value == "":
        errors[field] = f"Give the {label}."
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip()[:10])
    except ValueError:
        errors[field] = f"The {label} must be a date written like 2008-04-30, not {str(value)[:20]!r}."
        return None


def _fmt(d: date) -> str:
    return f"{d.day} {d:%b %Y}"


def clean(
    fields: Mapping[str, Any],
    *,
    units: Container[str] | None = None,
    measures: Container[str] | None = None,
) -> dict[str, Any]:
    """The fields of an action checked and tidied, or a ValidationError naming every field that
    is wrong and why. `units`: the unit ids that exist (the warehouse's), when known;
    `measures`: the measure ids that exist (default: the measure registry)."""
    errors: dict[str, str] = {}
    out: dict[str, Any] = {}
    unit_id = _text(fields.get("unit_id"))
    if not unit_id:
        errors["unit_id"] = "Choose the unit the action is for."
    elif units is not None and unit_id not in units:
        errors["unit_id"] = f"There is no unit {unit_id!r} in the warehouse: choose one from the picker."
    out["unit_id"] = unit_id
    measure_id = _text(fields.get("measure_id")) or None
    known_measures = MEASURES if measures is None else measures
    if measure_id is not None and measure_id not in known_measures:
        errors["measure_id"] = f"There is no measure {measure_id!r}: choose one from the list, or none."
    out["measure_id"] = measure_id
    description = _text(fields.get("description"))
    if not description:
        errors["description"] = "Describe the action: the description is empty."
    elif len(description) > MAX_DESCRIPTION:
        errors["description"] = (f"The description is {len(description)} characters long; "
                                 f"keep it under {MAX_DESCRIPTION}.")
    out["description"] = description
    owner = _text(fields.get("owner"))
    if not owner:
        errors["owner"] = "Name the owner: every action needs one person who answers for it."
    elif len(owner) > MAX_OWNER:
        errors["owner"] = f"The owner's name is {len(owner)} characters long; keep it under {MAX_OWNER}."
    out["owner"] = owner
    meeting = _date(fields.get("meeting"), "date of the meeting that raised the action", errors, "meeting")
    due = _date(fields.get("due"), "due date", errors, "due")
    if due is not None and meeting is not None and due < meeting:
        errors["due"] = (f"The due date ({_fmt(due)}) is before the meeting ({_fmt(meeting)}): "
                         "an action cannot be due before the meeting that raised it.")
    out["due"], out["meeting"] = due, meeting
    status = _text(fields.get("status")) or "open"
    if status not in STATUSES:
        errors["status"] = (f"Unknown status {status[:30]!r}: choose open, in progress, done or dropped.")
    out["status"] = status
    reason = _text(fields.get("status_reason")) or None
    if status == "dropped" and reason is None:
        errors["status_reason"] = "Say why the action is dropped: a reason is required."
    elif reason is not None and len(reason) > MAX_REASON:
        errors["status_reason"] = f"The reason is {len(reason)} characters long; keep it under {MAX_REASON}."
    out["status_reason"] = reason
    if errors:
        raise ValidationError(errors)
    return out


def _as_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


# -- writing ---------------------------------------------------------------------------------


def create_action(
    store: Store,
    *,
    unit_id: str,
    description: str,
    owner: str,
    due: date | str | None,
    meeting: date | str | None,
    actor: Actor | str,
    measure_id: str | None = None,
    status: str = "open",
    status_reason: str | None = None,
    units: Container[str] | None = None,
    measures: Container[str] | None = None,
) -> Action:
    """Raise an action (version 1); its history starts with one row per field set."""
    fields = clean(
        {"unit_id": unit_id, "measure_id": measure_id, "description": description, "owner": owner,
         "due": due, "meeting": meeting, "status": status, "status_reason": status_reason},
        units=units, measures=measures,
    )
    who, when = actor_id(actor), now()
    with store.begin() as conn:
        new_id = conn.execute(
            insert(schema.actions).values(
                **fields, created_by=who, created_at=when, updated_by=who, updated_at=when, version=1,
            )
        ).inserted_primary_key[0]
        rows = [
            {"action_id": new_id, "version": 1, "changed_by": who, "changed_at": when, "field": name,
             "old_value": None, "new_value": _as_text(fields[name])}
            for name in EDITABLE if fields[name] is not None
        ]
        conn.execute(insert(schema.action_history), rows)
    return get_action(store, new_id)


def _conflict(current: Action) -> ConflictError:
    return ConflictError(f"Action {current.id}", current.updated_by, current.updated_at, current.version)


def update_action(
    store: Store,
    action_id: int,
    expected_version: int,
    changes: Mapping[str, Any],
    actor: Actor | str,
    *,
    units: Container[str] | None = None,
    measures: Container[str] | None = None,
) -> Action:
    """Change some fields of an action read at `expected_version`. A stale version raises
    ConflictError (who changed it, when) and writes nothing; bad values raise ValidationError.
    Changing the status without a reason clears the old status's reason. Saving the same values
    again changes nothing and keeps the version."""
    unknown = [k for k in changes if k not in EDITABLE]
    if unknown:
        raise ValidationError({k: f"{k!r} cannot be changed on an action." for k in unknown})
    current = get_action(store, action_id)
    if current.version != expected_version:
        raise _conflict(current)
    merged = {name: getattr(current, name) for name in EDITABLE}
    merged.update(changes)
    if "status" in changes and "status_reason" not in changes and changes["status"] != current.status:
        merged["status_reason"] = None
    fields = clean(merged, units=units if "unit_id" in changes else None, measures=measures)
    changed = {name: value for name, value in fields.items() if value != getattr(current, name)}
    if not changed:
        return current
    who, when = actor_id(actor), now()
    t = schema.actions
    with store.begin() as conn:
        result = conn.execute(
            update(t)
            .where(t.c.id == action_id, t.c.version == expected_version)
            .values(**changed, updated_by=who, updated_at=when, version=t.c.version + 1)
        )
        stale = result.rowcount != 1  # saved by someone else since we read it: nothing written
        if not stale:
            conn.execute(insert(schema.action_history), [
                {"action_id": action_id, "version": expected_version + 1, "changed_by": who,
                 "changed_at": when, "field": name, "old_value": _as_text(getattr(current, name)),
                 "new_value": _as_text(value)}
                for name, value in changed.items()
            ])
    if stale:
        raise _conflict(get_action(store, action_id))
    return get_action(store, action_id)
