"""Time as the PIM reads it: presets, the police financial year, grains and their buckets.

Pure functions of dates, no I/O. The UK police financial year runs April to March and is
written 2007/08; its quarters are Q1 = Apr-Jun ... Q4 = Jan-Mar, so quarter boundaries are
the calendar quarter boundaries and only the labels differ. Weeks start on Monday (ISO).

A `Period` is a closed range of days [start, end]. Presets are computed from an "as of"
date: the last day the chosen source has data for, never today's date, so a link to
"financial year to date" shows the same months for everyone until new data is loaded.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta

from dashboard.analysis import stats

GRAINS: dict[str, str] = {
    "day": "Day",
    "week": "Week",
    "month": "Month",
    "quarter": "Quarter",
    "fy": "Financial year",
}
PRESETS: dict[str, str] = {
    "month": "Last complete month",
    "qtd": "Quarter to date",
    "fytd": "Financial year to date",
    "12m": "Rolling 12 months",
    "custom": "Custom range",
}
DEFAULT_PRESET = "fytd"
DEFAULT_GRAIN = "month"


# -- calendar arithmetic ---------------------------------------------------------------


def month_start(d: date) -> date:
    return date(d.year, d.month, 1)


def month_end(d: date) -> date:
    return date(d.year, d.month, calendar.monthrange(d.year, d.month)[1])


def add_months(d: date, k: int) -> date:
    """`d` moved by k months, the day clamped to the target month (31 Mar - 1 -> 28/29 Feb)."""
    total = d.year * 12 + d.month - 1 + k
    y, m = divmod(total, 12)
    m += 1
    return date(y, m, min(d.day, calendar.monthrange(y, m)[1]))


def fy_start(d: date) -> date:
    """1 April of the financial year containing d."""
    return date(d.year if d.month >= 4 else d.year - 1, 4, 1)


def fy_label(d: date) -> str:
    """'2007/08' for any day from 1 Apr 2007 to 31 Mar 2008."""
    return stats.financial_year(d)


def quarter_start(d: date) -> date:
    return date(d.year, 3 * ((d.month - 1) // 3) + 1, 1)


def fy_quarter(d: date) -> int:
    """1 for Apr-Jun ... 4 for Jan-Mar."""
    return stats.fy_quarter(d)


def last_complete_month(as_of: date) -> date:
    """First day of the last month that is complete on `as_of` (its last day counts)."""
    if as_of == month_end(as_of):
        return month_start(as_of)
    return month_start(add_months(month_start(as_of), -1))


# -- periods ---------------------------------------------------------------------------


def _fmt_day(d: date) -> str:
    return f"{d.day} {d:%b %Y}"


@dataclass(frozen=True)
class Period:
    """A closed range of days. `preset` is how it was chosen (for labels and URLs)."""

    start: date
    end: date
    preset: str = "custom"

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError(f"period ends ({self.end}) before it starts ({self.start})")

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def whole_months(self) -> bool:
        return self.start.day == 1 and self.end == month_end(self.end)

    def months(self) -> list[date]:
        """First days of every month the period touches."""
        out, m = [], month_start(self.start)
        while m <= self.end:
            out.append(m)
            m = add_months(m, 1)
        return out

    def last_year(self) -> Period:
        """The same days a year earlier (29 Feb -> 28 Feb; a month end stays a month end)."""
        end = add_months(self.end, -12)
        if self.end == month_end(self.end):
            end = month_end(end)
        return Period(add_months(self.start, -12), end, self.preset)

    def to_whole_months(self) -> Period:
        """The whole months this period touches (for sources that only have months)."""
        return Period(month_start(self.start), month_end(self.end), self.preset)

    @property
    def label(self) -> str:
        """The period as a police paper heads it: '2007/08' for a financial year, 'Q4 2007/08'
        for one of its quarters, 'Mar 2008', 'Apr 2007 – Feb 2008 (FY 2007/08 to date)',
        '1 Jan 2008 – 15 Feb 2008 (Q4 2007/08 to date)', '1 Apr 2007 – 15 Mar 2008'."""
        fy_end = date(fy_start(self.start).year + 1, 3, 31)
        if self.start == fy_start(self.start) and self.end == fy_end:
            return fy_label(self.start)
        q_end = month_end(add_months(quarter_start(self.start), 2))
        if self.start == quarter_start(self.start) and self.end == q_end:
            return f"Q{fy_quarter(self.start)} {fy_label(self.start)}"
        if self.whole_months:
            if month_start(self.start) == month_start(self.end):
                text = f"{self.start:%b %Y}"
            else:
                text = f"{self.start:%b %Y} – {self.end:%b %Y}"
        elif self.start == self.end:
            text = _fmt_day(self.start)
        else:
            text = f"{_fmt_day(self.start)} – {_fmt_day(self.end)}"
        if self.start == fy_start(self.start) and self.end < fy_end and self.preset == "fytd":
            return f"{text} (FY {fy_label(self.start)} to date)"
        if self.start == quarter_start(self.start) and self.end < q_end and self.preset == "qtd":
            return f"{text} (Q{fy_quarter(self.start)} {fy_label(self.start)} to date)"
        return text


def preset_period(preset: str, as_of: date) -> Period:
    """The period a preset means when the data runs to `as_of` (inclusive)."""
    last = last_complete_month(as_of)
    if preset == "month":
        return Period(last, month_end(last), preset)
    if preset == "qtd":
        return Period(quarter_start(as_of), as_of, preset)
    if preset == "fytd":
        return Period(fy_start(as_of), as_of, preset)
    if preset == "12m":
        return Period(add_months(last, -11), month_end(last), preset)
    raise ValueError(f"unknown preset {preset!r}; known: {', '.join(p for p in PRESETS if p != 'custom')}")


def parse_date(text: str) -> date:
    """YYYY-MM-DD -> date; ValueError naming the problem otherwise."""
    try:
        return date.fromisoformat(text.strip())
    except (AttributeError, ValueError):
        shown = text if not isinstance(text, str) or len(text) <= 40 else text[:40] + "…"
        raise ValueError(f"{shown!r} is not a date written YYYY-MM-DD") from None


# -- grains ----------------------------------------------------------------------------


def bucket_start(d: date, grain: str) -> date:
    """The first day of the day/week/month/quarter/financial year holding d."""
    if grain == "day":
        return d
    if grain == "week":
        return d - timedelta(days=d.weekday())
    if grain == "month":
        return month_start(d)
    if grain == "quarter":
        return quarter_start(d)
    if grain == "fy":
        return fy_start(d)
    raise ValueError(f"unknown grain {grain!r}; known: {', '.join(GRAINS)}")


def bucket_end(start: date, grain: str) -> date:
    """The last day of the bucket that starts on `start`."""
    if grain == "day":
        return start
    if grain == "week":
        return start + timedelta(days=6)
    if grain == "month":
        return month_end(start)
    if grain == "quarter":
        return month_end(add_months(start, 2))
    if grain == "fy":
        return date(start.year + 1, 3, 31)
    raise ValueError(f"unknown grain {grain!r}; known: {', '.join(GRAINS)}")


@dataclass(frozen=True)
class Bucket:
    start: date  # the bucket's own first day (e.g. the Monday of the week)
    first: date  # the first day of it inside the period
    last: date  # the last day of it inside the period
    partial: bool  # the period cuts it (first > start or last < bucket end)

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1


def buckets(period: Period, grain: str) -> list[Bucket]:
    """The grain's buckets covering the period, clipped to it, in order."""
    out: list[Bucket] = []
    b = bucket_start(period.start, grain)
    while b <= period.end:
        e = bucket_end(b, grain)
        first, last = max(b, period.start), min(e, period.end)
        out.append(Bucket(b, first, last, first != b or last != e))
        b = e + timedelta(days=1)
    return out


