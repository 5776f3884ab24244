"""Early identification of deteriorating performance (HMIC 2007: Looking Glass "allows early
identification of deteriorating performance", L721).

For every unit of a force (force, BCUs, NPUs, teams) and every headline measure, on monthly
series of up to 36 months ending with the month asked for:

1. **SPC.** A control chart (dashboard/analysis/stats.py): counts on a c chart made seasonal (see below),
   proportions on a p chart, rates with a denominator on a u chart, means and censuses on an XmR
   chart. With 24 months or more the limits are computed from all but the last 12 months and
   held there ("frozen"), so that a new shift is judged against the old process rather than
   absorbed by it. A special cause counts when its pattern reaches into the last `recent`
   months (3: the current quarter).
2. **Against last year.** The last 3 months against the same 3 months a year before, with the
   exact tests of dashboard.analysis.metrics.compare (never a bare percentage).
3. **Target trajectory.** The year-end projection of dashboard/analysis/targets.py and the chance of
   meeting the target.

Seasonality: crime in July is not crime in January, and a c chart of raw monthly counts would
flag every summer. The expected share of each calendar month is estimated from the FORCE's own
series of that measure (ratio to a centred 12-month moving average, median over the years,
normalised to average 1; needs 24 months), and each count is charted against its exposure
"months' worth of crime" (a u chart with that seasonal exposure). Without 24 months of history
there is no adjustment, and the chart says so.

Polarity decides good and bad news: a rise in detections is an improvement, a rise in burglary a
concern. Rows are ranked by a severity score (see `severity`) that grows with the strength of the
evidence and the level of the unit; good news sorts after every concern.

Performance: the whole force is read in ONE query of the measure cube (every unit x month x
measure, crime and service alike); everything after that is numpy and the pure functions of
dashboard/analysis/stats.py (the charts are stats.c_chart, u_chart, p_chart and xmr_chart, so a chart here
is exactly the chart the statistics tests check). benchmarks/early_warning.py times it against
one query per unit.

Suspect and missing months are left out of every chart (shown as gaps, marked, and said).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from scipy import stats as sps

from dashboard.analysis import cusum, kinds, metrics, stats
from dashboard.analysis import targets as tg
from dashboard.periods import Period, add_months, month_end, month_start
from etl import hierarchy
from etl.measures.model import Measure
from etl.measures.registry import MEASURES

if TYPE_CHECKING:
    from dashboard.data.facade import DataAccess
    from dashboard.data.model import Unit

WINDOW = 36            # months on a chart
HISTORY = 60           # months read for the seasonal profile
FROZEN_LAST = 12       # with >= 24 months, limits from all but the last 12
MIN_POINTS = 12        # fewer usable months: no chart
SEASONAL_MIN = 24      # months of force history needed for a seasonal profile
COMPARE_MONTHS = 3     # the last-year comparison: the last 3 months (a rolling quarter)
# Every level that is not about individuals (force, BCU, NPU, team): officers are charted when
# access control lets someone see them.
SCAN_LEVELS = hierarchy.ids_where(individual=False)
# Seasonal profiles are estimated for crime, whose sources give years of monthly history; the
# service datasets' counts are charted without one.
SEASONAL_FAMILIES = ("crime",)
# "cusum": a one-sided Poisson CUSUM each way (dashboard/analysis/cusum.py) for a sustained shift
# of `Sensitivity.cusum_shift`, on count and rate charts (Poisson model) only; weighted like a run,
# the other rule for a sustained shift.
RULE_WEIGHT = {"beyond_3_sigma": 3.0, "two_of_three_beyond_2_sigma": 2.0, "run_of_8": 2.0, "trend_of_6": 1.5,
               "cusum": 2.0}
RULE_WORDS = {"beyond_3_sigma": "beyond 3 sigma", "two_of_three_beyond_2_sigma": "2 of 3 beyond 2 sigma",
              "run_of_8": "run", "trend_of_6": "trend", "cusum": "sustained shift (CUSUM)"}


@dataclass(frozen=True)
class Sensitivity:
    """How readily a pattern becomes an exception: a setting on the Early warning page."""

    name: str
    label: str
    rules: frozenset[str]
    run_length: int
    trend_length: int
    alpha: float              # significance level of the last-year test
    recent: int = 3           # a signal counts if it reaches into the last `recent` months
    miss_probability: float = 0.25   # a target is flagged when the chance of meeting it is below this
    # XmR limits from moving ranges screened of freaks (above 3.267 mR-bar): Making Data Count
    screen_outliers: bool = False
    # the relative shift the CUSUM rule is tuned to find, and its false alarms per 100 months
    # on each side (its decision interval is calibrated to that: see cusum_signals)
    cusum_shift: float = cusum.DEFAULT_SHIFT
    cusum_alarms_per_100: float = cusum.DEFAULT_BUDGET

    @property
    def description(self) -> str:
        rules = []
        if "beyond_3_sigma" in self.rules:
            rules.append("a point beyond 3 sigma")
        if "two_of_three_beyond_2_sigma" in self.rules:
            rules.append("2 of 3 points beyond 2 sigma")
        if "run_of_8" in self.rules:
            rules.append(f"a run of {self.run_length} on one side")
        if "trend_of_6" in self.rules:
            rules.append(f"a trend of {self.trend_length}")
        if "cusum" in self.rules:
            rules.append(f"a CUSUM for a sustained {self.cusum_shift:.0%} shift in a count")
        return (f"{', '.join(rules)}; change on last year significant at {self.alpha:g}; "
                f"targets flagged below a {self.miss_probability:.0%} chance")


ALL_RULES = frozenset(RULE_WEIGHT)
SENSITIVITIES: dict[str, Sensitivity] = {
    "standard": Sensitivity(
        "standard", "Standard (3 sigma, run of 8, trend of 6, 2 of 3, CUSUM)", ALL_RULES, 8, 6, 0.05
    ),
    "conservative": Sensitivity(
        "conservative", "Conservative (3 sigma only)", frozenset({"beyond_3_sigma"}), 8, 6, 0.01
    ),
    "mdc": Sensitivity(
        "mdc", "Making Data Count (3 sigma, run of 7, trend of 7, 2 of 3, CUSUM; XmR moving ranges "
        "screened)", ALL_RULES, 7, 7, 0.05, screen_outliers=True,
    ),
}
DEFAULT_SENSITIVITY = "standard"


def sensitivity(name: str | None) -> Sensitivity:
    return SENSITIVITIES.get(name or DEFAULT_SENSITIVITY, SENSITIVITIES[DEFAULT_SENSITIVITY])


# -- pure: seasonal profile and one chart ---------------------------------------------------------------


def seasonal_index(months: Sequence[date], counts: Sequence[float]) -> np.ndarray | None:
    """Expected share of each calendar month (12 values, January first, mean 1), or None.

    Classical decomposition: each month's count over a centred 2x12 moving average (the mean of
    two adjacent 12-month means); the median of those ratios per calendar month across the years;
    normalised so the 12 values average 1. Needs SEASONAL_MIN consecutive usable months (NaN
    marks an unusable month; the longest unbroken stretch is used).
    """
    x = np.asarray(counts, dtype=float)
    ok = np.isfinite(x)
    best, cur_start, best_span = None, None, (0, 0)
    for i, good in enumerate([*ok, False]):
        if good and cur_start is None:
            cur_start = i
        elif not good and cur_start is not None:
            if i - cur_start > best_span[1] - best_span[0]:
                best_span = (cur_start, i)
            cur_start = None
    a, b = best_span
    if b - a < SEASONAL_MIN:
        return best
    seg = x[a:b]
    cal = np.array([months[i].month for i in range(a, b)])
    if seg.sum() <= 0:
        return None
    c12 = np.convolve(seg, np.ones(12) / 12.0, mode="valid")          # mean of 12, starts at t
    ma = (c12[:-1] + c12[1:]) / 2.0                                     # centred on t + 6
    ratios: dict[int, list[float]] = {m: [] for m in range(1, 13)}
    for j, level in enumerate(ma):
        t = j + 6
        if level > 0:
            ratios[int(cal[t])].append(seg[t] / level)
    if any(not v for v in ratios.values()):
        return None
    idx = np.array([float(np.median(ratios[m])) for m in range(1, 13)])
    if not np.all(idx > 0):
        return None
    return idx / idx.mean()


def chart_kind(measure: Measure) -> str:
    """'c' (a count, seasonal when history allows), 'p' (proportion), 'u' (rate) or 'xmr'."""
    return kinds.chart(measure)


@dataclass(frozen=True)
class Chart:
    """One SPC chart of one unit and measure, every month of the window (gaps included)."""

    unit_id: str
    measure_id: str
    months: list[date]             # every month of the window
    status: list[str]              # 'ok' | 'missing' | 'suspect' | 'no data'
    reasons: list[str]
    k: np.ndarray                  # numerators (NaN where not ok)
    n: np.ndarray                  # denominators / exposures (NaN where none)
    values: np.ndarray             # the plotted value (display units; NaN where not ok)
    centre: np.ndarray             # NaN where not ok
    lcl: np.ndarray
    ucl: np.ndarray
    signals: list[stats.Signal]    # indexes into `months`
    kind: str                      # 'c', 'c (seasonal)', 'p', 'u', 'xmr'
    baseline: tuple[date, date] | None    # months the limits were computed from
    seasonal: bool
    verdict: str                   # stats.variation_verdict of the latest usable month
    notes: tuple[str, ...] = ()
    exposure: np.ndarray | None = None   # what each count was charted against (seasonal share x
                                         # population / 1,000, or the denominator); NaN where not ok

    @property
    def usable(self) -> int:
        return int(sum(s == "ok" for s in self.status))


def spc_chart(unit_id: str, measure: Measure, months: Sequence[date], k: np.ndarray, n: np.ndarray | None,
              status: Sequence[str], sens: Sensitivity, season: np.ndarray | None = None,
              exposure: float = 1.0, reasons: Sequence[str] | None = None) -> Chart | None:
    """The control chart of one series (pure). `k`, `n` per month; `status` 'ok' marks usable
    months; `season`: 12 calendar-month factors for counts; `exposure`: a constant exposure
    (population / 1,000 for per-head rates). None when there are fewer than MIN_POINTS usable
    months."""
    if not kinds.valued(measure):
        return None
    months = list(months)
    k = np.asarray(k, dtype=float)
    n = np.full(k.size, np.nan) if n is None else np.asarray(n, dtype=float)
    kind = chart_kind(measure)
    ok = (np.asarray(status) == "ok") & np.isfinite(k)
    if kind in ("p", "u"):
        with np.errstate(invalid="ignore"):
            ok &= np.isfinite(n) & (n > 0)
            if kind == "p":
                ok &= k <= n
    idx = np.flatnonzero(ok)
    if idx.size < MIN_POINTS:
        return None
    kk, nn = k[idx], n[idx]
    baseline = idx.size - FROZEN_LAST if idx.size >= 2 * FROZEN_LAST else None
    seasonal = False
    scale = 1.0
    notes: list[str] = []
    kw = {"baseline": baseline, "run_length": sens.run_length, "trend_length": sens.trend_length}
    if kind == "c":
        if season is not None:
            cal = np.fromiter((months[i].month - 1 for i in idx), dtype=int, count=idx.size)
            expo = exposure * season[cal]
            seasonal = True
            res = stats.u_chart(kk, expo, **kw)
        elif exposure != 1.0:
            expo = np.full(idx.size, float(exposure))
            res = stats.u_chart(kk, expo, **kw)
        else:
            expo = np.ones(idx.size)
            res = stats.c_chart(kk, **kw)
        values = kk / expo
        label = "c (seasonal)" if seasonal else "c"
        if not seasonal:
            notes.append("Not seasonally adjusted: fewer than 24 months of history for this force.")
    elif kind in ("p", "u"):
        res = stats.p_chart(kk, nn, **kw) if kind == "p" else stats.u_chart(kk, nn, **kw)
        values, label, scale, expo = kk / nn, kind, measure.scale, nn
    else:
        if not kinds.divides(measure):
            values = kk / nn
        elif kinds.per_population(measure):   # crime harm per 1,000: exposure = population / 1,000
            values = kk / float(exposure)
        elif kinds.has_denominator(measure):
            values = kk / nn * measure.scale
        else:
            values = kk
        if values.size < 2:
            return None
        res = stats.xmr_chart(values, screen_outliers=sens.screen_outliers, **kw)
        label, expo = "xmr", np.full(idx.size, np.nan)
    centre, lcl, ucl = np.array(res.centre), np.array(res.lcl), np.array(res.ucl)
    signals_local = [g for g in res.signals if g.rule in sens.rules]
    if "cusum" in sens.rules and kind in ("c", "u") and kinds.model(measure) == "poisson":
        # expected count = the chart's own baseline rate (frozen centre line) x the month's exposure
        signals_local = sorted(signals_local + cusum_signals(kk, centre * expo, sens, baseline),
                               key=lambda g: (g.index, g.start))
    filtered = stats.SpcResult(label, res.centre, res.lcl, res.ucl, res.sigma, signals_local)
    verdict = stats.variation_verdict(filtered, values, measure.polarity)

    def spread(arr: Any, factor: float | None = None) -> np.ndarray:
        out = np.full(len(months), np.nan)
        out[idx] = np.asarray(arr, dtype=float) * (scale if factor is None else factor)
        return out

    signals = [stats.Signal(g.rule, int(idx[g.index]), int(idx[g.start]), g.side,
                            None if g.fired is None else int(idx[g.fired])) for g in signals_local]
    base = (months[idx[0]], months[idx[baseline - 1]]) if baseline else (months[idx[0]], months[idx[-1]])
    return Chart(unit_id, measure.id, months, list(status),
                 list(reasons) if reasons is not None else [""] * len(months),
                 k, n, spread(values), spread(centre), spread(lcl), spread(ucl), signals, label, base,
                 seasonal, verdict, tuple(notes), spread(expo, 1.0))


def cusum_signals(counts: np.ndarray, expected: np.ndarray, sens: Sensitivity,
                  baseline_months: int | None = None) -> list[stats.Signal]:
    """The CUSUM rule on one chart's usable months: a rise and a fall of `sens.cusum_shift`,
    each a one-sided Poisson CUSUM (cusum.poisson_cusum) on the chart's expected counts, with
    the decision interval at which it raises `sens.cusum_alarms_per_100` false alarms per 100
    months on its side given that its baseline was estimated from `baseline_months` months (the
    chart's frozen baseline; all the counts when None), at the chart's mean expected count
    (cusum.decision_interval: a precomputed table, no calibration at run time). A Signal spans
    the estimated start of the shift to the last month of the alarm; `fired` is the month it
    crossed h. None below cusum.MIN_EXPECTED a month."""
    mu = float(np.mean(expected)) if len(expected) else math.nan
    if not mu >= cusum.MIN_EXPECTED:
        return []
    months = len(counts) if baseline_months is None else baseline_months
    out: list[stats.Signal] = []
    for direction, side in (("up", "above"), ("down", "below")):
        h = cusum.decision_interval(mu, months, sens.cusum_alarms_per_100, sens.cusum_shift, direction)
        result = cusum.poisson_cusum(counts, expected, h, sens.cusum_shift, direction)
        out += [stats.Signal("cusum", a.end, a.start, side, a.fired) for a in result.alarms]
    return out


def judgement(side: str, polarity: str) -> str:
    """'concern', 'improvement' or 'neutral' for a signal's side under a polarity."""
    if polarity not in ("up", "down"):
        return "neutral"
    high = side in ("above", "up")
    return "improvement" if high == (polarity == "up") else "concern"


def detected_at(signal: stats.Signal, sens: Sensitivity, chart: Chart) -> int:
    """Index of the month in which the rule first fired: the point completing the shortest
    pattern that qualifies (a run of 8 fires on its 8th usable month), or the point itself."""
    usable = [i for i, s in enumerate(chart.status) if s == "ok" and math.isfinite(chart.values[i])]
    if signal.fired is not None:      # the rule says when it fired (the CUSUM's alarm month)
        return signal.fired
    pos = {m: j for j, m in enumerate(usable)}
    start = pos.get(signal.start, 0)
    need = {"beyond_3_sigma": 1, "two_of_three_beyond_2_sigma": 2, "run_of_8": sens.run_length,
            "trend_of_6": sens.trend_length}[signal.rule]
    if signal.rule == "beyond_3_sigma":
        return signal.index
    j = min(start + need - 1, pos.get(signal.index, len(usable) - 1))
    return usable[j]


def episode(chart: Chart, recent: list[stats.Signal], measure: Measure, sens: Sensitivity
            ) -> tuple[int | None, int | None]:
    """(first month, month first fired) of the episode the recent signals belong to.

    Signals of the same reading (concern or improvement) whose patterns overlap or follow each
    other with no usable month between them form one episode: a point beyond 3 sigma in June
    followed by 2-of-3 from June to September is one deterioration that started, and was first
    flagged, in June -- even after June itself has left the last `recent` months.
    """
    if not recent:
        return None, None
    reading = judgement(recent[0].side, measure.polarity)
    usable = [i for i, s in enumerate(chart.status) if s == "ok" and math.isfinite(chart.values[i])]
    pos = {m: j for j, m in enumerate(usable)}
    same = sorted((g for g in chart.signals if judgement(g.side, measure.polarity) == reading),
                  key=lambda g: pos.get(g.start, 0))
    groups: list[list[stats.Signal]] = []
    ends: list[int] = []
    for g in same:
        a, b = pos.get(g.start, 0), pos.get(g.index, 0)
        if groups and a <= ends[-1] + 1:
            groups[-1].append(g)
            ends[-1] = max(ends[-1], b)
        else:
            groups.append([g])
            ends.append(b)
    wanted = {(g.rule, g.start, g.index) for g in recent}
    mine = [grp for grp in groups if any((g.rule, g.start, g.index) in wanted for g in grp)]
    if not mine:
        return min(g.start for g in recent), min(detected_at(g, sens, chart) for g in recent)
    members = [g for grp in mine for g in grp]
    return min(g.start for g in members), min(detected_at(g, sens, chart) for g in members)


def recent_signals(chart: Chart, sens: Sensitivity) -> list[stats.Signal]:
    """Signals whose pattern reaches into the last `sens.recent` usable months."""
    usable = [i for i, s in enumerate(chart.status) if s == "ok" and math.isfinite(chart.values[i])]
    if not usable:
        return []
    cutoff = usable[max(0, len(usable) - sens.recent)]
    return [s for s in chart.signals if s.index >= cutoff]


def describe(chart: Chart, signal: stats.Signal, measure: Measure) -> str:
    """One sentence for a signal: stats.describe_signal's, or for the CUSUM "Burglary: a
    sustained rise of about 20% since June 2007 (a concern)", the size being the observed
    change from the estimated start to the signal's last month against the chart's expected
    counts (centre x exposure), rounded to the nearest 5%."""
    if signal.rule != "cusum":
        return stats.describe_signal(signal, chart.months, measure.label, measure.polarity)
    span = slice(signal.start, signal.index + 1)
    seen, expected = chart.values[span] * chart.exposure[span], chart.centre[span] * chart.exposure[span]
    ok = np.isfinite(seen) & np.isfinite(expected)
    change = float(seen[ok].sum() / expected[ok].sum() - 1.0) if expected[ok].sum() > 0 else math.nan
    size = 5 * round(abs(change) * 100 / 5) if math.isfinite(change) else 0
    word = "rise" if signal.side == "above" else "fall"
    core = (f"a sustained {word} of about {size}%" if size else f"a sustained {word}") + \
        f" since {chart.months[signal.start]:%B %Y}"
    text = f"{measure.label}: {core}" if measure.label else core[0].upper() + core[1:]
    reading = judgement(signal.side, measure.polarity)
    return text + {"concern": " (a concern)", "improvement": " (an improvement)"}.get(reading, "")


# -- severity ------------------------------------------------------------------------------------------


def severity(level: str, spc: float, last_year: float, target: float) -> float:
    """How urgent a row is: (SPC + last-year + target components) x level weight.

    SPC: the weight of the strongest rule firing in the concern direction (3 beyond 3 sigma,
    2 for 2-of-3 or a run, 1.5 for a trend) plus half the latest month's distance from the
    centre line in sigmas (capped at 6). Last year: -log10(p) of a significant deterioration
    (capped at 6). Target: 3 x (1 - chance of meeting it) when flagged. Level: force 1.5, BCU
    1.25, NPU 1, team 0.75 -- the same evidence matters more the more people it covers.
    """
    return hierarchy.level(level).scan_weight * (spc + last_year + target)


# -- the force panel: one read ------------------------------------------------------------------------


@dataclass
class Panel:
    """Every measure of a force's units by month (arrays), read once from the measure cube."""

    force_id: str
    source: str
    units: list[Unit]
    uindex: dict[str, int]
    months: list[date]
    measures: dict[str, Series] = field(default_factory=dict)


@dataclass
class Series:
    """One measure's months for every unit of a panel."""

    num: np.ndarray           # (unit, month); NaN where no row (0 for a count with rows elsewhere)
    den: np.ndarray           # (unit, month); NaN where none
    has: np.ndarray           # (unit,): the unit has rows for the measure
    status: list[str]         # per month: 'ok' | 'missing' | 'suspect' (the measure's own source)
    reasons: list[str]


def scan_units(data: DataAccess, force_id: str) -> list[Unit]:
    out = []
    for level in SCAN_LEVELS:
        out.extend(sorted(data.units_at(force_id, level), key=lambda u: u.unit_id))
    return out


def month_status(
    data: DataAccess, force_id: str, family: str, months: list[date]
) -> tuple[list[str], list[str]]:
    source = data.source_for(force_id, family)
    suspect = set(data.suspect_in(force_id, Period(months[0], month_end(months[-1])), family))
    status, reasons = [], []
    for m in months:
        if source is None or m not in source.months:
            status.append("missing")
            reasons.append(f"no {family} data for {m:%b %Y}")
        elif m in suspect:
            status.append("suspect")
            reasons.append(f"{m:%b %Y} is a suspect month (far below its expected level)")
        else:
            status.append("ok")
            reasons.append("")
    return status, reasons


def panel(
    data: DataAccess, force_id: str, end_month: date, *, measure_ids: Sequence[str] = ()
) -> Panel | None:
    """The force's measure cube for `measure_ids`, HISTORY months to `end_month`, in one query,
    as arrays. None when the force has no crime source (whose months the panel spans)."""
    end_month = month_start(end_month)
    key = (force_id, end_month, tuple(sorted(measure_ids)))
    return data.cached("early_warning.panel", key, lambda: read_panel(data, force_id, end_month, measure_ids))


def _month_index(values: Any, first: date) -> np.ndarray:
    """Months (dates or timestamps) -> index from `first`, vectorised."""
    m = np.asarray(pd.to_datetime(pd.Series(values)).to_numpy(dtype="datetime64[M]"), dtype="datetime64[M]")
    return (m - np.datetime64(first, "M")).astype(int)


def read_panel(data: DataAccess, force_id: str, end_month: date, measure_ids: Sequence[str],
           unit_ids: Sequence[str] | None = None) -> Panel | None:
    """Read the panel: every unit of the force, or only `unit_ids` and the force itself (whose
    series gives the seasonal profile); one read of the measure cube either way."""
    source = data.source_for(force_id)
    if source is None:
        return None
    months = [add_months(end_month, -i) for i in range(HISTORY - 1, -1, -1)]
    months = [m for m in months if m >= month_start(source.first_month)] or [end_month]
    units = scan_units(data, force_id)
    if unit_ids is not None:
        wanted = {force_id, *unit_ids}
        units = [u for u in units if u.unit_id in wanted]
    uids = [u.unit_id for u in units]
    uindex = {u: i for i, u in enumerate(uids)}
    ids = sorted(set(measure_ids))
    if unit_ids is None:
        cube = data.force_measure_cube(force_id, SCAN_LEVELS, ids, months[0], months[-1])
    else:
        found = [data.source_for(force_id, MEASURES[mid].dataset) for mid in ids]
        sources = sorted({s.source for s in found if s is not None})
        cube = data.measure_months(sources, uids, ids, months[0], months[-1]) if sources else None
    out = Panel(force_id, source.source, units, uindex, months)
    if cube is None or not ids:
        return out
    su = pd.Categorical(cube["unit_id"], categories=uids).codes
    sm = _month_index(cube["month"], months[0]) if not cube.empty else np.zeros(0, dtype=int)
    # each row's measure and source as codes, found once: a text comparison over the whole cube
    # per measure was most of a many-measure panel's time (the same rows are selected)
    mcode = pd.Categorical(cube["measure_id"], categories=ids).codes
    source_names = sorted({str(v) for v in cube["source"].unique()}) if not cube.empty else []
    scode = pd.Categorical(cube["source"], categories=source_names).codes
    inside = (su >= 0) & (sm >= 0) & (sm < len(months))
    statuses: dict[str, tuple[list[str], list[str]]] = {}
    for j, mid in enumerate(ids):
        measure = MEASURES[mid]
        fam = measure.dataset
        src = data.source_for(force_id, fam)
        sel = (mcode == j) & inside
        if src is not None:
            sel &= scode == (source_names.index(src.source) if src.source in source_names else -2)
        num = np.full((len(units), len(months)), np.nan)
        den = np.full((len(units), len(months)), np.nan)
        has = np.zeros(len(units), dtype=bool)
        if sel.any():
            num[su[sel], sm[sel]] = cube["num"].to_numpy(dtype=float)[sel]
            den[su[sel], sm[sel]] = cube["den"].to_numpy(dtype=float)[sel]
            has[np.unique(su[sel])] = True
        if not kinds.has_denominator(measure):
            num = np.where(np.isnan(num) & has[:, None], 0.0, num)   # a month without a row had none
        if fam not in statuses:
            statuses[fam] = month_status(data, force_id, fam, months)
        st, reasons = statuses[fam]
        out.measures[mid] = Series(num, den, has, st, reasons)
    return out


def _seasonal_profiles(p: Panel, measures: Sequence[Measure]) -> dict[str, np.ndarray | None]:
    force_i = next((i for i, u in enumerate(p.units) if u.level == "force"), None)
    out: dict[str, np.ndarray | None] = {}
    for m in measures:
        if chart_kind(m) != "c" or m.dataset not in SEASONAL_FAMILIES or force_i is None:
            continue
        series = p.measures.get(m.id)
        if series is None:
            continue
        k = series.num[force_i]
        out[m.id] = seasonal_index(p.months, np.where(np.array(series.status) == "ok", k, np.nan))
    return out


# -- charts for a whole force ---------------------------------------------------------------------------


def scan_measures() -> list[Measure]:
    """Headline measures the exceptions list looks at (a measure's own `scan` flag: crime per
    1,000 repeats total crime's signals, so it is charted but not listed)."""
    return [m for m in metrics.headline_measures() if m.scan]


def _window(p: Panel) -> slice:
    return slice(max(0, len(p.months) - WINDOW), len(p.months))


def _chart(p: Panel, ui: int, m: Measure, sens: Sensitivity, season: np.ndarray | None) -> Chart | None:
    """One unit's chart of one measure from the panel, the same for every measure: counts
    against a (seasonal) exposure, rates per head against the unit's population, rates and
    proportions against their denominators, the rest on an XmR chart."""
    series = p.measures.get(m.id)
    if series is None or not series.has[ui]:
        return None
    unit = p.units[ui]
    w = _window(p)
    exposure = 1.0
    if kinds.per_population(m):
        if not unit.population:
            return None
        exposure = unit.population / 1000.0
    k = series.num[ui, w]
    n = series.den[ui, w] if kinds.exposure_is_denominator(m) else None
    status = [s if (s != "ok" or np.isfinite(k[j])) else "no data" for j, s in enumerate(series.status[w])]
    return spc_chart(unit.unit_id, m, p.months[w], k, n, status, sens, season, exposure, series.reasons[w])


def charts(
    data: DataAccess, force_id: str, end_month: date, sens: Sensitivity
) -> dict[tuple[str, str], Chart]:
    """Every (unit, headline measure) chart of the force, from one panel read (cached)."""
    end_month = month_start(end_month)
    return data.cached("early_warning.charts", (force_id, end_month, sens.name),
                      lambda: _charts(data, force_id, end_month, sens))


def panel_measure_ids(data: DataAccess, force_id: str) -> tuple[str, ...]:
    """Measures the scan reads: the headline ones and any with a target (registry or file),
    whose outlooks come from the same panel."""
    ids = {m.id for m in scan_measures()}
    # every headline measure too (scanned or not), so that one unit's charts of all of them and
    # its target outlooks come from ONE panel read (the assessment asks for all of them)
    ids |= set(metrics.headline_ids())
    ids |= {m.id for m in MEASURES.values() if m.target is not None}
    try:
        ids |= {r.measure_id for r in tg.warehouse_targets(data) if r.unit_id.split("/", 1)[0] == force_id}
    except Exception:   # a bad targets file is reported on the page; the scan goes on without it
        pass
    return tuple(sorted(ids))


def _charts(
    data: DataAccess, force_id: str, end_month: date, sens: Sensitivity
) -> dict[tuple[str, str], Chart]:
    measures = scan_measures()
    p = panel(data, force_id, end_month, measure_ids=panel_measure_ids(data, force_id))
    out: dict[tuple[str, str], Chart] = {}
    if p is None:
        return out
    seasons = _seasonal_profiles(p, measures)
    for m in measures:
        for ui, unit in enumerate(p.units):
            c = _chart(p, ui, m, sens, seasons.get(m.id))
            if c is not None:
                out[(unit.unit_id, m.id)] = c
    return out


def unit_panel(data: DataAccess, unit_id: str, end_month: date, measure_ids: Sequence[str]) -> Panel | None:
    """The panel of one unit and its force (one small read): what one chart, the scorecard's
    SPC column and one unit's target outlook need, without scanning the whole force."""
    unit = data.unit(unit_id)
    if unit is None:
        return None
    end_month = month_start(end_month)
    ids = tuple(sorted(measure_ids))
    return data.cached("early_warning.unit_panel", (unit_id, end_month, ids),
                       lambda: read_panel(data, unit.force_id, end_month, ids, [unit_id]))


def _by_force(data: DataAccess, unit_ids: Sequence[str]) -> dict[str, list[str]]:
    """The known units of `unit_ids` grouped by force, in their order: what one read per
    force serves."""
    by_force: dict[str, list[str]] = {}
    for uid in unit_ids:
        unit = data.unit(uid)
        if unit is not None:
            by_force.setdefault(unit.force_id, []).append(uid)
    return by_force


def prefetch_unit_panels(data: DataAccess, unit_ids: Sequence[str], end_month: date,
                         extra: Sequence[str] = ()) -> None:
    """`unit_panel` of several units in ONE read per force (the exceptions list assesses a
    force's BCUs and NPUs: one measure-cube query each was a third of its time), each unit's
    panel left in the cache under the key `unit_panel` uses. A unit's panel is cut from the
    shared read: the same rows (the force and the unit), the same arrays."""
    end_month = month_start(end_month)
    for force_id, uids in _by_force(data, unit_ids).items():
        ids = tuple(sorted(panel_measure_ids(data, force_id)))
        more = sorted(set(extra) - set(ids))
        # a chart of a measure outside the panel's reads the panel plus that measure
        # (chart_for): those panels are cut from the same read, one key per extra measure
        keys = [(ids, None)] + [(tuple(sorted((*ids, m))), m) for m in more]
        wanted = [(uid, end_month, k) for uid in uids for k, _m in keys]
        if all(data.cached_peek("early_warning.unit_panel", w) for w in wanted):
            continue

        def compute(missing: list[tuple[Any, ...]], force_id: str = force_id, ids: tuple[str, ...] = ids,
                    more: list[str] = more) -> dict[tuple[Any, ...], Any]:
            whole = read_panel(data, force_id, end_month, tuple(sorted({*ids, *more})),
                               sorted({str(k[0]) for k in missing}))
            out: dict[tuple[Any, ...], Any] = {}
            for k in missing:
                keep = set(k[2])
                out[k] = None if whole is None else _unit_cut(whole, str(k[0]), keep)
            return out

        data.cached_many("early_warning.unit_panel", wanted, compute)


def _unit_cut(p: Panel, unit_id: str, measure_ids: set[str] | None = None) -> Panel:
    """The panel of the force and one unit (and only `measure_ids`, if given), cut from a panel
    of more units and measures (what read_panel gives for that unit and those measures alone:
    each measure's series is read and filled on its own)."""
    keep = [i for i, u in enumerate(p.units) if u.unit_id in (p.force_id, unit_id)]
    units = [p.units[i] for i in keep]
    out = Panel(p.force_id, p.source, units, {u.unit_id: i for i, u in enumerate(units)}, p.months)
    for mid, s in p.measures.items():
        if measure_ids is None or mid in measure_ids:
            out.measures[mid] = Series(s.num[keep], s.den[keep], s.has[keep], s.status, s.reasons)
    return out


def chart_for(
    data: DataAccess, unit_id: str, measure_id: str, end_month: date, sens: Sensitivity
) -> Chart | None:
    """The chart of any unit (force to team) and any measure, from the unit's own panel (the
    same arithmetic and seasonal profile as the force scan, so the same chart)."""
    unit = data.unit(unit_id)
    m = MEASURES.get(measure_id)
    if unit is None or m is None or unit.level not in SCAN_LEVELS:
        return None
    ids = panel_measure_ids(data, unit.force_id)
    if m.id not in ids:
        ids = (*ids, m.id)
    p = unit_panel(data, unit_id, end_month, ids)
    if p is None or unit_id not in p.uindex:
        return None
    season = _seasonal_profiles(p, [m]).get(m.id)
    return _chart(p, p.uindex[unit_id], m, sens, season)


# -- the exceptions list ----------------------------------------------------------------------------------

EXCEPTION_COLUMNS = [
    "rank", "severity", "reading", "unit_id", "unit", "level", "measure_id", "measure", "why", "spc_text",
    "signal_start", "signal_month", "latest_value", "centre", "z", "last_year_text", "last_year_p",
    "target_text", "target_probability", "verdict",
]


@dataclass
class _Pair:
    """The last COMPARE_MONTHS months of a chart and the same months a year before."""

    k1: float
    k0: float
    n1: float
    n0: float
    span: str
    p: float = math.nan
    v1: float = math.nan
    v0: float = math.nan


def last_year_pair(chart: Chart, m: Measure) -> _Pair | None:
    months = chart.months
    if len(months) < 12 + COMPARE_MONTHS:
        return None
    last = len(months) - 1
    now_i = [i for i in range(last - COMPARE_MONTHS + 1, last + 1)
             if chart.status[i] == "ok" and chart.status[i - 12] == "ok"]
    if not now_i:
        return None
    then_i = [i - 12 for i in now_i]
    k1, k0 = float(np.nansum(chart.k[now_i])), float(np.nansum(chart.k[then_i]))
    if kinds.exposure_is_denominator(m):
        n1, n0 = float(np.nansum(chart.n[now_i])), float(np.nansum(chart.n[then_i]))
    else:
        n1 = n0 = math.nan
    span = (
        f"{months[now_i[0]]:%b}–{months[now_i[-1]]:%b %Y}" if len(now_i) > 1 else f"{months[now_i[0]]:%b %Y}"
    )
    return _Pair(k1, k0, n1, n0, span)


def last_year_tests(items: list[tuple[Measure, _Pair]]) -> None:
    """Fill p (and the values compared) of every pair, vectorised where the test allows.

    The same tests as dashboard.analysis.metrics.compare, so the words match the scorecard's:
    - counts over equal spans (crimes, per-head rates, service counts): the exact conditional
      test (stats.compare_counts with t1 = t0); for equal exposures its two-sided p-value is
      min(1, 2 P(X <= min(k1, k0))), X ~ Binomial(k1 + k0, 1/2), computed for all at once;
    - proportions: the pooled two-proportion z-test, vectorised; a pair with an expected cell
      below 5 goes to stats.compare_proportions (Fisher's exact test), as metrics.compare does;
    - anything else (rates with a denominator, means): metrics.compare one by one.
    """
    counts, props, other = [], [], []
    for m, pr in items:
        model = kinds.model(m)
        pr.v1, pr.v0 = metrics.value(m, pr.k1, _den(m, pr.n1)), metrics.value(m, pr.k0, _den(m, pr.n0))
        whole = all(math.isfinite(x) and x == math.floor(x) and x >= 0 for x in (pr.k1, pr.k0))
        if (
            model == "poisson"
            and whole
            and not kinds.exposure_is_denominator(m)
        ):
            counts.append(pr)
        elif model == "binomial" and whole and all(
                math.isfinite(x) and x == math.floor(x) and x > 0 for x in (pr.n1, pr.n0)) \
                and pr.k1 <= pr.n1 and pr.k0 <= pr.n0:
            props.append(pr)
        else:
            other.append((m, pr))
    if counts:
        k1 = np.array([p.k1 for p in counts])
        k0 = np.array([p.k0 for p in counts])
        tot = k1 + k0
        pv = np.minimum(1.0, 2.0 * sps.binom.cdf(np.minimum(k1, k0), tot, 0.5))
        pv = np.where(tot == 0, 1.0, np.where(k1 == k0, 1.0, pv))
        for p, v in zip(counts, pv, strict=True):
            p.p = float(v)
    if props:
        k1 = np.array([p.k1 for p in props])
        n1 = np.array([p.n1 for p in props])
        k0 = np.array([p.k0 for p in props])
        n0 = np.array([p.n0 for p in props])
        total, succ = n1 + n0, k1 + k0
        cells = np.stack([n1 * succ / total, n1 * (total - succ) / total,
                          n0 * succ / total, n0 * (total - succ) / total])
        small = np.any(cells < 5, axis=0)
        pooled = succ / total
        se = np.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n0))
        with np.errstate(divide="ignore", invalid="ignore"):
            z = (k1 / n1 - k0 / n0) / se
        pv = np.where(se > 0, 2.0 * sps.norm.sf(np.abs(z)), 1.0)
        for i, p in enumerate(props):
            if small[i]:
                p.p = stats.compare_proportions(int(p.k1), int(p.n1), int(p.k0), int(p.n0)).p_value
            else:
                p.p = float(pv[i])
    for m, p in other:
        comp = metrics.compare(m, p.k1, p.n1, p.k0, p.n0)
        p.p = comp.change.p_value if comp.change is not None else math.nan


