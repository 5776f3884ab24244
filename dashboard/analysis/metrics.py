"""A measure's numbers: numerator, denominator, value, interval, change against last year.

Pure functions over the registry (`etl.measures`) and the statistics (`dashboard.stats`):
no SQL, no Dash. The data layer (`dashboard/data/facade.py`) feeds them cube rows; the pages and
the API show what they return, so a chart, its CSV and the API always agree.

Denominators, by the measure's kind (etl/measures/kinds.py, read through
`dashboard.analysis.kinds`, the only place that branches on kind):
- count: the value is the count (crimes, incidents, detections, calls).
- rate_per_population: per 1,000 residents IN THE PERIOD SHOWN, not annualised: a month's
  rate is about a twelfth of a year's. The denominator is the unit's resident population
  (dim_unit.population), never added up over time.
- share_of_crimes: a proportion of recorded crimes (the sanction detection rate); the
  denominator is the crime count of the same categories.
- proportion, rate, mean, census: numerator and denominator are the registry's num_sql /
  den_sql, summed over the period (or, for stocks with aggregate = 'latest', taken from the
  last month of the period).

Intervals (95%): exact Poisson for counts and rates (Garwood), Wilson for proportions, a t
interval for means (model 'mean'), none for censuses (model 'none'), and for crime harm
(model 'weighted') the compound Poisson gamma interval from num (sum of weights) and num2 (sum
of squared weights).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterable
from dataclasses import dataclass

import pandas as pd

from dashboard.analysis import kinds, stats
from etl.measures.model import Measure
from etl.measures.registry import MEASURES


def headline_ids() -> tuple[str, ...]:
    """Headline measures, in registry order (read at call time: the registry grows)."""
    return tuple(m.id for m in MEASURES.values() if m.headline)


def headline_measures() -> list[Measure]:
    return [MEASURES[i] for i in headline_ids()]


has_denominator = kinds.has_denominator
denominator_text = kinds.denominator_text
unit_text = kinds.unit_text


def aggregate_kind(measure: Measure) -> str:
    """'sum' (flows: add up over time) or 'latest' (stocks: the last snapshot)."""
    return measure.aggregate


def _whole(x: float) -> bool:
    return x is not None and math.isfinite(x) and float(x) == math.floor(x) and x >= 0


def _missing(x: object) -> bool:
    # a float (numpy's float64 is one) answers without pandas: pd.isna on a scalar was ~40% of
    # a day-by-day series' Python (100,000 calls on a custom-range drill-down)
    if isinstance(x, float):
        return math.isnan(x)
    return x is None or bool(pd.isna(x))


# -- value and interval ------------------------------------------------------------------


def value(measure: Measure, numerator: float, denominator: float, num2: float = math.nan,
          den2: float = math.nan) -> float:
    """The number shown: a count, a rate, a percentage, a mean or a ratio of two rates."""
    if _missing(numerator):
        return math.nan
    if kinds.is_ratio(measure):
        if any(_missing(x) for x in (denominator, num2, den2)) or not (denominator and num2 and den2):
            return math.nan
        return (numerator / denominator) / (num2 / den2)
    if not has_denominator(measure):
        return float(numerator)
    if _missing(denominator) or not denominator:
        return math.nan
    if not kinds.divides(measure):
        return numerator / denominator
    return numerator / denominator * measure.scale


@functools.lru_cache(maxsize=65536)
def _poisson(k: int) -> tuple[float, float]:
    return stats.poisson_interval(k)


@functools.lru_cache(maxsize=65536)
def _wilson(k: int, n: int) -> tuple[float, float]:
    return stats.wilson_interval(k, n)


def interval(
    measure: Measure, numerator: float, denominator: float, num2: float | None = None,
    den2: float = math.nan,
) -> tuple[float, float]:
    """95% interval of the value, in the value's own units (NaN when it has none)."""
    nan = (math.nan, math.nan)
    if _missing(numerator):
        return nan
    model = kinds.model(measure)
    if model == "ratio":
        if any(_missing(x) for x in (denominator, num2, den2)) or not (_whole(numerator)
                                                                       and _whole(num2)):
            return nan
        if not (denominator > 0 and den2 > 0):
            return nan
        _, lo, hi = stats.rate_ratio(numerator, denominator, float(num2), den2)
        return (lo, hi)
    if model == "none":
        return nan
    if model == "weighted":   # crime harm: compound Poisson (stats.weighted_count_interval)
        if _missing(num2) or numerator < 0 or num2 < 0:
            return nan
        lo, hi = stats.weighted_count_interval(float(numerator), float(num2))
        if not has_denominator(measure):
            return (lo, hi)
        if _missing(denominator) or not denominator or denominator <= 0:
            return nan
        return (lo / denominator * measure.scale, hi / denominator * measure.scale)
    if model == "mean":
        if _missing(denominator):
            return nan
        return stats.mean_interval_from_sums(numerator, denominator, num2)
    if not _whole(numerator):
        return nan
    k = int(numerator)
    if not has_denominator(measure):
        return _poisson(k)
    if _missing(denominator) or not denominator or denominator <= 0:
        return nan
    if model == "binomial":
        if not _whole(denominator) or k > denominator:
            return nan
        lo, hi = _wilson(k, int(denominator))
        return (lo * measure.scale, hi * measure.scale)
    lo, hi = _poisson(k)
    return (lo / denominator * measure.scale, hi / denominator * measure.scale)


