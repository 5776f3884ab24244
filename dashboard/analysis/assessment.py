"""One assessment per (unit, measure, period): the single verdict every page, pack and API
route reads (issue 9; DESIGN.md, "Statistics we owe a PIM").

An assessment carries, for one unit, one measure and one period:

- the value with its interval, the same period last year, and the change with its test
  (the numbers come from `DataAccess.scorecard`, the tests from dashboard.analysis.metrics);
- the SPC variation verdict at the period's last whole month (Making Data Count: special cause
  of concern / improvement, common cause) with the rule and the month it first fired
  (dashboard.analysis.exception_scan: the same chart the Early warning page draws);
- the target for the SAME period as the row: a year's count target profiled on last year's
  months (or pro-rated by days when last year is missing), a quarter's target for a quarter,
  a rate target as it stands; its period is said in words, and whether it is met; the outlook
  to the end of the target's own period (projection and chance); and Making Data Count's
  assurance (consistently passing / failing / hit and miss) from the chart's process limits;
- the position in the MSF (force) or peer group (below force) with the funnel verdict;
- whether it is an exception, why in words, and a severity that ranks it.

An exception is any of: significantly worse than the same period last year; an SPC special
cause of concern in the latest months; a target missed for the period or at risk (its outlook
says at risk, off track or missed); a peer outlier beyond the 99.8% limit on the bad side.

The page may show less than an assessment, never something different: the scorecard's
summary, badges and order, the drill-down's children, the Early warning list and the API all
come from `assess` / `exceptions` here.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from dashboard.analysis import exception_scan as ew
from dashboard.analysis import metrics
from dashboard.analysis import peer_comparison as compare
from dashboard.analysis import targets as tg
from dashboard.analysis.metrics import headline_ids
from dashboard.periods import (
    Period,
    add_months,
    fy_quarter,
    fy_start,
    last_complete_month,
    month_end,
    month_start,
)
from etl import hierarchy
from etl.measures.model import Measure
from etl.measures.registry import MEASURES

if TYPE_CHECKING:
    from dashboard.data.facade import DataAccess
    from dashboard.data.model import Unit

# The assessment's fields, in the order the API and the CSV give them.
ASSESSMENT_COLUMNS = [
    "unit_id", "unit", "level", "measure_id", "label", "domain", "unit_text", "polarity",
    "period_start", "period_end", "period_label",
    "numerator", "denominator", "value", "lower", "upper",
    "previous", "abs_change", "pct_change", "p_value", "significant", "verdict", "arrow", "change_text",
    "spc_verdict", "spc_text", "spc_rule", "spc_month", "spc_signals",
    "target", "target_period", "target_basis", "target_met", "target_status", "target_text",
    "outlook_status", "outlook_text", "outlook_probability", "assurance",
    "peer_position", "peer_rank", "peer_of", "peer_text", "peer_group", "peer_verdict",
    "peer_phi", "peer_tau2", "peer_limits_adjusted", "peer_limits_note",
    "exception", "reasons", "severity",
]
# Kept beside the assessment for the scorecard's sparkline; not part of the API's rows.
SPARK_COLUMNS = ["spark_months", "spark"]

SPC_ICON = {   # words first; the symbol is a reminder, never the only carrier of meaning
    "special_cause_concern": "▲ concern",
    "special_cause_improvement": "★ improvement",
    "special_cause_neutral": "● special cause",
    "common_cause": "common cause",
}
# An outlook worse than this is an exception ("at risk" is a 25-75% chance of meeting it).
OUTLOOK_EXCEPTION = ("at risk", "off track", "missed", "not meeting now")
PEER_OUTLIER = "99.8"     # a peer outlier: beyond the 99.8% funnel limit on the bad side
# Severity weights: what each kind of evidence adds before the level's weight multiplies it.
W_TARGET = 2.0            # a target missed for the period (plus the size of the shortfall)
W_OUTLOOK = 1.0           # the target's outlook at risk or off track
W_PEER = 2.0              # a peer outlier on the bad side
MAX_LOG_P = 6.0           # -log10(p) of a worse change on last year, capped


# -- the target for the row's period --------------------------------------------------------------


@dataclass(frozen=True)
class PeriodTarget:
    """A target restated for exactly the row's period."""

    value: float
    period: str          # the row's period in words, which the target now covers
    basis: str           # how it was formed: 'profiled on ...', 'pro-rated by days', 'the quarter's'
    how: str             # where the target comes from (the targets file's rule, the registry)
    kind: str            # 'count' | 'rate'


def period_target(measure: Measure, period: Period, targets: pd.DataFrame,
                  last_year_months: dict[date, float] | None = None) -> PeriodTarget | None:
    """The unit's target restated for `period` (pure).

    `targets`: the unit's resolved targets rows for the measure (targets.TARGET_COLUMNS) of the
    period's financial year: an annual row (quarter NaN) and/or quarter rows, as a frame or as
    a mapping of its columns 'target', 'kind', 'quarter' and 'how' to sequences (what
    `_force_targets` keeps per unit and measure). A period that is not inside one financial
    year has no target (a target is a year's or a quarter's).

    Counts are additive, so a count target for a part of its period is the part's share of it:
    by last year's months when all of them are known (`last_year_months`: month -> count, the
    seasonal profile the targets team uses), else by days. Rates and percentages apply as they
    stand to any part of their period; where the period spans quarters with different
    quarterly rate targets, the months' average of them.
    """
    first = next(iter(targets["target"]), None)
    if first is None or not math.isfinite(float(first)):
        return None
    fy0 = fy_start(period.start)
    if fy_start(period.end) != fy0:
        return None
    kind = str(next(iter(targets["kind"])))
    # plain dicts, not a pandas mask per quarter: this runs for every unit x measure
    by_quarter: dict[int | None, tuple[float, str]] = {}
    for q, t, how in zip(targets["quarter"], targets["target"], targets["how"], strict=True):
        key = None if q is None or (isinstance(q, float) and math.isnan(q)) else int(q)
        by_quarter.setdefault(key, (float(t), str(how)))
    annual = by_quarter.get(None)
    pieces: list[tuple[Period, float, str]] = []   # (target's own period, target, how)
    covered: list[Period] = []
    for q in range(1, 5):
        qp = tg.fy_period(tg.fy_of(fy0), q)
        part = _overlap(period, qp)
        if part is None:
            continue
        own_q = by_quarter.get(q)
        src = own_q or annual
        if src is None:
            return None    # a quarter with no target of its own and no annual one
        own = qp if own_q is not None else tg.fy_period(tg.fy_of(fy0))
        pieces.append((own, src[0], src[1]))
        covered.append(part)
    if not pieces:
        return None
    hows = sorted({h for _p, _t, h in pieces})
    label = period_words(period)
    if kind != "count":
        weights = [len(c.months()) for c in covered]
        values = [t for _p, t, _h in pieces]
        value = float(np.average(values, weights=weights))
        if len(set(values)) == 1:
            whole = pieces[0][0]
            basis = ("the year's target, which applies to any part of it" if len(whole.months()) == 12
                     else f"the {period_words(whole)} target")
        else:
            basis = "the average of the quarterly targets over the period's months"
        return PeriodTarget(value, label, basis, "; ".join(hows), kind)
    # counts: each piece's share of its own target, by last year's months or by days
    total = 0.0
    by_profile = True
    for (own, t, _h), part in zip(pieces, covered, strict=True):
        share, profiled = _share(part, own, last_year_months)
        by_profile &= profiled
        total += t * share
    if {own for own, _t, _h in pieces} == {period}:
        basis = "the target for the whole period"
    elif by_profile:
        basis = "the target's share by last year's months (seasonal profile)"
    else:
        basis = "the target pro-rated by days (last year's months not all loaded)"
    return PeriodTarget(total, label, basis, "; ".join(hows), kind)