def _den(m: Measure, n: float) -> float:
    return math.nan if kinds.per_population(m) else n


def change_text(m: Measure, pr: _Pair, alpha: float) -> tuple[str, str]:
    """(verdict, words) like metrics.compare's: '▲ +12.0%: worse, significant (p = 0.003)'."""
    v1, v0 = pr.v1, pr.v0
    if kinds.per_population(m):
        v1, v0 = pr.k1, pr.k0   # a fixed population: the change in the rate is the change in the count
    if not (math.isfinite(v1) and math.isfinite(v0)) or not math.isfinite(pr.p):
        return "", ""
    diff = v1 - v0
    arrow = "▲" if diff > 0 else "▼" if diff < 0 else "▶"
    if m.unit == "%":
        size = f"{diff:+.1f} points"
    elif v0 == 0:
        size = "from none"
    else:
        size = f"{diff / v0 * 100:+.1f}%"
    pw = f"p = {pr.p:.3f}" if pr.p >= 0.001 else "p < 0.001"
    if pr.p >= alpha:
        return "", f"{pr.span} against a year before: {arrow} {size}, not significant ({pw})"
    if m.polarity == "neutral":
        return "", f"{pr.span} against a year before: {arrow} {size}, significant ({pw})"
    verdict = "better" if (diff > 0) == (m.polarity == "up") else "worse"
    return verdict, f"{pr.span} against a year before: {arrow} {size}: {verdict}, significant ({pw})"


