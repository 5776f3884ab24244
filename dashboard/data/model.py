"""What a view is about: a unit, a source, a view; and where numbers come from.

Plain frozen dataclasses the data layer hands to pages, the API and analysis. A `View` is a
URL's state checked against the warehouse (`DataAccess.resolve`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from dashboard.periods import Period, month_end
from dashboard.state import ViewState
from etl import hierarchy
from etl.measures.model import Measure
from etl.measures.registry import MEASURES

DEFAULT_MEASURE = "total_crime"
# When a force has data from several sources, the most detailed wins: its own extract
# (day-level, officer in charge), then the synthetic demo, then data.police.uk (monthly).
# Summing two sources would double count, so exactly one is used per force.
SOURCE_PREFERENCE: tuple[str, ...] = ("force", "demo", "police_uk")
SOURCE_LABELS: dict[str, str] = {
    "force": "the force's own crime extract",
    "demo": "synthetic demo data",
    "police_uk": "data.police.uk street-level crime",
}


class GrainUnavailable(ValueError):
    """Day or week grain asked of a source that only has months."""


# -- what a view is about --------------------------------------------------------------


@dataclass(frozen=True)
class Unit:
    unit_id: str
    level: str
    parent_id: str | None
    force_id: str
    name: str
    population: float | None
    synthetic: bool

    @property
    def title(self) -> str:
        """'Cheshire Constabulary', 'Northern BCU', 'Widnes NPU', 'Response A team'."""
        if self.level == "force":
            return self.name
        found = hierarchy.BY_ID.get(self.level)
        return f"{self.name} {found.label if found else self.level}"


@dataclass(frozen=True)
class Source:
    """Where one force's numbers of one family of measures come from ('crime', or a service
    dataset such as 'satisfaction'), and which months and days it covers."""

    source: str
    force_id: str
    first_month: date
    last_month: date
    first_day: date | None
    last_day: date | None
    suspect_months: int
    family: str = "crime"
    months: frozenset[date] = frozenset()

    @property
    def has_days(self) -> bool:
        return self.last_day is not None

    @property
    def label(self) -> str:
        return SOURCE_LABELS.get(self.source, self.source)

    @property
    def as_of(self) -> date:
        """The last day with data: presets count back from here."""
        return self.last_day if self.last_day is not None else month_end(self.last_month)

    @property
    def first(self) -> date:
        return self.first_day if self.first_day is not None else self.first_month

    @property
    def grain_note(self) -> str:
        return "daily data" if self.has_days else "monthly data only"


@dataclass(frozen=True)
class ReferenceData:
    """One reference file as the warehouse version holds it (see queries/reference.py):
    its rows with their line numbers, cells as text, and its comment header."""

    file: str  # 'targets.csv'
    origin: str  # the path the load copied it from (what error messages name)
    rows: tuple[tuple[int, dict[str, str]], ...]
    comments: tuple[str, ...] = ()


@dataclass(frozen=True)
class View:
    """A URL's state checked against the warehouse: what every page draws."""

    state: ViewState  # canonical: what the URL should say
    unit: Unit
    path: tuple[Unit, ...]  # force ... unit
    measure: Measure
    period: Period
    grain: str
    source: Source | None
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def unit_path(self) -> str:
        return " / ".join(u.title for u in self.path)

    def statement(self, with_measure: bool = True) -> str:
        """'Burglary, Cheshire Constabulary / Northern BCU, Apr 2007 – Mar 2008 (FY 2007/08),
        source: synthetic demo data'."""
        parts = [self.measure.label] if with_measure else []
        parts += [self.unit_path, self.period.label]
        text = ", ".join(parts)
        if self.source is not None:
            text += f", source: {self.source.label}"
        return text

    @property
    def as_of_text(self) -> str:
        if self.source is None:
            return "no data loaded for this force"
        return f"data to {self.source.as_of.day} {self.source.as_of:%b %Y}"


# -- the manager -----------------------------------------------------------------------


SERIES_COLUMNS = [
    "period_start",
    "period_end",
    "label",
    "days",
    "covered_days",
    "numerator",
    "denominator",
    "value",
    "lower",
    "upper",
    "partial",
    "suspect",
    "missing",
]
VALUES_COLUMNS = [
    "unit_id",
    "name",
    "level",
    "population",
    "numerator",
    "denominator",
    "num2",
    "value",
    "lower",
    "upper",
    "covered",
]
SCORECARD_COLUMNS = [
    "measure_id",
    "label",
    "domain",
    "unit",
    "polarity",
    "numerator",
    "denominator",
    "value",
    "lower",
    "upper",
    "previous",
    "abs_change",
    "pct_change",
    "p_value",
    "significant",
    "verdict",
    "arrow",
    "change_text",
    "spark_months",
    "spark",
]
SERVICE_FAMILIES = ("satisfaction", "calls", "dv", "missing", "rso", "workforce")


def family_of_dataset(dataset: str) -> str:
    if dataset in ("crime", "force_month"):
        return "crime"
    if dataset == "service_force_month":
        return "*services"
    return dataset


def service_families() -> tuple[str, ...]:
    found = {m.dataset for m in MEASURES.values()} - {"crime"}
    return tuple(sorted(found | set(SERVICE_FAMILIES)))


@dataclass(frozen=True)
class PlaceFigures:
    """Crime and harm per LSOA of one unit over a period (DataAccess.concentration): every
    LSOA of the unit's area, those with no crime included (the denominator of "the top 5% of
    LSOAs"), and what could not be placed in one. docs/concentration.md."""

    unit_id: str
    source: str | None             # the crime source read ('police_uk', 'force', 'demo')
    first: date                    # the period read (whole months for a monthly source)
    last: date
    lsoas: Any                     # DataFrame [lsoa_code, lsoa_name, npu_id, crimes, harm, harm_approx]
    not_available: str | None      # why there are no LSOA figures (None: there are)
    from_default: int = 0          # area LSOAs added from the default hierarchy (no record named them)
    blank: int = 0                 # the unit's crimes with no LSOA
    outside: int = 0               # the unit's crimes in an LSOA outside its area


@dataclass(frozen=True)
class MsoaFigures:
    """A measure's value per MSOA of one NPU over a period (DataAccess.msoa_values), added
    up from the NPU's LSOAs: the NPU's map colours each MSOA by its own value."""

    unit_id: str
    first: date                    # the period read (whole months for a monthly source)
    last: date
    msoas: Any                     # DataFrame [msoa_code, msoa_name, lsoas, num, population, value]