def _overlap(a: Period, b: Period) -> Period | None:
    lo, hi = max(a.start, b.start), min(a.end, b.end)
    return Period(lo, hi) if lo <= hi else None


def _share(part: Period, whole: Period, last_year: dict[date, float] | None) -> tuple[float, bool]:
    """The share of `whole` that `part` is: by last year's counts of the same months (a
    partial month by its days), else by days. Returns (share, whether last year was used)."""
    if part == whole:
        return 1.0, True
    if last_year:
        months = whole.months()
        ly = [last_year.get(add_months(m, -12)) for m in months]
        if all(v is not None and math.isfinite(v) for v in ly) and sum(ly) > 0:   # type: ignore[arg-type]
            got = 0.0
            for m, v in zip(months, ly, strict=True):
                mp = _overlap(part, Period(m, month_end(m)))
                if mp is not None:
                    got += float(v) * mp.days / Period(m, month_end(m)).days   # type: ignore[arg-type]
            return got / float(sum(ly)), True   # type: ignore[arg-type]
    return part.days / whole.days, False


def period_words(period: Period) -> str:
    """How a police paper names a period: 'Q4 2007/08', '2007/08', 'Apr–Nov 2007',
    'March 2008', '1–14 Mar 2008'."""
    fy = tg.fy_of(period.start)
    if period.whole_months:
        months = period.months()
        if len(months) == 12 and months[0] == fy_start(months[0]):
            return fy
        quarter_start = (months[0].month - 4) % 3 == 0
        if len(months) == 3 and quarter_start and fy_start(months[0]) == fy_start(months[-1]):
            return f"Q{fy_quarter(months[0])} {fy}"
        if len(months) == 1:
            return f"{months[0]:%B %Y}"
        if months[0].year == months[-1].year:
            return f"{months[0]:%b}–{months[-1]:%b %Y}"
        return f"{months[0]:%b %Y}–{months[-1]:%b %Y}"
    return period.label


# -- assurance: Making Data Count's target icon ------------------------------------------------------------


def assurance(measure: Measure, chart: ew.Chart | None, month_target: float | None) -> str:
    """'consistently passing', 'consistently failing' or 'hit and miss' (MDC): where the target,
    restated for one month in the chart's units, lies against the process limits of the latest
    month. Beyond the limits on the good side the process passes every month without change;
    beyond them on the bad side it fails every month until the process changes."""
    if chart is None or month_target is None or not math.isfinite(month_target) \
            or measure.polarity not in ("up", "down"):
        return ""
    ok = [i for i, s in enumerate(chart.status) if s == "ok" and math.isfinite(chart.ucl[i])]
    if not ok:
        return ""
    i = ok[-1]
    lcl, ucl = float(chart.lcl[i]), float(chart.ucl[i])
    good_high = measure.polarity == "up"
    if month_target <= lcl:
        return "consistently passing" if good_high else "consistently failing"
    if month_target >= ucl:
        return "consistently failing" if good_high else "consistently passing"
    return "hit and miss"


def _chart_target(measure: Measure, chart: ew.Chart | None, pt: PeriodTarget | None,
                  months: int) -> float | None:
    """The period target restated as one month on the chart's scale."""
    if chart is None or pt is None or months <= 0:
        return None
    if pt.kind != "count":
        return pt.value
    ok = [i for i, s in enumerate(chart.status) if s == "ok" and chart.exposure is not None
          and math.isfinite(chart.exposure[i]) and chart.exposure[i] > 0]
    if not ok or not chart.kind.startswith("c"):
        return None
    return pt.value / months / float(chart.exposure[ok[-1]])


# -- one unit's assessments ---------------------------------------------------------------------------


def assess(data: DataAccess, unit_id: str, start: date, end: date,
           sensitivity: str = ew.DEFAULT_SENSITIVITY, measure_ids: Sequence[str] | None = None
           ) -> pd.DataFrame:
    """Every headline measure (or `measure_ids`) of one unit for one period
    (ASSESSMENT_COLUMNS + SPARK_COLUMNS), exceptions first (by severity), then the rest in the
    registry's order; measures with no data loaded for the force at the end, their verdict
    'not loaded'.

    For a preset period of the unit's force (and a unit above the individual level) the result
    is also kept beside the warehouse version (DataAccess.persisted; docs/precompute.md): the
    same frame `_assess` returned, read back by any worker whose result cache is cold."""
    data.check_scorecard((unit_id,), start, end)    # the access check, before any cached result
    return _assess_cached(data, unit_id, start, end, sensitivity, measure_ids, build_table=True)


def _assess_cached(data: DataAccess, unit_id: str, start: date, end: date, sensitivity: str,
                   measure_ids: Sequence[str] | None, build_table: bool,
                   rows: list[dict[str, Any]] | None = None) -> pd.DataFrame:
    """`assess` after its access check. `build_table`: on a miss, compute the unit's table
    (every measure) and store it; else only the measures asked for, unless it is stored."""
    ids = tuple(measure_ids) if measure_ids is not None else None
    key = (unit_id, start, end, sensitivity, ids)
    sens = ew.sensitivity(sensitivity)

    def compute() -> pd.DataFrame:
        table = rows   # the stored table, when the caller has just read it
        if table is None and data.store.enabled and persistable(data, unit_id, start, end):
            table = (_table(data, unit_id, start, end, sensitivity) if build_table
                     else data.stored(TABLE, (unit_id, start, end, sensitivity), keep=False))
        if table is not None:
            found = _from_table(table, ids)
            if found is not None:
                return found
        return _assess(data, unit_id, start, end, sens, ids)

    return data.cached(STORED, key, compute)