def _z(chart: Chart, i: int) -> float:
    c, u = chart.centre[i], chart.ucl[i]
    v = chart.values[i]
    if not all(math.isfinite(x) for x in (c, u, v)) or u == c:
        return math.nan
    return (v - c) / ((u - c) / 3.0)


def exceptions(data: DataAccess, force_id: str, end_month: date, sensitivity_name: str = DEFAULT_SENSITIVITY,
               *, include_improvements: bool = True) -> pd.DataFrame:
    """The scan's own per-cell list: every unit x headline measure of the force with a special
    cause in its latest months, a significant change on the rolling quarter last year, or a
    target it is unlikely to meet; ranked by severity, concerns first (EXCEPTION_COLUMNS).
    No page draws it any more: the PIM's list is dashboard.analysis.assessment.exceptions (one
    verdict per unit x measure x period). It stays for the detection tests and benchmarks of
    the scan itself. `signal_start` is the first month of the strongest
    pattern, `signal_month` the month its rule first fired."""
    sens = sensitivity(sensitivity_name)
    end_month = month_start(end_month)
    frame = data.cached("early_warning.exceptions", (force_id, end_month, sens.name),
                       lambda: _exceptions(data, force_id, end_month, sens))
    if not include_improvements:
        frame = frame[frame["reading"] == "concern"].reset_index(drop=True)
        frame["rank"] = range(1, len(frame) + 1)
    return frame