def add_values(measure: Measure, frame: pd.DataFrame) -> pd.DataFrame:
    """Add value, lower, upper columns to a frame with numerator, denominator (and num2)."""
    out = frame.copy()
    num2s = out["num2"] if "num2" in out else [math.nan] * len(out)
    den2s = out["den2"] if "den2" in out else [math.nan] * len(out)
    vals, los, his = [], [], []
    for num, den, sq, d2 in zip(out["numerator"], out["denominator"], num2s, den2s, strict=True):
        vals.append(value(measure, num, den, sq, d2))
        lo, hi = interval(measure, num, den, sq, d2)
        los.append(lo)
        his.append(hi)
    out["value"] = vals
    out["lower"] = los
    out["upper"] = his
    return out


# -- aggregation over time ---------------------------------------------------------------------


def combine_tuples(measure: Measure, rows: list[tuple]) -> tuple[float, float, float, float]:
    """(numerator, denominator, num2, den2) of base rows (t, num, den, num2[, den2]) over a
    span of time: summed for flows, the last snapshot for stocks (aggregate = 'latest');
    a denominator that is a stock (a rate ratio's reference populations) is the largest seen,
    never a sum over months. No rows, or rows without a denominator for a measure that has
    one (a unit-month whose crimes were none of the measure's categories): zero counts and a
    zero denominator, so a rate is undefined rather than zero."""
    no_den = 0.0 if has_denominator(measure) else math.nan
    if not rows:
        return (0.0, no_den, math.nan, math.nan)
    if len(rows) == 1:
        # one base row (a day's bucket of a day-grain series: ~260 a daily trend): the sums and
        # maxima below of one value are that value, so it is read as it stands
        r = rows[0]
        one = max if kinds.denominator_is_stock(measure) else math.fsum
        den = one((r[2],)) if not _missing(r[2]) else no_den
        sq = math.fsum((r[3],)) if len(r) > 3 and not _missing(r[3]) else math.nan
        den2 = one((r[4],)) if len(r) > 4 and not _missing(r[4]) else math.nan
        return (math.fsum((r[1],)), den, sq, den2)
    if aggregate_kind(measure) == "latest":
        last = max(r[0] for r in rows)
        rows = [r for r in rows if r[0] == last]
    num = math.fsum(r[1] for r in rows)
    dens = [r[2] for r in rows if not _missing(r[2])]
    sqs = [r[3] for r in rows if len(r) > 3 and not _missing(r[3])]
    den2s = [r[4] for r in rows if len(r) > 4 and not _missing(r[4])]
    stock = kinds.denominator_is_stock(measure)
    den = (max(dens) if stock else math.fsum(dens)) if dens else no_den
    den2 = (max(den2s) if stock else math.fsum(den2s)) if den2s else math.nan
    return (num, den, math.fsum(sqs) if sqs else math.nan, den2)


def combine(measure: Measure, rows: pd.DataFrame) -> tuple[float, float, float, float]:
    """`combine_tuples` for a frame with columns t, num, den, num2 (and den2)."""
    nan = [math.nan] * len(rows)
    cols = [rows["t"], rows["num"], rows["den"], rows["num2"] if "num2" in rows else nan,
            rows["den2"] if "den2" in rows else nan]
    return combine_tuples(measure, list(zip(*cols, strict=True)))


# -- change against last year, targets ---------------------------------------------------------


@dataclass(frozen=True)
class Comparison:
    """This period against the same period last year, read for the PIM.

    `abs_change` and `pct_change` are in the units shown on screen (for a percentage measure
    `abs_change` is in percentage points); `change` is the test from dashboard.stats.
    """

    change: stats.Change | None
    verdict: str  # 'worse' | 'better' | 'no significant change' | 'changed' | 'not tested' | 'no data'
    arrow: str  # '▲' | '▼' | '▶' | ''
    text: str  # e.g. '▲ +12.0%: worse, significant (p = 0.003)'
    abs_change: float = math.nan
    pct_change: float = math.nan

    @property
    def p_value(self) -> float:
        return self.change.p_value if self.change is not None else math.nan


