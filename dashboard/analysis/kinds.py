"""What a measure's kind means for the dashboard: the only module that branches on kind.

The kinds themselves (statistical model, where the denominator comes from, how months
combine, chart type, the denominator in words) are the ETL's table, `etl/measures/kinds.py`;
this module answers the questions the dashboard asks of them, so that metrics, comparison,
the exceptions scan and targets never ask "is this a crime measure?" or read the old `per`
flag. A new kind is a row in that table and, if it is valued differently, a branch here.
"""

from __future__ import annotations

import math

from etl.measures.kinds import KINDS, Kind, denominator_words
from etl.measures.model import Measure

NO_DENOMINATOR_TEXT = "none (a count)"
PER_HEAD_TEXT = "per 1,000 residents in the period (not annualised)"


def kind(measure: Measure) -> Kind:
    return KINDS[measure.kind]


def model(measure: Measure) -> str:
    """'poisson', 'binomial', 'mean', 'none' or 'ratio' (etl.measures.kinds.Model)."""
    return kind(measure).model


def valued(measure: Measure) -> bool:
    """Whether a value can be compared, ranked, charted and tested like a rate or count.
    A ratio of two rates ('rate_ratio': stop-and-search disproportionality) is valued from
    num, den, num2 and den2 (metrics.value) and shown with its interval, but it is not put
    through the change tests, funnels or SPC rules built for counts and proportions."""
    return kind(measure).model != "ratio"


def is_ratio(measure: Measure) -> bool:
    """(num / den) / (num2 / den2), with the log (Katz) interval (stats.rate_ratio)."""
    return kind(measure).model == "ratio"


def denominator_is_stock(measure: Measure) -> bool:
    """A denominator that does not grow with time (a population): over several months it is
    the largest seen, never their sum."""
    return kind(measure).period_den == "max" and kind(measure).denominator != "population"


def has_denominator(measure: Measure) -> bool:
    """Whether the value is numerator over a denominator (else it is the count itself)."""
    return kind(measure).denominator != "none"


def per_population(measure: Measure) -> bool:
    """A rate per head: the denominator is the unit's resident population, the same in every
    month of a period (so it is never added up over time, and a change in the rate is a
    change in the count)."""
    return kind(measure).denominator == "population"


def is_proportion(measure: Measure) -> bool:
    """k of n (Wilson intervals, p charts, two-proportion tests)."""
    return kind(measure).model == "binomial"


def divides(measure: Measure) -> bool:
    """Whether num / den is multiplied by the measure's scale (False for a mean)."""
    return kind(measure).multiplied


def chart(measure: Measure) -> str:
    """The SPC chart: 'c' (a count, seasonal when history allows), 'p', 'u' or 'xmr'."""
    return kind(measure).chart


def exposure_is_denominator(measure: Measure) -> bool:
    """Whether a test or a chart uses the denominator as the exposure (rates per crime, call,
    respondent ...). A rate per head is tested and charted as its count: its population is
    the same in both periods."""
    return has_denominator(measure) and not per_population(measure)


def denominator(measure: Measure, population: float | None, den: float) -> float:
    """The denominator of a unit's value over a span: the unit's population for a rate per
    head (whatever the cube rows held, so a span with no rows is a rate of 0, not undefined),
    NaN for a plain count, else the rows' own."""
    if per_population(measure):
        return float(population) if population else math.nan
    if not has_denominator(measure):
        return math.nan
    return den


def denominator_text(measure: Measure) -> str:
    """The denominator in the words the Help page and the API show."""
    if not has_denominator(measure):
        return NO_DENOMINATOR_TEXT
    return denominator_words(measure)


def proportion_of(measure: Measure) -> str:
    """What a proportion is a proportion of, as the Compare page says it."""
    if kind(measure).denominator == "crimes":
        return "detections of recorded crimes"
    return measure.denominator or ""


def unit_text(measure: Measure) -> str:
    """The value's unit as a label says it: a rate per head says it is not annualised."""
    if per_population(measure):
        return f"{measure.unit} in the period (not annualised)"
    return measure.unit


def per_word(measure: Measure) -> str:
    """The API's `per` field, kept for its readers: 'population', 'crimes' or 'none'."""
    return {"population": "population", "crimes": "crimes"}.get(kind(measure).denominator, "none")


def is_weighted(measure: Measure) -> bool:
    """A weighted count (crime harm): num is the sum of weights, num2 the sum of their
    squares (the compound Poisson variance)."""
    return kind(measure).model == "weighted"


def target_kind(measure: Measure) -> str:
    """'count' (a target is a total for the period), 'rate' (a percentage or a rate) or 'none'
    (means, censuses, ratios, weighted counts and rates per head take no target)."""
    if model(measure) in ("mean", "none", "ratio", "weighted") or per_population(measure):
        return "none"
    return "rate" if has_denominator(measure) else "count"
