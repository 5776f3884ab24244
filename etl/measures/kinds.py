"""What each kind of measure is: its statistical model, where its denominator comes from,
how months combine, how it is charted and how its denominator is put into words.

A measure says which kind it is (etl/measures/model.py); this table is the only place that
knows what a kind implies. Code elsewhere reads a property of the kind (`kind_of(m).model`)
instead of asking "is this a crime measure?", so a new kind is one row here and the code
that values it, not edits across the tree.

Every kind is valued from the same cube columns (cube_measure_month / cube_measure_day):
num, den, and for the kinds that need them num2 (sum of squares for a mean; the second
group's count for a rate ratio) and den2 (the second group's population).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

KindId = Literal[
    "count", "rate_per_population", "share_of_crimes", "proportion", "rate", "mean",
    "census", "weighted_count", "weighted_rate_per_population", "rate_ratio",
]
# Statistical model: exact Poisson (Garwood) for counts and rates, Wilson for proportions,
# t for means, none for censuses, a log-scale interval for ratios of two rates, and for a
# weighted count (crime harm) a compound Poisson: the variance is the sum of squared weights.
Model = Literal["poisson", "binomial", "mean", "none", "ratio", "weighted"]
# Where den comes from: nothing, the dataset's rows (den_sql), the unit's resident
# population, recorded crimes of the same categories, or a reference table.
Denominator = Literal["none", "rows", "population", "crimes", "reference"]


@dataclass(frozen=True)
class Kind:
    id: str
    model: Model
    denominator: Denominator
    # Over several months: den is added up ('sum': calls, respondents, crimes) or is a
    # stock that does not grow with time ('max': a population).
    period_den: Literal["sum", "max"]
    chart: Literal["c", "u", "p", "xmr"]   # SPC chart: c (count), u (rate), p (proportion)
    words: str                              # the denominator as the Help page says it
    multiplied: bool = True                 # the value is num / den x scale (False: a mean)


KINDS: dict[str, Kind] = {k.id: k for k in (
    Kind("count", "poisson", "none", "sum", "c", "none (a count)"),
    Kind("rate_per_population", "poisson", "population", "max", "c",
         "resident population (per 1,000 residents in the period shown, not annualised)"),
    Kind("share_of_crimes", "binomial", "crimes", "sum", "p",
         "recorded crimes of the same categories"),
    Kind("proportion", "binomial", "rows", "sum", "p", "as the measure says"),
    Kind("rate", "poisson", "rows", "sum", "u", "as the measure says"),
    Kind("mean", "mean", "rows", "sum", "xmr", "as the measure says", multiplied=False),
    Kind("census", "none", "none", "sum", "xmr", "none (a total)"),
    Kind("census_ratio", "none", "rows", "sum", "xmr", "as the measure says"),
    # Crime harm: crimes each weighted (ONS Crime Severity Score); num is the weighted sum,
    # num2 the sum of squared weights (its compound Poisson variance). Charted on an XmR
    # chart: a c chart's limits assume every crime weighs 1.
    Kind("weighted_count", "weighted", "none", "sum", "xmr", "none (a weighted count)"),
    Kind("weighted_rate_per_population", "weighted", "population", "max", "xmr",
         "resident population (per 1,000 residents in the period shown, not annualised)"),
    # (num / den) / (num2 / den2): e.g. searches per head of Black residents over searches
    # per head of White residents; den and den2 come from a reference table.
    Kind("rate_ratio", "ratio", "reference", "max", "xmr",
         "resident populations of the two groups (2011 Census)"),
)}


def kind_of(measure: object) -> Kind:
    """The Kind of a measure (anything with a `kind` attribute)."""
    kind_id = measure.kind  # type: ignore[attr-defined]
    try:
        return KINDS[kind_id]
    except KeyError:
        raise KeyError(f"unknown measure kind {kind_id!r}; known: {', '.join(KINDS)}") from None


def has_denominator(measure: object) -> bool:
    return kind_of(measure).denominator != "none"


def denominator_words(measure: object) -> str:
    """The denominator in words: the kind's own, or the measure's where the rows give it."""
    kind = kind_of(measure)
    own = getattr(measure, "denominator", None)
    if kind.words == "as the measure says":
        return own or "none"
    return kind.words