def compare(
    measure: Measure,
    num1: float,
    den1: float,
    num0: float | None,
    den0: float | None,
    num2_1: float | None = None,
    num2_0: float | None = None,
) -> Comparison:
    """Test this period against the same period last year, polarity-aware (never a bare
    percentage).

    Counts: the exact conditional test (stats.compare_counts), with the denominators as
    exposures for rates (the same population in both periods for crime per 1,000).
    Proportions: stats.compare_proportions. Means: Welch's t-test. Censuses (model 'none')
    and non-whole counts are not tested: the change is shown and said to be untested.
    """
    if _missing(num0):
        return Comparison(None, "no data", "", "no data for the same period last year")
    if _missing(num1):
        return Comparison(None, "no data", "", "no data for this period")
    if kinds.is_ratio(measure):
        return Comparison(None, "not tested", "", "a ratio of two rates: its change is not tested")
    v1, v0 = value(measure, num1, den1), value(measure, num0, den0)
    if _missing(v1) or _missing(v0):
        why = "no population for this unit" if kinds.per_population(measure) else "no data for this unit"
        return Comparison(None, "no data", "", why)
    diff = v1 - v0
    pct = math.nan if not v0 else diff / v0 * 100
    arrow = "▲" if diff > 0 else "▼" if diff < 0 else "▶"
    if getattr(measure, "unit", "") == "%":
        size = f"{diff:+.1f} points"
    elif math.isnan(pct):
        size = "from none"
    else:
        size = f"{pct:+.1f}%"
    model = kinds.model(measure)
    change: stats.Change | None
    if model == "binomial" and all(_whole(x) for x in (num1, den1, num0, den0)) and den1 and den0:
        change = stats.compare_proportions(int(num1), int(den1), int(num0), int(den0))
    elif model == "poisson" and _whole(num1) and _whole(num0):
        if kinds.exposure_is_denominator(measure):
            change = stats.compare_counts(int(num1), int(num0), float(den1), float(den0))
        else:
            change = stats.compare_counts(int(num1), int(num0))
    elif model == "weighted" and not any(_missing(x) for x in (num2_1, num2_0)):
        change = stats.compare_weighted(float(num1), float(num2_1), float(num0), float(num2_0))
    elif model == "mean":
        change = stats.compare_means_from_sums(
            num1,
            den1,
            num2_1 if num2_1 is not None else math.nan,
            num0,
            den0,
            num2_0 if num2_0 is not None else math.nan,
        )
    else:
        change = None
    if change is None:
        return Comparison(
            None,
            "not tested",
            arrow,
            f"{arrow} {size} (not tested: "
            + ("a census, not a sample)" if model == "none" else "no test for these data)"),
            diff,
            pct,
        )
    p = f"p = {change.p_value:.3f}" if change.p_value >= 0.001 else "p < 0.001"
    if not change.significant:
        verdict, text = "no significant change", f"{arrow} {size}, not significant ({p})"
    elif measure.polarity == "neutral":
        verdict, text = "changed", f"{arrow} {size}, significant ({p})"
    else:
        good = (diff > 0) == (measure.polarity == "up")
        verdict = "better" if good else "worse"
        text = f"{arrow} {size}: {verdict}, significant ({p})"
    return Comparison(change, verdict, arrow, text, diff, pct)


def target_met(measure: Measure, val: float) -> bool | None:
    """Whether the value meets the registry's target (None when there is no target).
    Targets are in the measure's display unit (90.0 means 90%)."""
    if measure.target is None or _missing(val):
        return None
    if measure.polarity == "up":
        return val >= measure.target
    if measure.polarity == "down":
        return val <= measure.target
    return None


# -- formatting ----------------------------------------------------------------------------


def fmt(measure: Measure, v: float | None) -> str:
    """A value as the page shows it: '1,234', '12.3', '24.5%'; '–' for none."""
    if _missing(v):
        return "–"
    if measure.unit == "%":
        return f"{v:.1f}%"
    if kinds.is_weighted(measure) and abs(v) >= 100_000:   # harm totals: thousands (fit A4)
        return f"{v / 1000:,.0f}k"
    if kinds.is_weighted(measure) and abs(v) >= 100:   # harm: whole units of severity
        return f"{v:,.0f}"
    if not has_denominator(measure) and float(v).is_integer():
        return f"{v:,.0f}"
    return f"{v:,.2f}" if abs(v) < 10 else f"{v:,.1f}"


def fmt_interval(measure: Measure, lo: float, hi: float) -> str:
    """'6,352 to 6,669' (a count's interval rounded outwards to whole numbers)."""
    if _missing(lo) or _missing(hi):
        return ""
    if not has_denominator(measure) and measure.unit != "%" and not kinds.is_weighted(measure):
        return f"{math.floor(lo):,} to {math.ceil(hi):,}"
    return f"{fmt(measure, lo)} to {fmt(measure, hi)}"


def measures_by_domain() -> dict[str, list[Measure]]:
    out: dict[str, list[Measure]] = {}
    for m in MEASURES.values():
        out.setdefault(m.domain, []).append(m)
    return out


def categories_of(measures: Iterable[Measure]) -> list[str]:
    return sorted({c for m in measures for c in m.categories})