def _exceptions(data: DataAccess, force_id: str, end_month: date, sens: Sensitivity) -> pd.DataFrame:
    all_charts = charts(data, force_id, end_month, sens)
    try:
        outlooks = target_outlooks(data, force_id, end_month)
    except Exception:   # a broken targets file must not hide the other exceptions
        outlooks = {}
    pairs: dict[tuple[str, str], _Pair] = {}
    for key, chart in all_charts.items():
        pr = last_year_pair(chart, MEASURES[key[1]])
        if pr is not None:
            pairs[key] = pr
    last_year_tests([(MEASURES[key[1]], pr) for key, pr in pairs.items()])
    rows = []
    units = {u.unit_id: u for u in scan_units(data, force_id)}
    for (uid, mid), chart in all_charts.items():
        m = MEASURES[mid]
        unit = units[uid]
        recent = recent_signals(chart, sens)
        concern = [g for g in recent if judgement(g.side, m.polarity) == "concern"]
        good = [g for g in recent if judgement(g.side, m.polarity) == "improvement"]
        neutral = [g for g in recent if judgement(g.side, m.polarity) == "neutral"]
        last_i = max((i for i, s in enumerate(chart.status) if s == "ok" and math.isfinite(chart.values[i])),
                     default=None)
        z = _z(chart, last_i) if last_i is not None else math.nan
        pr = pairs.get((uid, mid))
        ly_verdict, ly_words = change_text(m, pr, sens.alpha) if pr is not None else ("", "")
        ly_p = pr.p if pr is not None else math.nan
        o = outlooks.get((uid, mid))
        flagged_target = (
            o is not None and math.isfinite(o.probability) and o.probability < sens.miss_probability
        ) or (o is not None and o.status in ("missed", "not meeting now"))
        target_score = (
            3.0 * (1.0 - (o.probability if math.isfinite(o.probability) else 0.0))
            if flagged_target and o is not None
            else 0.0
        )

        high_bad = 1.0 if m.polarity == "down" else -1.0
        bad_spc = spc_score(concern, z * high_bad)
        bad_ly = min(-math.log10(max(ly_p, 1e-300)), 6.0) if ly_verdict == "worse" else 0.0
        bad = bad_spc + bad_ly + target_score
        good_spc = spc_score(good, -z * high_bad)
        good_ly = min(-math.log10(max(ly_p, 1e-300)), 6.0) if ly_verdict == "better" else 0.0
        if bad > 0:
            reading, score, sigs = "concern", severity(unit.level, bad_spc, bad_ly, target_score), concern
        elif good_spc + good_ly > 0:
            reading, score, sigs = "improvement", -severity(unit.level, good_spc, good_ly, 0.0), good
        elif neutral:
            reading, score, sigs = "neutral", 0.0, neutral
        else:
            continue
        why = []
        if sigs:
            why.append("SPC: " + ", ".join(sorted({RULE_WORDS[s.rule] for s in sigs})))
        if (reading == "concern" and bad_ly) or (reading == "improvement" and good_ly):
            why.append(f"{'worse' if reading == 'concern' else 'better'} than last year")
        if reading == "concern" and target_score:
            why.append("target at risk" if o is not None and o.status not in ("missed", "not meeting now")
                       else "target missed")
        start_i, fired_i = episode(chart, sigs, m, sens)
        rows.append({
            "severity": round(score, 3), "reading": reading, "unit_id": uid, "unit": unit.title,
            "level": unit.level, "measure_id": mid, "measure": m.label, "why": "; ".join(why),
            "spc_text": " ".join(describe(chart, s, m) + "." for s in _dedupe(sigs)),
            "signal_start": chart.months[start_i] if start_i is not None else None,
            "signal_month": chart.months[fired_i] if fired_i is not None else None,
            "latest_value": chart.values[last_i] if last_i is not None else math.nan,
            "centre": chart.centre[last_i] if last_i is not None else math.nan, "z": z,
            "last_year_text": ly_words, "last_year_p": ly_p,
            "target_text": o.text if o is not None else "",
            "target_probability": o.probability if o is not None else math.nan,
            "verdict": chart.verdict,
        })
    frame = pd.DataFrame(rows, columns=[c for c in EXCEPTION_COLUMNS if c != "rank"])
    order = {"concern": 0, "neutral": 1, "improvement": 2}
    frame["_o"] = frame["reading"].map(order)
    frame["_s"] = frame["severity"].abs()
    frame = frame.sort_values(["_o", "_s", "unit_id", "measure_id"], ascending=[True, False, True, True])
    frame = frame.drop(columns=["_o", "_s"]).reset_index(drop=True)
    frame.insert(0, "rank", range(1, len(frame) + 1))
    return frame


