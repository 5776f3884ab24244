"""One `Measure`: what is counted, over what, in which unit, and which kind it is.

A measure is declared once, by the source whose data feeds it (etl/sources/*) or, for the
crime measures every crime source shares, in etl/measures/crime.py; etl/measures/registry.py
collects them. Cubes, pages, packs and the API read the same object. What a kind implies
(model, denominator, chart) is in etl/measures/kinds.py and nowhere else.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from etl.measures.kinds import KINDS, Kind, Model

Polarity = Literal["up", "down", "neutral"]


@dataclass(frozen=True)
class Measure:
    id: str
    label: str
    domain: str
    description: str
    numerator: str           # what is counted, in words
    denominator: str | None  # in words; None for a plain count
    unit: str                # what the value is in, as shown on screen
    polarity: Polarity       # "up": a rise is good news; "down": a fall is good news
    kind: str                # a key of etl.measures.kinds.KINDS
    source: str              # where the data comes from, in words
    # The lake dataset whose rows feed the measure. Crime measures ('crime') are cubed from
    # the category cube (`categories`, `column`: n = crimes, sd = sanction detections),
    # every other measure from its dataset's rows by the aggregate SQL below.
    dataset: str = "crime"
    categories: tuple[str, ...] = ()
    column: Literal["n", "sd", "harm"] = "n"   # harm: CSS-weighted (num2 = sum of squares)
    scale: float = 1.0
    target: float | None = None
    target_source: str | None = None   # where the target comes from, in words
    headline: bool = False             # on the scorecard's headline list
    scan: bool = True                  # a headline measure the exceptions scan looks at
    tags: tuple[str, ...] = field(default_factory=tuple)
    num_sql: str | None = None
    den_sql: str | None = None
    num2_sql: str | None = None        # sum of squares (mean); second group's count (ratio)
    den2_sql: str | None = None
    aggregate: Literal["sum", "latest"] = "sum"   # over months: add up, or take the last (stocks)
    # For a rate ratio: the reference population groups (columns of ref_population_ethnicity)
    # whose residents are den and den2, in that order, e.g. ("black", "white").
    population_groups: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"measure {self.id!r}: unknown kind {self.kind!r}; known: {', '.join(KINDS)}")

    @property
    def kind_info(self) -> Kind:
        return KINDS[self.kind]

    @property
    def model(self) -> Model:
        """The statistical model the kind implies (read by the interval and SPC code)."""
        return KINDS[self.kind].model

    @property
    def per(self) -> str:
        """Transitional: the old crime-denominator flag ('none' | 'population' | 'crimes'),
        derived from the kind, for dashboard code not yet reading kinds directly."""
        return {"population": "population", "crimes": "crimes"}.get(
            KINDS[self.kind].denominator, "none")


def share_sql(num_filter: str, den_filter: str = "TRUE") -> tuple[str, str]:
    """(num_sql, den_sql) of a proportion: rows meeting `num_filter` among those meeting
    `den_filter`, as SQL aggregates over a dataset's rows."""
    return (f"count(*) FILTER (WHERE ({den_filter}) AND ({num_filter}))",
            f"count(*) FILTER (WHERE {den_filter})")
