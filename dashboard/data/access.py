"""The one place that decides "may this user see this unit, this level, these records?".

Every request has an actor (datasette's rule): the pages, their callbacks, the API and the CSV
exports all read through `DataAccess`, and `DataAccess` asks these functions before it hands
out a unit, a list of units, a page of records or a column. Nothing else in the dashboard
checks levels or drops columns, so the access-control issue changes this module (and
`dashboard/auth.py`, which says who the actor is) and nothing else.

Today there is only the anonymous actor, and the rule is the one the dashboard has always
had: nothing below team (officers exist in the data but stay off screen), and no officer ids
in records or CSVs. HMIC wants individual performance; it also needs to know who may see it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Protocol

from etl import hierarchy

# What the screen and the API say when an individual level is asked for and refused.
OFFICER_OFF = "Officer level is off until access control lands."


@dataclass(frozen=True)
class Actor:
    """Who is asking. `roles` is empty for the anonymous actor; the access-control issue adds
    roles (and, for example, the units an actor is responsible for)."""

    id: str
    roles: frozenset[str] = field(default_factory=frozenset)

    @property
    def anonymous(self) -> bool:
        return self.id == ANONYMOUS.id


ANONYMOUS = Actor("anonymous")


class HasLevel(Protocol):
    level: str


def may_see_level(actor: Actor, level: str) -> bool:
    """Whether the actor may see units of `level` (and choose them, and drill to them).
    Individual levels (officers) are off for everyone until roles exist."""
    found = hierarchy.BY_ID.get(level)
    if found is None:
        return False
    return not found.individual


def visible_levels(actor: Actor) -> tuple[str, ...]:
    """The levels the actor may see, force first."""
    return tuple(lv.id for lv in hierarchy.LEVELS if may_see_level(actor, lv.id))


def may_see_unit(actor: Actor, unit: HasLevel) -> bool:
    """Whether the actor may see this unit's numbers (today: by its level alone)."""
    return may_see_level(actor, unit.level)


def may_see_records(actor: Actor, unit: HasLevel) -> bool:
    """Whether the actor may list the raw records behind a cell of this unit."""
    return may_see_unit(actor, unit)


def hidden_columns(actor: Actor) -> frozenset[str]:
    """Record columns that identify a unit the actor may not see ('officer_id')."""
    return frozenset(
        hierarchy.UNIT_COLUMN[lv.id] for lv in hierarchy.LEVELS if not may_see_level(actor, lv.id)
    )


def visible_columns(actor: Actor, columns: Iterable[str]) -> tuple[str, ...]:
    """`columns` without those the actor may not see, in their order."""
    hidden = hidden_columns(actor)
    return tuple(c for c in columns if c not in hidden)


def refusal(actor: Actor, level: str) -> str:
    """Why a unit of `level` is not shown, in the words the page and the API use."""
    return (
        OFFICER_OFF
        if level in hierarchy.BY_ID and hierarchy.level(level).individual
        else (f"Units of level {level!r} are not shown.")
    )