def spc_score(signals: list[stats.Signal], z: float) -> float:
    """The SPC part of `severity`: the strongest rule's weight plus half the latest month's
    distance from the centre line in the direction that matters (sigmas, capped at 6)."""
    if not signals:
        return 0.0
    zz = z if math.isfinite(z) else 0.0
    return max(RULE_WEIGHT[g.rule] for g in signals) + min(max(zz, 0.0), 6.0) / 2.0


def _dedupe(signals: list[stats.Signal]) -> list[stats.Signal]:
    """At most one sentence per rule and side, the latest first (a long list helps no one)."""
    seen: set[tuple[str, str]] = set()
    out = []
    for s in sorted(signals, key=lambda s: -s.index):
        key = (s.rule, s.side)
        if key not in seen:
            seen.add(key)
            out.append(s)
    return out


def target_outlooks(data: DataAccess, force_id: str, end_month: date) -> dict[tuple[str, str], Any]:
    """(unit, measure) -> targets.Outlook for every force/BCU/NPU target current at end_month,
    computed from the same panel as the charts (no query per unit); cached."""
    end_month = month_start(end_month)
    return data.cached("early_warning.target_outlooks", (force_id, end_month),
                       lambda: _target_outlooks(data, force_id, end_month))


def unit_target_outlooks(data: DataAccess, unit_id: str, end_month: date) -> dict[str, Any]:
    """Measure id -> targets.Outlook of one unit's current targets, from the unit's own panel."""
    end_month = month_start(end_month)
    unit = data.unit(unit_id)
    if unit is None:
        return {}

    def compute() -> dict[str, Any]:
        p = unit_panel(data, unit_id, end_month, panel_measure_ids(data, unit.force_id))
        found = _target_outlooks(data, unit.force_id, end_month, p, unit_id)
        return {mid: o for (_u, mid), o in found.items()}

    return data.cached("early_warning.unit_target_outlooks", (unit_id, end_month), compute)