STORED = "assessment.unit"   # the result cache's name for one unit's assessments
TABLE = "assessment.table"   # the store's: one unit's rows for every measure (docs/precompute.md)
ALL_IDS = tuple(MEASURES)    # what the stored table covers: any page's measures are a subset
PRECOMPUTE_BATCH = 6   # units prefetched together by precompute
LAZY_TABLES = 4   # a batch computes and stores at most this many units' tables (the rest: precompute)
# The store's: the headline rows of every force, BCU and NPU of a force for one past single month
# (the API's `/exceptions?month=`), one file per force and month (docs/precompute.md)
MONTH_ROWS = "assessment.month_rows"
MONTH_MIN_UNITS = 2   # precompute_months skips a force with fewer units (cheap on demand)


def _table(data: DataAccess, unit_id: str, start: date, end: date, sensitivity: str) -> list[dict[str, Any]]:
    """The unit's assessment rows for every measure and this period, from the version's store,
    else computed (every measure at once: the first request for it in this version) and stored."""
    # not kept in the result cache: the frames picked from it are (see DataAccess.persisted)
    return data.persisted(TABLE, (unit_id, start, end, sensitivity), lambda: _assess_rows(
        data, unit_id, start, end, ew.sensitivity(sensitivity), ALL_IDS), keep=False)


def _from_table(rows: list[dict[str, Any]], ids: tuple[str, ...] | None) -> pd.DataFrame | None:
    """The unit's assessments of `ids` (headline measures if None) picked from its table's rows
    and put in order as `_assess` orders them; None for a list it does not cover (a repeated
    or unknown measure), which is then assessed as asked."""
    wanted = [m.id for m in metrics.headline_measures()] if ids is None else list(ids)
    by_id = {r["measure_id"]: r for r in rows}
    if not wanted or len(set(wanted)) != len(wanted) or any(m not in by_id for m in wanted):
        return None
    return _frame([{**by_id[m], "_order": i} for i, m in enumerate(wanted)])


def persistable(data: DataAccess, unit_id: str, start: date, end: date) -> bool:
    """Whether one unit's assessments for this period are kept on disk: a preset period of its
    force (a bounded set per version; a custom range is computed on demand) and a unit above
    the individual level (an officer's figures are not copied out of the warehouse)."""
    unit = data.unit(unit_id)
    if unit is None or hierarchy.level(unit.level).individual:
        return False
    return (start, end) in preset_periods(data, unit.force_id)


def preset_periods(data: DataAccess, force_id: str) -> frozenset[tuple[date, date]]:
    """(start, end) of every preset period of the force (`DataAccess.preset_periods`: the
    place figures are stored for the same periods)."""
    return data.preset_periods(force_id)


def assess_many(data: DataAccess, unit_ids: Sequence[str], start: date, end: date,
                sensitivity: str = ew.DEFAULT_SENSITIVITY, measure_ids: Sequence[str] | None = None
                ) -> pd.DataFrame:
    """`assess` for several units (headline measures, or `measure_ids`), one frame; the units
    whose assessments are neither cached nor stored are prefetched together (their peer
    groups' months in one go)."""
    return _many(data, unit_ids, start, end, sensitivity, measure_ids, LAZY_TABLES)


def _many(data: DataAccess, unit_ids: Sequence[str], start: date, end: date, sensitivity: str,
          measure_ids: Sequence[str] | None, build_limit: int | None) -> pd.DataFrame:
    """`assess_many`; `build_limit`: how many units' tables a batch may compute and store (None:
    all, for `precompute`)."""
    ids = list(measure_ids) if measure_ids is not None else list(headline_ids())
    key_ids = tuple(measure_ids) if measure_ids is not None else None
    data.check_scorecard(unit_ids, start, end)
    read: dict[str, list[dict[str, Any]]] = {}   # tables read from the store, used once below
    missing = [u for u in unit_ids if not _have(data, u, start, end, sensitivity, key_ids, read)]
    # a unit whose table will be stored is assessed for every measure (ALL_IDS), the rest as
    # asked; a list of many units not stored yet (a version not precomputed) is assessed as
    # asked, not stored: every measure of 22 units at once would hold one request for seconds
    tables = [u for u in missing if data.store.enabled and persistable(data, u, start, end)]
    if build_limit is not None and len(tables) > build_limit:
        tables = []
    plain = [u for u in missing if u not in set(tables)]
    for uids, mids, card_ids in ((tables, list(ALL_IDS), ALL_IDS), (plain, ids, key_ids)):
        if uids:
            _prefetch(data, uids, mids, card_ids, start, end)
    build = set(tables)
    frames = [_assess_cached(data, uid, start, end, sensitivity, measure_ids, build_table=uid in build,
                             rows=read.get(uid)) for uid in unit_ids]
    frames = [f for f in frames if not f.empty]
    if not frames:
        return pd.DataFrame(columns=ASSESSMENT_COLUMNS + SPARK_COLUMNS)
    return pd.concat(frames, ignore_index=True)


def assess_rows_many(data: DataAccess, unit_ids: Sequence[str], start: date, end: date,
                     sensitivity: str = ew.DEFAULT_SENSITIVITY) -> dict[str, list[dict[str, Any]]]:
    """The headline assessment rows of several units (unit -> `_assess_rows`, the card's
    order), their inputs prefetched together, neither framed nor cached nor stored: for a list
    that reads only some of each unit's rows (the exceptions of a period that is not stored).
    `_frame` of a unit's rows is `assess`'s frame (tests/integration/test_precompute.py)."""
    data.check_scorecard(unit_ids, start, end)
    _prefetch(data, list(unit_ids), list(headline_ids()), None, start, end)
    sens = ew.sensitivity(sensitivity)
    return {uid: _assess_rows(data, uid, start, end, sens, None) for uid in unit_ids}


def stored_months(data: DataAccess, force_id: str) -> frozenset[date]:
    """The past single months whose exceptions are kept beside the version (MONTH_ROWS): every
    whole month from the first of the force's crime data to the last whole month its sources
    run to, except a preset period (the latest month: its units' tables are stored). A bounded
    set per version; any other month (outside the data) is assessed on demand."""

    def compute() -> frozenset[date]:
        src = data.source_for(force_id)
        ends = data.as_of_dates(force_id)
        if src is None or not ends:
            return frozenset()
        presets = preset_periods(data, force_id)
        last = month_start(last_complete_month(max(ends)))
        out, m = set(), month_start(src.first)
        while m <= last:
            if (m, month_end(m)) not in presets:
                out.add(m)
            m = add_months(m, 1)
        return frozenset(out)

    return data.cached("assessment.stored_months", (force_id,), compute)