def bucket_label(start: date, grain: str) -> str:
    """'2 Apr 2007', 'w/c 2 Apr 2007', 'Apr 2007', 'Q1 2007/08', 'FY 2007/08'."""
    if grain == "day":
        return _fmt_day(start)
    if grain == "week":
        return f"w/c {_fmt_day(start)}"
    if grain == "month":
        return f"{start:%b %Y}"
    if grain == "quarter":
        return f"Q{fy_quarter(start)} {fy_label(start)}"
    if grain == "fy":
        return f"FY {fy_label(start)}"
    raise ValueError(f"unknown grain {grain!r}; known: {', '.join(GRAINS)}")


# -- limits on what a URL or an API request may ask for ----------------------------------

# The most buckets one chart, table or API answer draws (a day grain over 13 years). A page
# asking for more is shown at the next coarser grain that fits, the API refuses it.
MAX_BUCKETS = 5000
# How far a custom range may reach beyond the data it is drawn from: enough for any real
# comparison (last year, a 13-month sparkline, a decade of context), never year 0 or 10000,
# where calendar arithmetic would fail, nor 1,000 years of empty days.
MARGIN_YEARS = 10
_ORDER = tuple(GRAINS)


def bucket_count(period: Period, grain: str) -> int:
    """How many buckets of `grain` cover the period, by arithmetic (a range of 40,000 years
    costs as little as a month): what `len(buckets(period, grain))` would be."""
    first, last = bucket_start(period.start, grain), bucket_start(period.end, grain)
    if grain == "day":
        return (last - first).days + 1
    if grain == "week":
        return (last - first).days // 7 + 1
    months = (last.year - first.year) * 12 + last.month - first.month
    return months // {"month": 1, "quarter": 3, "fy": 12}[grain] + 1


def fitting_grain(period: Period, grain: str) -> str:
    """`grain`, or the first coarser one whose buckets over the period number MAX_BUCKETS or
    fewer (a financial year always fits a range inside the window)."""
    for g in _ORDER[_ORDER.index(grain):]:
        if bucket_count(period, g) <= MAX_BUCKETS:
            return g
    return _ORDER[-1]


def window(first: date, last: date) -> Period:
    """The days a custom range may cover for data running from `first` to `last`: the data
    and MARGIN_YEARS either side, whole years, kept inside what `date` can count."""
    lo = max(first.year - MARGIN_YEARS, 2)
    hi = min(last.year + MARGIN_YEARS, 9997)
    return Period(date(lo, 1, 1), date(hi, 12, 31))


def outside_window(period: Period, first: date, last: date) -> str | None:
    """Why a range cannot be drawn for data running from `first` to `last`, or None."""
    allowed = window(first, last)
    if period.start < allowed.start or period.end > allowed.end:
        return (
            f"{period.start.isoformat()} to {period.end.isoformat()} reaches more than "
            f"{MARGIN_YEARS} years beyond the data; ranges from {allowed.start.isoformat()} "
            f"to {allowed.end.isoformat()} can be shown"
        )
    return None