def prefetch_unit_target_outlooks(data: DataAccess, unit_ids: Sequence[str], end_month: date) -> None:
    """`unit_target_outlooks` of several units of a force, the force's targets filtered and
    ordered ONCE for all of them (per unit, those pandas steps were most of an outlook's cost
    in an exceptions list), each unit's outlooks from its own panel (prefetch_unit_panels)
    by the same `_outlooks_of` as one unit's, cached under the key `unit_target_outlooks` uses."""
    end_month = month_start(end_month)
    for force_id, uids in _by_force(data, unit_ids).items():

        def compute(missing: list[tuple[Any, ...]], force_id: str = force_id) -> dict[tuple[Any, ...], Any]:
            wanted = [str(k[0]) for k in missing]
            rows = _current_targets(data, force_id, end_month, wanted)
            ids = panel_measure_ids(data, force_id)
            out: dict[tuple[Any, ...], Any] = {}
            for k in missing:
                uid = str(k[0])
                p = unit_panel(data, uid, end_month, ids)
                found = _outlooks_of(rows.get(uid, []), p, end_month) if p is not None else {}
                out[k] = {mid: o for (_u, mid), o in found.items()}
            return out

        data.cached_many("early_warning.unit_target_outlooks", [(uid, end_month) for uid in uids], compute)