def month_units(data: DataAccess, force_id: str) -> list[str]:
    """The units a past month's file holds: the force's units at EXCEPTION_LEVELS, parents
    first (what an exceptions list of the force searches, whoever asks: access is checked
    against the units a request asks for before the file is read)."""
    return [u.unit_id for lv in EXCEPTION_LEVELS for u in data.units_at(force_id, lv)]


def month_rows_many(data: DataAccess, unit_ids: Sequence[str], start: date, end: date,
                    sensitivity: str = ew.DEFAULT_SENSITIVITY) -> dict[str, list[dict[str, Any]]]:
    """`assess_rows_many`, read from the version's store for a past single month
    (stored_months): one file per force and month holds `assess_rows_many`'s rows of every unit
    of `month_units`. A month not stored yet is computed and stored when the request covers all
    of a force's units (the force's own list); a smaller request (a BCU's list) computes only
    its units and stores nothing. Other periods: `assess_rows_many` as it is."""
    data.check_scorecard(unit_ids, start, end)
    out: dict[str, list[dict[str, Any]]] = {}
    rest: list[str] = []
    by_force: dict[str, list[str]] = {}
    for uid in unit_ids:
        unit = data.unit(uid)
        if unit is None:
            raise KeyError(f"unknown unit {uid!r}")
        by_force.setdefault(unit.force_id, []).append(uid)
    single = start == month_start(start) and end == month_end(start)
    for force_id, uids in by_force.items():
        if not (single and data.store.enabled and start in stored_months(data, force_id)):
            rest += uids
            continue
        every = month_units(data, force_id)
        if not set(uids) <= set(every):
            rest += uids
            continue
        key = (force_id, start, end, sensitivity)
        table = data.stored(MONTH_ROWS, key, keep=False)
        if table is None and set(every) <= set(uids):
            table = data.persisted(MONTH_ROWS, key, keep=False,
                                   compute=lambda e=every: assess_rows_many(data, e, start, end, sensitivity))
        if table is None:
            rest += uids
            continue
        out.update({uid: table[uid] for uid in uids})
    if rest:
        out.update(assess_rows_many(data, rest, start, end, sensitivity))
    return {uid: out[uid] for uid in unit_ids}


def precompute_months(data: DataAccess, force_ids: Sequence[str] | None = None,
                      sensitivity: str = ew.DEFAULT_SENSITIVITY, months: int | None = None) -> int:
    """Store the headline rows of every force, BCU and NPU of each force (every force by
    default) for every past single month of the live version (stored_months; the latest
    `months` only, if given): what the exceptions of a past month (the API's `month=`) read
    instead of assessing ~22 units on demand. Months already stored are read, not recomputed.
    A force with no unit below it (the demo's comparators, a force loaded without its
    hierarchy) is skipped: its one unit is assessed on demand in ~0.1 s, and storing its 59
    months cost ~7 s of CPU each, ~5 minutes for the demo's 42. Returns how many (force,
    month) files there are."""
    forces = list(force_ids) if force_ids is not None else sorted({str(f) for f in data.units()["force_id"]})
    done = 0
    for force_id in forces:
        units = month_units(data, force_id)
        if len(units) < MONTH_MIN_UNITS:
            continue
        wanted = sorted(stored_months(data, force_id), reverse=True)
        for m in wanted[:months] if months is not None else wanted:
            month_rows_many(data, units, m, month_end(m), sensitivity)
            done += 1
    return done


def _prefetch(data: DataAccess, unit_ids: list[str], ids: list[str], card_ids: tuple[str, ...] | None,
              start: date, end: date) -> None:
    """What `_assess_rows` reads, for several units at once: their scorecards (one query per
    source), their groups' months, every unit's positions (one vectorised funnel call per kind)
    and their charts, outlooks and last years (one read of the force's measure cube)."""
    cards = data.scorecards(unit_ids, start, end, card_ids)
    compare.prefetch_many(data, unit_ids, ids, start, end)
    compare.msf_positions(data, [(uid, mid) for uid, card in zip(unit_ids, cards, strict=True)
                                 for mid, v in zip(card["measure_id"], card["verdict"], strict=True)
                                 if v != "not loaded"], start, end)
    end_month = month_start(last_complete_month(end))
    ew.prefetch_unit_panels(data, unit_ids, end_month, extra=ids)
    try:
        ew.prefetch_unit_target_outlooks(data, unit_ids, end_month)
    except Exception:   # a refused targets file: each unit's _outlooks finds it and goes without
        pass


def stored_rows(data: DataAccess, unit_ids: Sequence[str], start: date, end: date, measure_id: str,
                sensitivity: str = ew.DEFAULT_SENSITIVITY) -> dict[str, dict[str, Any]]:
    """The stored assessment row of `measure_id` of each unit whose table is stored for this
    period (unit -> row; units without one are left out): what a page reads of one measure of
    many units (the drill-down's children's SPC status and peer position) without charting
    them again. The caller checks access first (`DataAccess.check_scorecard`)."""
    out: dict[str, dict[str, Any]] = {}
    if not data.store.enabled:
        return out
    for uid in unit_ids:
        if not persistable(data, uid, start, end):
            continue
        table = data.stored(TABLE, (uid, start, end, sensitivity), keep=False)
        row = next((r for r in table if r["measure_id"] == measure_id), None) if table else None
        if row is not None:
            out[uid] = row
    return out


def stored_numbers(data: DataAccess, unit_ids: Sequence[str], start: date, end: date,
                   measure_ids: Sequence[str], sensitivity: str = ew.DEFAULT_SENSITIVITY
                   ) -> pd.DataFrame | None:
    """The scorecard's numbers of several units (unit_id, measure_id, numerator, denominator,
    verdict; the units' order, then `measure_ids`'), read from their stored tables, which hold
    exactly the scorecard's numbers (`_base_row` copies them): for a page that needs the counts
    and not the verdicts (the Calls page's unplaced calls, the Vulnerable people page's case
    counts), without computing the scorecard's change tests again. None unless every unit's
    table is stored for this period (then ask `DataAccess.scorecards`)."""
    data.check_scorecard(unit_ids, start, end)
    if not data.store.enabled:
        return None
    out: list[tuple[str, str, Any, Any, Any]] = []
    for uid in unit_ids:
        if not persistable(data, uid, start, end):
            return None
        table = data.stored(TABLE, (uid, start, end, sensitivity), keep=False)
        if table is None:
            return None
        by_id = {r["measure_id"]: r for r in table}
        if any(m not in by_id for m in measure_ids):
            return None
        out += [(uid, m, by_id[m]["numerator"], by_id[m]["denominator"], by_id[m]["verdict"])
                for m in measure_ids]
    return pd.DataFrame(out, columns=["unit_id", "measure_id", "numerator", "denominator", "verdict"])


