"""The organisational levels (force > BCU > NPU > team > officer) and their properties, once.

A STAND-IN for `etl.hierarchy`, which the ETL side is writing: until it lands the dashboard
reads its levels from here, and only from here, so switching is one import. Before this module
the same facts lived in seven places (data.UI_LEVELS, data.LEVEL_NAMES, early_warning.SCAN_LEVELS
and LEVEL_WEIGHT, targets.TARGET_LEVELS, pages/drilldown.PLURAL, queries_peers.LEVELS); a new
level, or the officer level switched on, was an edit in each.

What a level says about itself is a fact about the organisation (its label, whether it is an
individual person). Who may SEE a level is not decided here: that is `dashboard.data.access`.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Level:
    """One level of the organisation and how the dashboard treats it."""

    id: str  # as dim_unit.level stores it
    label: str  # 'BCU': how a unit's title names its level ('Northern BCU')
    plural: str  # 'BCUs': 'the 3 BCUs'
    order: int  # 0 = force; parents before children
    drill: bool  # the drill-down goes down to it (subject to access)
    individual: bool  # a unit of this level is one person: access control applies
    scan_weight: float | None  # early-warning severity weight; None = not scanned
    targets: bool  # takes targets (set in the file, or shared from its parent)
    services: bool  # service datasets (satisfaction, calls ...) are charted at this level
    daily: bool  # the day cubes hold it (etl/cubes.py keeps officers out of them)


LEVELS: tuple[Level, ...] = (
    Level("force", "force", "forces", 0, True, False, 1.5, True, True, True),
    Level("bcu", "BCU", "BCUs", 1, True, False, 1.25, True, True, True),
    Level("npu", "NPU", "NPUs", 2, True, False, 1.0, True, True, True),
    Level("team", "team", "teams", 3, True, False, 0.75, False, False, True),
    Level("officer", "officer", "officers", 4, True, True, None, False, False, False),
)
BY_ID: dict[str, Level] = {lv.id: lv for lv in LEVELS}
LEVEL_IDS: tuple[str, ...] = tuple(lv.id for lv in LEVELS)


def level(level_id: str) -> Level:
    """The level called `level_id` (KeyError for one that does not exist)."""
    return BY_ID[level_id]


def label(level_id: str) -> str:
    """'BCU' for 'bcu'; an unknown level is named by its id."""
    found = BY_ID.get(level_id)
    return found.label if found else level_id


def plural(level_id: str, default: str = "units") -> str:
    found = BY_ID.get(level_id)
    return found.plural if found else default


def scan_levels() -> tuple[str, ...]:
    """Levels the early-warning scan charts, force first."""
    return tuple(lv.id for lv in LEVELS if lv.scan_weight is not None)


def scan_weight(level_id: str) -> float:
    found = BY_ID.get(level_id)
    return found.scan_weight if found and found.scan_weight is not None else 1.0


def target_levels() -> tuple[str, ...]:
    return tuple(lv.id for lv in LEVELS if lv.targets)


def service_levels() -> tuple[str, ...]:
    return tuple(lv.id for lv in LEVELS if lv.services)


def individual_levels() -> tuple[str, ...]:
    return tuple(lv.id for lv in LEVELS if lv.individual)


def has_days(level_id: str) -> bool:
    """Whether day-level cubes exist for units of this level."""
    found = BY_ID.get(level_id)
    return bool(found and found.daily)


def id_column(level_id: str) -> str:
    """The facts column holding a unit's id at this level ('npu' -> 'npu_id')."""
    return f"{level(level_id).id}_id"