def _current_targets(data: DataAccess, force_id: str, end_month: date, only: Sequence[str] | None
                     ) -> dict[str, list[Any]]:
    """The force's targets current at end_month (the quarter's where it has one, else the
    year's), of the units `only` (every unit if None), as rows by unit."""
    fy = tg.fy_of(end_month)
    try:
        resolved = tg.resolve_targets(data, force_id, fy)
    except (FileNotFoundError, KeyError):
        return {}
    if resolved.empty:
        return {}
    if only is not None:
        resolved = resolved[resolved["unit_id"].isin(list(only))]
    q = stats.fy_quarter(end_month)
    current = resolved[(resolved["quarter"].isna()) | (resolved["quarter"] == q)]
    # stable: which row of a (unit, measure) is kept must not depend on the other units asked for
    current = current.sort_values("quarter", na_position="first", kind="stable").drop_duplicates(
        ["unit_id", "measure_id"], keep="last")
    out: dict[str, list[Any]] = {}
    for t in current.itertuples(index=False):
        out.setdefault(str(t.unit_id), []).append(t)
    return out


def _target_outlooks(data: DataAccess, force_id: str, end_month: date, p: Panel | None = None,
                     only: str | None = None) -> dict[tuple[str, str], Any]:
    rows = _current_targets(data, force_id, end_month, None if only is None else [only])
    if not rows:
        return {}
    if p is None:
        p = panel(data, force_id, end_month, measure_ids=panel_measure_ids(data, force_id))
    if p is None:
        return {}
    return _outlooks_of([t for unit_rows in rows.values() for t in unit_rows], p, end_month)