def _have(data: DataAccess, unit_id: str, start: date, end: date, sensitivity: str,
          ids: tuple[str, ...] | None, read: dict[str, list[dict[str, Any]]]) -> bool:
    """Whether the unit's assessments are cached, or its table stored (nothing to prefetch);
    a table read is left in `read`."""
    if data.cached_peek(STORED, (unit_id, start, end, sensitivity, ids)):
        return True
    if not (data.store.enabled and persistable(data, unit_id, start, end)):
        return False
    table = data.stored(TABLE, (unit_id, start, end, sensitivity), keep=False)
    if table is not None:
        read[unit_id] = table
    return table is not None


def precompute(data: DataAccess, force_ids: Sequence[str] | None = None,
               sensitivity: str = ew.DEFAULT_SENSITIVITY) -> int:
    """Store the headline assessments of every unit above the individual level of each force
    (every force by default) for every preset period of the live version, so that no request
    for them computes them (`python -m dashboard precompute`; docs/precompute.md). Already
    stored results are read, not recomputed. Returns how many (unit, period) results there are."""
    levels = [lv.id for lv in hierarchy.LEVELS if not lv.individual]
    forces = list(force_ids) if force_ids is not None else sorted({str(f) for f in data.units()["force_id"]})
    done = 0
    for force_id in forces:
        units = [u.unit_id for lv in levels for u in data.units_at(force_id, lv)]
        for start, end in sorted(preset_periods(data, force_id)):
            # a few units at a time: the prefetched scorecards, groups and panels of every
            # measure of 77 units outgrow the result cache (96 MB), which then evicts them
            # before they are used (~3 s a unit instead of ~0.6 s)
            for i in range(0, len(units), PRECOMPUTE_BATCH):
                _many(data, units[i:i + PRECOMPUTE_BATCH], start, end, sensitivity, None, None)
            done += len(units)
    return done


def _assess(data: DataAccess, unit_id: str, start: date, end: date, sens: ew.Sensitivity,
            measure_ids: tuple[str, ...] | None) -> pd.DataFrame:
    return _frame(_assess_rows(data, unit_id, start, end, sens, measure_ids))


def _assess_rows(data: DataAccess, unit_id: str, start: date, end: date, sens: ew.Sensitivity,
                 measure_ids: tuple[str, ...] | None) -> list[dict[str, Any]]:
    """One assessment row per measure (the card's order in `_order`): what `_frame` turns into
    the unit's table, and what the version's stored table holds for every measure."""
    unit = data.unit(unit_id)
    if unit is None:
        raise KeyError(f"unknown unit {unit_id!r}")
    card = data.scorecard(unit_id, start, end, measure_ids)
    period = Period(start, end)
    end_month = month_start(last_complete_month(end))
    ids = list(card["measure_id"])
    loaded = [i for i, v in zip(ids, card["verdict"], strict=True) if v != "not loaded"]
    compare.prefetch(data, unit_id, loaded, start, end)
    # every measure's position at once (one vectorised funnel call), read back by _add_peer
    compare.msf_positions(data, [(unit_id, mid) for mid in loaded], start, end)
    # a measure outside the early-warning panel (a page's satisfaction questions, calls or
    # vulnerability measures) is charted from the panel plus that measure (ew.chart_for): one
    # read of the measure cube EACH, 5-11 per page list on demand. The unit's panels of all of
    # them are cut from one read instead (what _prefetch does for precompute's batches: the
    # same arrays, each series read and filled on its own), left under the keys chart_for and
    # _last_year_months read
    if unit.level in ew.SCAN_LEVELS:
        in_panel = set(ew.panel_measure_ids(data, unit.force_id))
        if any(mid not in in_panel for mid in loaded):
            ew.prefetch_unit_panels(data, [unit_id], end_month, extra=loaded)
    by_measure = _unit_targets(data, unit, period)
    outlooks = _outlooks(data, unit_id, end_month)
    no_targets: TargetColumns = {c: [] for c in TARGET_FIELDS}
    rows = []
    for order, r in enumerate(card.to_dict("records")):
        m = MEASURES[r["measure_id"]]
        row = _base_row(unit, m, period, r)
        if r["verdict"] != "not loaded":
            _add_spc(row, data, unit_id, m, end_month, sens)
            _add_target(row, data, unit, m, r, by_measure.get(m.id, no_targets), outlooks.get(m.id))
            _add_peer(row, data, unit_id, m, start, end)
            _judge(row, m, unit)
        row["_order"] = order
        rows.append(row)
    for row in rows:
        row.pop("_chart", None)    # the assurance's input only, and the bulk of a row
    return rows


def _frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """The assessment table of one unit from its rows: exceptions first, by severity, then the
    card's order; measures not loaded last. The dtypes follow the rows, so the same rows give
    the same frame whether they were computed now or read from the version's table."""
    # ordered as plain rows, then framed once: a pandas sort and column pick per unit were
    # most of a stored unit's cost on the pages that show many units (the same order: stable)
    ordered = sorted(rows, key=lambda r: (r["verdict"] == "not loaded", not r["exception"], -r["severity"],
                                          r["_order"]))
    return pd.DataFrame(ordered, columns=ASSESSMENT_COLUMNS + SPARK_COLUMNS)


def _base_row(unit: Unit, m: Measure, period: Period, r: dict[str, Any]) -> dict[str, Any]:
    row: dict[str, Any] = {c: None for c in ASSESSMENT_COLUMNS}
    row.update({
        "unit_id": unit.unit_id, "unit": unit.title, "level": unit.level, "measure_id": m.id,
        "label": m.label, "domain": m.domain, "unit_text": r["unit"], "polarity": m.polarity,
        "period_start": period.start, "period_end": period.end, "period_label": period_words(period),
    })
    for c in ("numerator", "denominator", "value", "lower", "upper", "previous", "abs_change", "pct_change",
              "p_value", "significant", "verdict", "arrow", "change_text", "spark_months", "spark"):
        row[c] = r[c]
    row.update({"spc_verdict": "", "spc_text": "", "spc_rule": "", "spc_month": None, "spc_signals": "",
                "target": math.nan, "target_period": "", "target_basis": "", "target_met": None,
                "target_status": "", "target_text": "", "outlook_status": "", "outlook_text": "",
                "outlook_probability": math.nan, "assurance": "", "peer_position": None, "peer_rank": None,
                "peer_of": 0, "peer_text": "", "peer_group": "", "peer_verdict": "", "peer_phi": math.nan,
                "peer_tau2": math.nan, "peer_limits_adjusted": False, "peer_limits_note": "",
                "exception": False, "reasons": "", "severity": 0.0})
    return row


