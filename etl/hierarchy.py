"""The organisational levels, force > BCU > NPU > team > officer, defined once.

Every other module asks this one what a level is called, what is below it, whether the
dashboard drills to it, whether it holds data about individuals and how much a signal there
weighs in the exceptions list. The access seam (dashboard/data/access.py) decides who may
see which level; this module only says what each level is.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass


@dataclass(frozen=True)
class Level:
    id: str              # stored in dim_unit.level and every cube
    label: str           # as written in a sentence: 'BCU', 'NPU', 'team'
    plural: str          # 'BCUs'
    title: str           # as a heading or column name: 'BCU', 'Team'
    individual: bool     # rows at this level describe one person (officer)
    scan_weight: float   # how much a signal at this level counts in the exceptions list
    targets: bool        # contributory targets are set at this level
    day_cube: bool       # cubes by day go down to this level (by officer they would be as
                         # large as the facts)


LEVELS: tuple[Level, ...] = (
    Level("force", "force", "forces", "Force", False, 1.5, True, True),
    Level("bcu", "BCU", "BCUs", "BCU", False, 1.25, True, True),
    Level("npu", "NPU", "NPUs", "NPU", False, 1.0, True, True),
    Level("team", "team", "teams", "Team", False, 0.75, False, True),
    Level("officer", "officer", "officers", "Officer", True, 0.5, False, False),
)
LEVEL_IDS: tuple[str, ...] = tuple(lv.id for lv in LEVELS)
BY_ID: dict[str, Level] = {lv.id: lv for lv in LEVELS}

# The fact column that names a record's unit at each level (crime records and the service
# datasets use the same names; `bcu_id` is derived from the NPU's parent where not given).
UNIT_COLUMN: dict[str, str] = {
    "force": "force_id", "bcu": "bcu_id", "npu": "npu_id", "team": "team_id",
    "officer": "officer_id",
}

# Levels a record need not name: its unit there is the parent (in dim_unit) of the unit it
# names one level down, as the cubes derive a record's BCU from its NPU
# (etl/cubes/measures.py). No other level is derived: an officer named without a team does
# not place the record in a team (the officer's team may be in another NPU).
DERIVED_FROM_BELOW: frozenset[str] = frozenset({"bcu"})


def level(level_id: str) -> Level:
    try:
        return BY_ID[level_id]
    except KeyError:
        raise KeyError(f"unknown level {level_id!r}; known: {', '.join(LEVEL_IDS)}") from None


def depth(level_id: str) -> int:
    """0 for force ... 4 for officer."""
    return LEVEL_IDS.index(level(level_id).id)


def below(level_id: str) -> str | None:
    """The next level down, or None at the bottom."""
    i = depth(level_id)
    return LEVEL_IDS[i + 1] if i + 1 < len(LEVEL_IDS) else None


def at_or_above(level_id: str) -> tuple[str, ...]:
    """This level and every level above it, top first."""
    return LEVEL_IDS[: depth(level_id) + 1]


def recorded_down_to_columns(columns: Collection[str]) -> str:
    """The lowest level a dataset with these columns records, walking down from the force
    without a gap: a level counts when its unit column is there (UNIT_COLUMN) or it is
    derived from the level below (DERIVED_FROM_BELOW). Below it the dataset says nothing,
    which is not zero. (etl/sources/registry.py `recorded_down_to` asks this by dataset.)"""
    deepest = LEVEL_IDS[0]
    for level_id in LEVEL_IDS[1:]:
        child = below(level_id)
        derived = level_id in DERIVED_FROM_BELOW and child is not None and UNIT_COLUMN[child] in columns
        if UNIT_COLUMN[level_id] not in columns and not derived:
            break
        deepest = level_id
    return deepest


def ids_where(**flags: bool) -> tuple[str, ...]:
    """Levels whose properties match, in order: ids_where(targets=True)."""
    return tuple(lv.id for lv in LEVELS if all(getattr(lv, k) == v for k, v in flags.items()))