def _outlooks_of(current: Sequence[Any], p: Panel, end_month: date) -> dict[tuple[str, str], Any]:
    """(unit, measure) -> targets.Outlook of each current target row whose unit is in the panel."""
    mindex = {m: i for i, m in enumerate(p.months)}
    out: dict[tuple[str, str], Any] = {}
    for t in current:
        m = MEASURES[t.measure_id]
        if t.unit_id not in p.uindex:
            continue
        period = Period(t.period_start, t.period_end)
        done = [mm for mm in period.months() if mm <= end_month]
        if not done:
            continue
        last_months = [add_months(mm, -12) for mm in period.months()]
        ui = p.uindex[t.unit_id]
        series = p.measures.get(m.id)
        if series is None:
            continue
        k_all, status = series.num, series.status
        n_all = series.den if kinds.exposure_is_denominator(m) else None
        idx = [mindex.get(mm) for mm in done]
        if any(i is None or status[i] != "ok" for i in idx):
            continue
        k = k_all[ui, idx]
        n = n_all[ui, idx] if n_all is not None else None
        lidx = [mindex.get(mm) for mm in last_months]
        lk = ln = None
        if all(i is not None and status[i] == "ok" for i in lidx):
            lk = k_all[ui, lidx]
            ln = n_all[ui, lidx] if n_all is not None else None
        o = tg.outlook(m, float(t.target), period, k, n, lk, ln, t.unit_id, t.how)
        if o is not None:
            out[(t.unit_id, m.id)] = o
    return out


# -- SPC status for the scorecard and drill-down ------------------------------------------------------------

VERDICT_TEXT = {
    "special_cause_concern": "special cause: concern",
    "special_cause_improvement": "special cause: improvement",
    "special_cause_neutral": "special cause",
    "common_cause": "common cause (no signal)",
}


def spc_status(data: DataAccess, unit_id: str, end_month: date, sensitivity_name: str = DEFAULT_SENSITIVITY
               ) -> pd.DataFrame:
    """SPC status of every headline measure of a unit at `end_month`: [measure_id, verdict,
    status_text, signals_text]. The verdict is Making Data Count's (latest month); the text
    adds any signal of the last `recent` months in words."""
    sens = sensitivity(sensitivity_name)
    rows = []
    for m in metrics.headline_measures():
        chart = chart_for(data, unit_id, m.id, end_month, sens)
        if chart is None:
            rows.append({"measure_id": m.id, "verdict": "", "status_text": "no chart (too few months)",
                         "signals_text": ""})
            continue
        recent = recent_signals(chart, sens)
        rows.append({"measure_id": m.id, "verdict": chart.verdict, "status_text": VERDICT_TEXT[chart.verdict],
                     "signals_text": " ".join(describe(chart, s, m) + "." for s in _dedupe(recent))})
    return pd.DataFrame(rows, columns=["measure_id", "verdict", "status_text", "signals_text"])


def chart_frame(chart: Chart, measure: Measure) -> pd.DataFrame:
    """What the SPC chart draws, one row per month (its CSV)."""
    in_signal = [""] * len(chart.months)
    for s in chart.signals:
        for i in range(s.start, s.index + 1):
            if chart.status[i] == "ok":
                words = f"{RULE_WORDS[s.rule]} ({judgement(s.side, measure.polarity)})"
                in_signal[i] = f"{in_signal[i]}; {words}" if in_signal[i] else words
    return pd.DataFrame(
        {
            "month": chart.months,
            "status": chart.status,
            "note": chart.reasons,
            "numerator": chart.k,
            "denominator": chart.n,
            "value": chart.values,
            "centre": chart.centre,
            "lcl": chart.lcl,
            "ucl": chart.ucl,
            "signal": in_signal,
        }
    )


# -- for dashboard.analysis.assessment: the one verdict reads the scan's own pieces ---------------------


def dedupe(signals: list[stats.Signal]) -> list[stats.Signal]:
    """At most one signal per rule and side, the latest first (see `_dedupe`)."""
    return _dedupe(signals)


def z_score(chart: Chart) -> float:
    """The latest usable month's distance from the centre line, in sigmas (NaN when none)."""
    last_i = max((i for i, s in enumerate(chart.status) if s == "ok" and math.isfinite(chart.values[i])),
                 default=None)
    return _z(chart, last_i) if last_i is not None else math.nan