def _add_spc(row: dict[str, Any], data: DataAccess, unit_id: str, m: Measure, end_month: date,
             sens: ew.Sensitivity) -> None:
    chart = ew.chart_for(data, unit_id, m.id, end_month, sens)
    row["_chart"] = chart
    if chart is None:
        row["spc_text"] = f"no chart (fewer than {ew.MIN_POINTS} usable months)"
        return
    recent = ew.recent_signals(chart, sens)
    row["spc_verdict"] = chart.verdict
    row["spc_text"] = SPC_ICON.get(chart.verdict, chart.verdict)
    row["spc_signals"] = " ".join(ew.describe(chart, s, m) + "." for s in ew.dedupe(recent))
    reading = {"special_cause_concern": "concern",
               "special_cause_improvement": "improvement"}.get(chart.verdict)
    wanted = [s for s in recent if ew.judgement(s.side, m.polarity) == reading] if reading else []
    if wanted:
        strongest = max(wanted, key=lambda s: (ew.RULE_WEIGHT.get(s.rule, 1.0), s.index))
        row["spc_rule"] = ew.RULE_WORDS.get(strongest.rule, strongest.rule)
        _start, fired = ew.episode(chart, wanted, m, sens)
        row["spc_month"] = chart.months[fired] if fired is not None else None
        z = ew.z_score(chart)
        high_bad = 1.0 if m.polarity == "down" else -1.0
        row["_spc_score"] = ew.spc_score(wanted, z * high_bad if reading == "concern" else -z * high_bad)


# What period_target reads of a unit's targets rows for one measure, as columns (a frame's).
TARGET_FIELDS = ("target", "kind", "quarter", "how")
TargetColumns = dict[str, list[Any]]


def _unit_targets(data: DataAccess, unit: Unit, period: Period) -> dict[str, TargetColumns]:
    """The unit's resolved targets of the period's financial year, by measure; empty when it
    has none or the period spans two years."""
    if unit.level not in tg.TARGET_LEVELS or fy_start(period.start) != fy_start(period.end):
        return {}
    return _force_targets(data, unit.force_id, tg.fy_of(period.start)).get(unit.unit_id, {})


def _force_targets(data: DataAccess, force_id: str, fy: str) -> dict[str, dict[str, TargetColumns]]:
    """The force's resolved targets split by unit and measure ONCE per version and year, as
    plain columns (unit -> measure -> TARGET_FIELDS -> values in the frame's order): a pandas
    mask, and then a row selection, per unit and measure were most of the targets' share of
    an exceptions list."""

    def compute() -> dict[str, dict[str, TargetColumns]]:
        try:
            frame = tg.resolve_targets(data, force_id, fy)
        except (FileNotFoundError, KeyError, ValueError):
            frame = pd.DataFrame(columns=tg.TARGET_COLUMNS)
        out: dict[str, dict[str, TargetColumns]] = {}
        for uid, mid, *values in zip(frame["unit_id"], frame["measure_id"],
                                     *(frame[c] for c in TARGET_FIELDS), strict=True):
            cols = out.setdefault(str(uid), {}).setdefault(str(mid), {c: [] for c in TARGET_FIELDS})
            for c, v in zip(TARGET_FIELDS, values, strict=True):
                cols[c].append(v)
        return out

    return data.cached("assessment.force_targets", (force_id, fy), compute)


def _outlooks(data: DataAccess, unit_id: str, end_month: date) -> dict[str, Any]:
    try:
        return ew.unit_target_outlooks(data, unit_id, end_month)
    except Exception:   # a refused targets file: the other columns stand; the targets page says why
        return {}


def _add_target(row: dict[str, Any], data: DataAccess, unit: Unit, m: Measure, r: dict[str, Any],
                mine: TargetColumns, outlook: Any) -> None:
    """`mine`: the unit's targets rows for this measure (their columns)."""
    if not len(mine["target"]):
        return
    period = Period(row["period_start"], row["period_end"])
    profile = None
    if tg.target_kind(m) == "count":
        profile = _last_year_months(data, m, unit, period)
    pt = period_target(m, period, mine, profile)
    if outlook is not None:
        row["outlook_status"] = outlook.status
        row["outlook_text"] = f"{outlook.period.label}: {outlook.text}"
        row["outlook_probability"] = outlook.probability
    if pt is None:
        row["target_text"] = "no target for a period that spans two financial years" \
            if fy_start(period.start) != fy_start(period.end) else ""
        return
    row["target"] = pt.value
    row["target_period"] = pt.period
    row["target_basis"] = pt.basis
    val = r["value"] if pt.kind != "count" else r["numerator"]
    if val is None or not math.isfinite(float(val)) or m.polarity not in ("up", "down"):
        row["target_text"] = f"{metrics.fmt(m, pt.value)} for {pt.period}"
        return
    met = float(val) >= pt.value if m.polarity == "up" else float(val) <= pt.value
    row["target_met"] = bool(met)
    row["target_status"] = "met" if met else "missed"
    row["target_text"] = (f"{'met' if met else 'missed'}: {metrics.fmt(m, float(val))} against "
                          f"{metrics.fmt(m, pt.value)} for {pt.period} ({pt.basis})")
    months = len(period.to_whole_months().months()) if pt.kind == "count" else 1
    row["assurance"] = assurance(m, row.get("_chart"), _chart_target(m, row.get("_chart"), pt, months))


def _last_year_months(data: DataAccess, m: Measure, unit: Unit, period: Period) -> dict[date, float] | None:
    """Last financial year's monthly counts of the unit (the seasonal profile of a count
    target), from the unit's early-warning panel (already read for its SPC charts: no query
    per measure). None unless every month of that year is there and usable."""
    fy = fy_start(period.start)
    months = [add_months(fy, i - 12) for i in range(12)]
    end_month = month_start(last_complete_month(period.end))
    ids = ew.panel_measure_ids(data, unit.force_id)
    p = ew.unit_panel(data, unit.unit_id, end_month, ids if m.id in ids else (*ids, m.id))
    if p is None or unit.unit_id not in p.uindex or m.id not in p.measures:
        return None
    series = p.measures[m.id]
    index = {mm: i for i, mm in enumerate(p.months)}
    out: dict[date, float] = {}
    for mm in months:
        i = index.get(mm)
        if i is None or series.status[i] != "ok":
            return None
        v = float(series.num[p.uindex[unit.unit_id], i])
        if not math.isfinite(v):
            return None
        out[mm] = v
    return out


