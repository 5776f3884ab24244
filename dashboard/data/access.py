"""The one place that decides "may this actor see this unit, this level, these records?".

Every request has an actor (datasette's rule): the pages, their callbacks, the API and the CSV
exports all read through `DataAccess`, and `DataAccess` asks these functions before it hands
out a unit, a list of units, a page of records, a map point or a column. Nothing else in the
dashboard checks roles, levels or columns (docs/access.md).

Roles are defined once, here (`ROLES`). An actor holds grants: a role on a unit (its scope).
A user may hold several; what they may see is the union. The rule, from HMIC's criticism that
Looking Glass "does not allow analysis of individual performance" (L781) and its insistence
that a police authority member sees aggregates only (L779):

- Aggregates of a force (the force, its BCUs and NPUs) are open to every actor with a grant
  in that force: that is the police authority member's view (L779), and a BCU commander or an
  officer sees at least what a lay member of the authority sees, so the PIM can set a BCU
  beside the force and its sibling BCUs. Force-level figures of every force are open to every
  actor: they are the published comparators of the Compare page.
- Fine levels (teams, officers) and crime-level records (the records grid, its CSV, map
  points) only inside the grant's scope, and only for roles that may see them: chief officer
  and analyst (their force, or every force), BCU commander (own BCU and below), NPU inspector
  (own NPU and below), officer (their own record only). A police authority member never sees
  a team, an officer, a record or a map point.
- An officer id in a record is shown only when the actor may see that officer.

The anonymous actor (only in LG_AUTH=open mode with no users yet: the test suite, a private
laptop) keeps the rule the dashboard always had: every force, BCU, NPU and team, their
records, and nothing individual (no officer level, no officer ids). Otherwise sign-in refuses
a request with no signed-in user before it reaches any of this (dashboard/signin.py).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from etl import hierarchy, units

log = logging.getLogger("dashboard.access")

# What the screen and the API say when a unit is refused: the same words whether the unit
# does not exist or exists out of scope, so a refusal never reveals which.
NOT_AVAILABLE = "not available to your role"
# Said where the anonymous actor meets the officer level (no one signed in).
OFFICER_OFF = "The officer level is not available to your role: it needs a signed-in role that allows it."
# Kept for callers written before roles existed.
AGGREGATE_LEVELS: tuple[str, ...] = ("force", "bcu", "npu")


@dataclass(frozen=True)
class Role:
    """What a role is: its id (stored with a user's grants), its label, the level its scope
    unit must be at (None: a force, or every force), and what it may see inside that scope."""

    id: str
    label: str
    scope_level: str        # the level of the unit a grant of this role names
    force_wide: bool        # a grant may name no unit at all: every force loaded
    fine: bool              # teams and officers inside the scope
    records: bool           # crime-level records and map points inside the scope
    sees: str               # one line for docs and the Help page


ROLES: dict[str, Role] = {
    r.id: r
    for r in (
        Role("chief_officer", "Chief officer", "force", True, True, True,
             "the whole force: every level down to officers, records and map points"),
        Role("analyst", "Analyst", "force", True, True, True,
             "the whole force: every level down to officers, records and map points"),
        Role("bcu_commander", "BCU commander", "bcu", False, True, True,
             "own BCU and below (teams, officers, records); the force's aggregates to NPU"),
        Role("npu_inspector", "NPU inspector", "npu", False, True, True,
             "own NPU and below (teams, officers, records); the force's aggregates to NPU"),
        Role("police_authority", "Police authority member", "force", True, False, False,
             "aggregates to NPU only: no teams, officers, records or map points"),
        Role("officer", "Officer", "officer", False, True, True,
             "own officer page and own records; the force's aggregates to NPU"),
    )
}


@dataclass(frozen=True)
class Grant:
    """A role on a unit. `unit_id` None: a force-wide role over every force loaded."""

    role: str
    unit_id: str | None = None

    def __post_init__(self) -> None:
        role = ROLES.get(self.role)
        if role is None:
            raise ValueError(f"unknown role {self.role!r}; known: {', '.join(ROLES)}")
        if self.unit_id is None and not role.force_wide:
            raise ValueError(f"role {self.role!r} needs a unit (a {role.scope_level})")


@dataclass(frozen=True)
class Actor:
    """Who is asking: an id (the user's name; 'anonymous' when no one signed in), the grants
    they hold, and whether they administer the dashboard (`users add --admin`: reads the
    audit log). The user store (dashboard/store) turns a signed-in user into one."""

    id: str
    grants: tuple[Grant, ...] = field(default_factory=tuple)
    admin: bool = False

    @property
    def anonymous(self) -> bool:
        return not self.grants and self.id == ANONYMOUS_ID

    @property
    def roles(self) -> frozenset[str]:
        return frozenset(g.role for g in self.grants)


ANONYMOUS_ID = "anonymous"
ANONYMOUS = Actor(ANONYMOUS_ID)


class UnitLike(Protocol):
    unit_id: str
    level: str
    force_id: str


# -- the checks ------------------------------------------------------------------------


def _in_force(grant: Grant, force_id: str) -> bool:
    """Whether the grant's scope lies in (or covers) the force (unit ids begin with their
    force's id: etl/units.py)."""
    return grant.unit_id is None or units.force_of(grant.unit_id) == force_id


def _inside(grant: Grant, unit: UnitLike, lineage: Sequence[str]) -> bool:
    """Whether `unit` is the grant's scope unit or below it. `lineage`: the unit's ids from
    its force down to itself (DataAccess.path)."""
    if grant.unit_id is None:
        return True
    return grant.unit_id == unit.unit_id or grant.unit_id in lineage


def may_see_level(actor: Actor, level: str) -> bool:
    """Whether the actor may see units of `level` anywhere (levels in the picker and the API's
    list, the officer id column). Officers: only for a role that sees individuals."""
    found = hierarchy.BY_ID.get(level)
    if found is None:
        return False
    if actor.anonymous:
        return not found.individual
    if level in AGGREGATE_LEVELS:
        return True
    return any(ROLES[g.role].fine for g in actor.grants)


def visible_levels(actor: Actor) -> tuple[str, ...]:
    """The levels the actor may see, force first."""
    return tuple(lv.id for lv in hierarchy.LEVELS if may_see_level(actor, lv.id))


def may_see_unit(actor: Actor, unit: UnitLike, lineage: Sequence[str] = ()) -> bool:
    """Whether the actor may see this unit's numbers (its pages, series, scorecard, API)."""
    found = hierarchy.BY_ID.get(unit.level)
    if found is None:
        return False
    if actor.anonymous:
        return not found.individual
    if unit.level == "force":
        return True
    if unit.level in AGGREGATE_LEVELS:
        return any(_in_force(g, unit.force_id) for g in actor.grants)
    return any(ROLES[g.role].fine and _inside(g, unit, lineage) for g in actor.grants)


def may_see_records(actor: Actor, unit: UnitLike, lineage: Sequence[str] = ()) -> bool:
    """Whether the actor may list the crime-level records (and map points) behind a cell of
    this unit: anonymous as before; otherwise only inside a scope whose role sees records."""
    if actor.anonymous:
        return may_see_unit(actor, unit, lineage)
    return any(ROLES[g.role].records and _inside(g, unit, lineage) for g in actor.grants)


# Who may raise and change PIM actions: those who chair the PIM or are held to account at it,
# inside their own scope (HMIC L787: "actions are allocated to specific owners"). A police
# authority member reviews and an officer reads their own page: both may read actions, not
# write them.
ACTION_WRITERS: frozenset[str] = frozenset({"chief_officer", "analyst", "bcu_commander", "npu_inspector"})


def may_write_actions(actor: Actor, unit: UnitLike, lineage: Sequence[str] = ()) -> bool:
    """Whether the actor may raise or change an action for this unit. The anonymous actor
    (an open dashboard with no users: the demo) may, where it may see the unit."""
    if actor.anonymous:
        return may_see_unit(actor, unit, lineage)
    return any(g.role in ACTION_WRITERS and _inside(g, unit, lineage) for g in actor.grants)


def may_see_retired_units(actor: Actor) -> bool:
    """Whether the actor may see what is filed under a unit no longer in the warehouse (an
    action raised before a restructure): nothing says whose it was, so only an actor who sees
    every unit may (the anonymous actor of an open dashboard, or a force-wide grant)."""
    return actor.anonymous or any(g.unit_id is None for g in actor.grants)


def may_read_audit(actor: Actor) -> bool:
    """Whether the actor may read the audit log (who looked at which officer, which records):
    administrators only. The log names users and the officers and units they opened, so a
    role that sees the whole force does not see it by that alone; the anonymous actor never."""
    return actor.admin and not actor.anonymous


def hidden_columns(actor: Actor) -> frozenset[str]:
    """Record columns naming a level the actor may see nowhere ('officer_id')."""
    return frozenset(
        hierarchy.UNIT_COLUMN[lv.id] for lv in hierarchy.LEVELS if not may_see_level(actor, lv.id)
    )


def visible_columns(actor: Actor, columns: Iterable[str]) -> tuple[str, ...]:
    """`columns` without those the actor may not see, in their order."""
    hidden = hidden_columns(actor)
    return tuple(c for c in columns if c not in hidden)


def refusal(actor: Actor, level: str | None = None) -> str:
    """Why a unit is not shown, in the words the page and the API use. The same for a unit
    that does not exist and one out of scope."""
    if actor.anonymous and level in hierarchy.BY_ID and hierarchy.level(level).individual:
        return OFFICER_OFF
    return f"This unit does not exist or is {NOT_AVAILABLE}."


def refuse(actor: Actor, unit_id: str, where: str, level: str | None = None) -> PermissionError:
    """Log a refusal (who, which unit, where) and return the error to raise."""
    log.warning("refused: actor=%s roles=%s unit=%s where=%s", actor.id,
                ",".join(sorted(actor.roles)) or "-", unit_id, where)
    return PermissionError(refusal(actor, level))


def default_scope(actor: Actor) -> str | None:
    """The unit an actor's pages open on: their first grant's scope (None: the default force)."""
    for g in actor.grants:
        if g.unit_id is not None:
            return g.unit_id
    return None


def describe(actor: Actor) -> str:
    """'Analyst (cheshire); Officer (cheshire/.../pc-1234)': who the pages say is looking."""
    if actor.anonymous:
        return "Not signed in"
    return "; ".join(f"{ROLES[g.role].label} ({g.unit_id or 'every force'})" for g in actor.grants)