def _add_peer(row: dict[str, Any], data: DataAccess, unit_id: str, m: Measure, start: date,
              end: date) -> None:
    pos = compare.msf_position(data, unit_id, m.id, start, end)
    row["peer_position"] = pos["position"]
    row["peer_rank"] = pos["rank"]
    row["peer_of"] = pos["of"]
    row["peer_text"] = pos["text"]
    row["peer_group"] = pos["label"]
    # which funnel limits the verdict used: widened for over-dispersion (Spiegelhalter 2005) or not
    row["peer_phi"] = pos.get("phi", math.nan)
    row["peer_tau2"] = pos.get("tau2", math.nan)
    row["peer_limits_adjusted"] = bool(pos.get("limits_adjusted", False))
    row["peer_limits_note"] = pos.get("limits_note", "")
    position = pos["position"]
    if isinstance(position, str) and position != "within" and m.polarity in ("up", "down"):
        above = position.startswith("above")
        row["peer_verdict"] = "better" if above == (m.polarity == "up") else "worse"
    elif position == "within":
        row["peer_verdict"] = "within"


def _judge(row: dict[str, Any], m: Measure, unit: Unit) -> None:
    """Exception or not, why in words, and the severity (evidence x the level's weight)."""
    reasons: list[str] = []
    score = 0.0
    if row["verdict"] == "worse":
        p = row["p_value"] if row["p_value"] is not None and math.isfinite(row["p_value"]) else 0.05
        reasons.append(f"worse than the same period last year ({_change_words(row)})")
        score += min(-math.log10(max(p, 1e-300)), MAX_LOG_P)
    if row["spc_verdict"] == "special_cause_concern":
        month = f" since {row['spc_month']:%B %Y}" if row["spc_month"] else ""
        reasons.append(f"SPC: special cause of concern ({row['spc_rule']}{month})")
        score += float(row.get("_spc_score", 2.0))
    if row["target_status"] == "missed":
        shortfall = _shortfall(m, row)
        reasons.append(f"target missed for {row['target_period']}"
                       + (f" by {shortfall:.0%}" if math.isfinite(shortfall) else ""))
        score += W_TARGET + (min(shortfall * 10, 3.0) if math.isfinite(shortfall) else 0.0)
    if row["outlook_status"] in OUTLOOK_EXCEPTION and row["target_status"] != "missed":
        reasons.append(f"target {row['outlook_status']} ({row['outlook_text']})")
        score += W_OUTLOOK
    if row["peer_verdict"] == "worse" and str(row["peer_position"]).endswith(PEER_OUTLIER):
        reasons.append(f"peer outlier: {row['peer_text']}")
        score += W_PEER
    row["exception"] = bool(reasons)
    row["reasons"] = "; ".join(reasons)
    row["severity"] = round(hierarchy.level(unit.level).scan_weight * score, 3) if reasons else 0.0


def _change_words(row: dict[str, Any]) -> str:
    if row["unit_text"] == "%" or row.get("abs_change") is None:
        return f"{row['abs_change']:+.1f} points" if row.get("abs_change") is not None else ""
    pct = row["pct_change"]
    return f"{pct:+.0f}%" if pct is not None and math.isfinite(pct) else ""


def _shortfall(m: Measure, row: dict[str, Any]) -> float:
    """How far short of the target, as a share of it."""
    t = row["target"]
    v = row["value"] if tg.target_kind(m) != "count" else row["numerator"]
    if not (t and math.isfinite(t) and v is not None and math.isfinite(v)):
        return math.nan
    return abs(v - t) / abs(t)


# -- exceptions: grouped by measure, with where ------------------------------------------------------------

EXCEPTION_COLUMNS = [
    "rank", "measure_id", "measure", "severity", "headline", "why", "where", "units", "unit_id", "unit",
    "level", "count",
]
# what an item of the list reads of each flagged assessment (_exceptions, _where_change)
_EXCEPTION_FIELDS = ["measure_id", "unit_id", "unit", "level", "severity", "reasons", "verdict", "unit_text",
                     "abs_change", "pct_change", "target_status", "target", "numerator", "value",
                     "spc_verdict", "peer_verdict"]
TOP = 10    # the PIM-sized list; the rest one click away
BREADTH = 0.25   # severity added per other unit with the same exception (up to 8)
# The units a PIM holds to account: the force, its BCUs and NPUs. Teams have their verdicts
# (the drill-down shows them) but are not searched for exceptions: their small numbers would
# crowd the list, and assessing 55 more units would triple its cost.
EXCEPTION_LEVELS = ("force", "bcu", "npu")


def scope_units(data: DataAccess, unit_id: str) -> list[Unit]:
    """The unit and every unit below it down to NPU (EXCEPTION_LEVELS), parents first."""
    root = data.unit(unit_id)
    if root is None:
        return []
    out: list[Unit] = []

    def walk(u: Unit) -> None:
        if u.level in EXCEPTION_LEVELS and data.may_see(u):
            out.append(u)
            for c in data.children(u.unit_id):
                walk(c)

    walk(root)
    return out


def exceptions(data: DataAccess, unit_id: str, start: date, end: date,
               sensitivity: str = ew.DEFAULT_SENSITIVITY) -> pd.DataFrame:
    """Every measure with an exception in the unit or below it, one item per measure
    (EXCEPTION_COLUMNS), most severe first. An item leads with the highest unit that has it and
    says where else it is ('driven by Western BCU, +14%; also Widnes NPU, ...')."""
    return data.cached("assessment.exceptions", (unit_id, start, end, sensitivity),
                       lambda: _exceptions(data, unit_id, start, end, sensitivity))


def _exceptions(data: DataAccess, unit_id: str, start: date, end: date, sensitivity: str) -> pd.DataFrame:
    units = scope_units(data, unit_id)
    depth = {lv: i for i, lv in enumerate(hierarchy.LEVEL_IDS)}
    # plain records grouped in Python, not a pandas group, sort and itertuples per measure:
    # with the assessments stored, those were most of a cold list's time
    groups: dict[str, list[SimpleNamespace]] = {}
    for rec in _flagged(data, [u.unit_id for u in units], start, end, sensitivity):
        groups.setdefault(str(rec["measure_id"]), []).append(SimpleNamespace(**rec))
    items = []
    for mid, found in groups.items():
        # the highest level first (BCUs before NPUs), the most severe first in each (stable)
        rows = sorted(found, key=lambda r: (depth[r.level], -r.severity))
        lead = rows[0]
        where = [f"{r.unit}{_where_change(r)}" for r in rows[1:]]
        m = MEASURES[mid]
        extra = f" and {len(where) - 3} more" if len(where) > 3 else ""
        listed = "; ".join(where[:3]) + extra
        if lead.unit_id == unit_id:
            headline = f"{m.label}: {lead.reasons}"
            where_text = f"driven by {listed}" if where else ""
        else:
            headline = f"{m.label}, {lead.unit}: {lead.reasons}"
            where_text = f"also {listed}" if where else ""
        items.append({
            # the worst unit's severity, plus a little for each other unit that has it (capped),
            # so one problem across five NPUs outranks the same problem in one
            "measure_id": mid, "measure": m.label,
            "severity": round(float(max(r.severity for r in rows)) + BREADTH * min(len(rows) - 1, 8), 3),
            "headline": headline, "why": str(lead.reasons), "where": where_text,
            "units": [str(r.unit_id) for r in rows], "unit_id": str(lead.unit_id),
            "unit": str(lead.unit), "level": str(lead.level), "count": len(rows),
        })
    out = pd.DataFrame(items, columns=[c for c in EXCEPTION_COLUMNS if c != "rank"])
    out = out.sort_values(["severity", "measure_id"], ascending=[False, True]).reset_index(drop=True)
    out.insert(0, "rank", range(1, len(out) + 1))
    return out


def _flagged(data: DataAccess, unit_ids: list[str], start: date, end: date,
             sensitivity: str) -> list[dict[str, Any]]:
    """The exceptions among the units' headline assessments (_EXCEPTION_FIELDS), unit by unit
    in `unit_ids` order and in each unit's frame order, as `assess_many`'s frame lists them.
    A unit whose table is stored gives its rows straight from the table (an exception is always
    loaded, so its place in the frame is by severity, then the card's order): building each
    unit's frame only to filter it was most of a cold list's time once the tables were stored."""
    data.check_scorecard(unit_ids, start, end)
    read: dict[str, list[dict[str, Any]]] = {}
    framed = [u for u in unit_ids if not (
        data.store.enabled and not data.cached_peek(STORED, (u, start, end, sensitivity, None))
        and _have(data, u, start, end, sensitivity, None, read) and u in read)]
    headline = [m.id for m in metrics.headline_measures()]
    fresh = [u for u in framed if not data.cached_peek(STORED, (u, start, end, sensitivity, None))]
    lazy = [u for u in fresh if data.store.enabled and persistable(data, u, start, end)]
    if fresh and (not lazy or len(lazy) > LAZY_TABLES):
        # nothing of these will be stored (a period that is not a preset one, e.g. the API's
        # past month, or too many to store in one request; see _many): prefetched together and
        # assessed as rows, each unit's exceptions taken from its rows as from a stored table,
        # without building and sizing a frame per unit only to filter it
        read.update(month_rows_many(data, fresh, start, end, sensitivity))
        framed = [u for u in framed if u not in read]
    frames = {}
    if framed:
        frame = assess_many(data, framed, start, end, sensitivity)
        frame = frame[frame["exception"].astype(bool)]
        for rec in frame[_EXCEPTION_FIELDS].to_dict("records"):
            frames.setdefault(str(rec["unit_id"]), []).append(rec)
    out: list[dict[str, Any]] = []
    for uid in unit_ids:
        if uid not in read:
            out += frames.get(uid, [])
            continue
        by_id = {r["measure_id"]: r for r in read[uid]}
        picked = [(i, by_id[m]) for i, m in enumerate(headline) if m in by_id and by_id[m]["exception"]]
        picked.sort(key=lambda p: (-p[1]["severity"], p[0]))
        out += [{f: r[f] for f in _EXCEPTION_FIELDS} for _i, r in picked]
    return out


def _where_change(r: Any) -> str:
    """', +14%' or ', -3.1 points' after a unit's name, when it is worse than last year."""
    if r.verdict == "worse":
        if r.unit_text == "%":
            return f" ({r.abs_change:+.1f} points)"
        if r.pct_change is not None and math.isfinite(r.pct_change):
            return f" ({r.pct_change:+.0f}%)"
    if r.target_status == "missed":
        t = r.target
        v = r.numerator if tg.target_kind(MEASURES[r.measure_id]) == "count" else r.value
        if t and math.isfinite(t) and v is not None and math.isfinite(v):
            return f" (target missed by {abs(v - t) / abs(t):.0%})"
        return " (target missed)"
    if r.spc_verdict == "special_cause_concern":
        return " (SPC concern)"
    if r.peer_verdict == "worse":
        return " (peer outlier)"
    return ""


def verdict_sentence(frame: pd.DataFrame, unit_title: str, period_label: str) -> str:
    """The one sentence a chief officer reads first, from the unit's own assessments.

    Counted over the columns as Python lists: a boolean mask of the ~90-column assessment
    frame takes every column (~10 ms a page, twice), for six columns' counts."""
    col = {c: frame[c].tolist() if c in frame.columns else [None] * len(frame)
           for c in ("verdict", "exception", "target_status", "spc_verdict", "peer_verdict", "peer_position")}
    loaded = [i for i, v in enumerate(col["verdict"]) if v != "not loaded"]
    if not loaded:
        return f"No data is loaded for {unit_title}."
    exceptions = sum(1 for i in loaded if bool(col["exception"][i]))
    n = len(loaded)
    parts = [f"{unit_title}, {period_label}: "]
    if not exceptions:
        parts.append(f"none of the {n} headline measures is an exception")
    else:
        verb = "is an exception" if exceptions == 1 else "are exceptions"
        parts.append(f"{exceptions} of {n} headline measures {verb}")
        counts = []
        worse = sum(1 for i in loaded if col["verdict"][i] == "worse")
        missed = sum(1 for i in loaded if col["target_status"][i] == "missed")
        spc = sum(1 for i in loaded if col["spc_verdict"][i] == "special_cause_concern")
        peer = sum(1 for i in loaded if col["peer_verdict"][i] == "worse"
                   and _text(col["peer_position"][i]).endswith(PEER_OUTLIER))
        if worse:
            counts.append(f"{worse} significantly worse than last year")
        if missed:
            counts.append(f"{missed} missing {'its' if missed == 1 else 'their'} target for the period")
        if spc:
            counts.append(f"{spc} with an SPC special cause of concern")
        if peer:
            counts.append(f"{peer} a peer outlier")
        if counts:
            parts.append(" (" + ", ".join(counts) + ")")
    better = sum(1 for i in loaded if col["verdict"][i] == "better")
    if better:
        parts.append(f"; {better} significantly better than last year")
    return "".join(parts) + "."


def _text(value: Any) -> str:
    """A cell as text, a missing one as '' (what pandas' astype(str).str.endswith tested:
    a missing cell stayed missing, and counted as not ending so)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value)
