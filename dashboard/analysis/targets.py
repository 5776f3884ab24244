"""Targets: the file, rule targets that move with the MSF or last year, contributory targets for
BCUs and NPUs that add up to the force's, quarterly reviews, and the year-end projection.

HMIC (2007) on Cheshire: "Targets are identified and, along with BCU-based contributory targets,
documented in the policing plan" (L636); "NPUs hold individual performance targets" (L719); the
force "introduced quarterly rather than annual targets ... changed to reflect movement in the MSF
and BCU clusters" (L725); for 2008/09 "targets will be reviewed on a quarterly basis ... against
its MSF" (L747). docs/targets.md describes the file; this module reads it and resolves every
target to a number for every unit.

`data/targets.csv`: unit, measure, period, target[, note]
- period: a financial year '2007/08', or one of its quarters '2007/08 Q1' (Q1 = Apr-Jun).
- target: a number in the measure's display unit (a count is the TOTAL for the period; 27 means
  27% for a percentage), or a rule:
    `pct_better_than_last_year:5`  5% better than the same period last year (lower for a
                                   measure where down is good, higher where up is good);
    `msf_average`                  the weighted average of the unit's MSF group for the same
                                   quarter (so it moves with the group quarter by quarter); for a
                                   count, the MSF rate per head applied to the unit's population.
Bad rows are refused whole, naming file, line and problem (etl.errors.InputRefused).

Contributory targets: a force count target is shared among its BCUs in proportion to each BCU's
count in the same period last year, and each BCU's among its NPUs the same way, as whole numbers
by the largest-remainder method, so that they add up EXACTLY to the parent's target. Rows in the
file for a BCU or NPU are used as given, and only the remainder is shared among the others. A
percentage target applies unchanged to every BCU and NPU: equal rates average, weighted by any
denominators, to the force's rate.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from scipy import stats as sps

from dashboard.analysis import kinds, stats
from dashboard.analysis import peer_comparison as compare
from dashboard.analysis.peers import data_dir, read_commented_csv
from dashboard.periods import Period, add_months, fy_start, month_end, month_start
from etl import hierarchy
from etl.errors import InputRefused
from etl.measures.model import Measure
from etl.measures.registry import MEASURES

if TYPE_CHECKING:
    from dashboard.data.facade import DataAccess

_PERIOD = re.compile(r"^(\d{4})/(\d{2})(?:\s+Q([1-4]))?$")
_PCT_RULE = re.compile(r"^pct_better_than_last_year:\s*([0-9]+(?:\.[0-9]+)?)$")
RULES = ("pct_better_than_last_year:<x>", "msf_average")
TARGET_LEVELS = hierarchy.ids_where(targets=True)
TARGET_FILE_COLUMNS = ("unit", "measure", "period", "target")


def targets_path() -> Path:
    return data_dir() / "targets.csv"


# -- periods -------------------------------------------------------------------------------------------


def fy_period(fy: str, quarter: int | None = None) -> Period:
    """'2007/08' -> 1 Apr 2007 to 31 Mar 2008; with quarter 1 -> Apr-Jun 2007."""
    m = _PERIOD.match(fy.strip())
    if not m or m.group(3):
        raise ValueError(f"{fy!r} is not a financial year written like 2007/08")
    start_year = int(m.group(1))
    if (start_year + 1) % 100 != int(m.group(2)):
        raise ValueError(f"{fy!r}: the two years must follow each other (2007/08)")
    start = date(start_year, 4, 1)
    if quarter is None:
        return Period(start, date(start_year + 1, 3, 31), "custom")
    q_start = add_months(start, 3 * (quarter - 1))
    return Period(q_start, month_end(add_months(q_start, 2)), "custom")


def fy_of(d: date) -> str:
    return stats.financial_year(d)


def review_dates(fy: str) -> list[tuple[str, date]]:
    """When each quarter's performance (and any MSF-based target) is reviewed: the first day
    after the quarter closes (1 Jul, 1 Oct, 1 Jan, 1 Apr), quarter by quarter."""
    out = []
    for q in range(1, 5):
        p = fy_period(fy, q)
        out.append((f"Q{q} {fy}", add_months(month_start(p.end), 1)))
    return out


def next_review(as_of: date) -> tuple[str, date]:
    fy = fy_of(as_of)
    for label, when in review_dates(fy):
        if when > as_of:
            return label, when
    nxt = fy_of(date(fy_start(as_of).year + 1, 4, 1))
    return review_dates(nxt)[0]


# -- the file -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TargetRow:
    """One row of the targets file, checked."""

    file: str
    line: int
    unit_id: str
    measure_id: str
    fy: str
    quarter: int | None
    value: float | None      # a fixed target (display units), or None for a rule
    rule: str | None         # 'pct_better_than_last_year' | 'msf_average'
    rule_arg: float | None
    note: str = ""

    @property
    def period(self) -> Period:
        return fy_period(self.fy, self.quarter)

    @property
    def period_label(self) -> str:
        return f"{self.fy} Q{self.quarter}" if self.quarter else self.fy

    @property
    def text(self) -> str:
        if self.rule == "pct_better_than_last_year":
            return f"{self.rule_arg:g}% better than the same period last year"
        if self.rule == "msf_average":
            return "the MSF average for the quarter"
        return f"{self.value:g}"


def target_kind(measure: Measure) -> str:
    """'count' (a total for the period), 'rate' (a percentage or rate) or 'none' (no targets)."""
    return kinds.target_kind(measure)


def parse_targets(path: Path | None = None) -> list[TargetRow]:
    """Read and check `data/targets.csv`. Missing file: no targets. Any bad row refuses the file."""
    path = path or targets_path()
    if not path.exists():
        return []
    rows, _ = read_commented_csv(path, TARGET_FILE_COLUMNS)
    return targets_from_rows(path, rows)


def warehouse_targets(data: DataAccess) -> list[TargetRow]:
    """The targets of the warehouse version (ref_targets, copied from data/targets.csv by every
    load and rebuild), checked row by row as the file is. None loaded: no targets."""
    ref = data.reference("targets.csv")
    if ref is None:
        return []
    return data.cached("targets.rows", (), lambda: targets_from_rows(Path(ref.origin), ref.rows))


def targets_from_rows(path: Path, rows: Sequence[tuple[int, dict[str, str]]]) -> list[TargetRow]:
    """Checked targets from rows (line, cells) of the file at `path` (named in every refusal).
    Any bad row refuses the file."""
    for lineno, row in rows[:1]:
        missing = [c for c in TARGET_FILE_COLUMNS if c not in row]
        if missing:
            raise InputRefused(str(path), f"missing column(s) {', '.join(missing)}", lineno)
    out: list[TargetRow] = []
    seen: dict[tuple[str, str, str, int | None], int] = {}
    for lineno, row in rows:
        def refuse(problem: str, _line: int = lineno) -> InputRefused:
            return InputRefused(str(path), problem, _line)

        unit = row["unit"]
        if not unit or any(c.isspace() for c in unit):
            raise refuse(f"unit {unit!r} is not a unit id (e.g. cheshire or cheshire/northern)")
        measure = MEASURES.get(row["measure"])
        if measure is None:
            raise refuse(f"unknown measure {row['measure']!r} (see etl/measures/)")
        kind = target_kind(measure)
        if kind == "none":
            raise refuse(f"{measure.id} takes no target (a mean, a census or a rate per head)")
        m = _PERIOD.match(row["period"])
        if not m:
            raise refuse(f"period {row['period']!r} is not a financial year (2007/08) or a quarter "
                         "(2007/08 Q1)")
        fy = f"{m.group(1)}/{m.group(2)}"
        try:
            fy_period(fy)
        except ValueError as exc:
            raise refuse(str(exc)) from None
        quarter = int(m.group(3)) if m.group(3) else None
        text = row["target"].strip()
        value: float | None = None
        rule: str | None = None
        arg: float | None = None
        pct = _PCT_RULE.match(text)
        if pct:
            rule, arg = "pct_better_than_last_year", float(pct.group(1))
            if arg >= 100:
                raise refuse(f"{text!r}: cannot be 100% or more better")
        elif text == "msf_average":
            rule = "msf_average"
            if quarter is None:
                raise refuse("msf_average moves quarter by quarter: give a quarter (2007/08 Q1), one row "
                             "per quarter")
        elif text.startswith("pct_better"):
            raise refuse(f"{text!r}: write the rule as pct_better_than_last_year:5 (5 meaning 5%)")
        else:
            try:
                value = float(text.replace(",", "").rstrip("%"))
            except ValueError:
                raise refuse(f"target {text!r} is neither a number nor a rule ({', '.join(RULES)})") from None
            if not math.isfinite(value) or value < 0:
                raise refuse(f"target {text!r} must be a number >= 0")
            if kind == "rate" and measure.unit == "%" and value > 100:
                raise refuse(f"target {text!r} is a percentage above 100")
        key = (unit, measure.id, fy, quarter)
        if key in seen:
            raise refuse(
                f"a second target for {unit}, {measure.id}, {row['period']} (first on line {seen[key]})"
            )
        seen[key] = lineno
        out.append(TargetRow(str(path), lineno, unit, measure.id, fy, quarter, value, rule, arg,
                             row.get("note", "") or ""))
    return out


# -- contributory targets ------------------------------------------------------------------------------


def largest_remainder(total: int, weights: Sequence[float]) -> list[int]:
    """Whole numbers proportional to `weights` that add up exactly to `total` (Hamilton's method:
    floor each share, then give the leftover units to the largest remainders; ties to the first).
    All-zero weights share equally."""
    if total < 0:
        raise ValueError("total must be >= 0")
    w = np.asarray(weights, dtype=float)
    if w.size == 0:
        if total:
            raise ValueError("nothing to share a non-zero total among")
        return []
    if np.any(w < 0) or not np.all(np.isfinite(w)):
        raise ValueError("weights must be finite and >= 0")
    if w.sum() == 0:
        w = np.ones_like(w)
    exact = total * w / w.sum()
    base = np.floor(exact).astype(int)
    left = int(total - base.sum())
    order = sorted(range(w.size), key=lambda i: (-(exact[i] - base[i]), i))
    for i in order[:left]:
        base[i] += 1
    return [int(x) for x in base]


def apportion(
    total: int, last_year: dict[str, float], explicit: dict[str, float] | None = None
) -> dict[str, int]:
    """Share a parent's whole-number target among its children in proportion to last year's
    counts; children with an explicit target keep it and the rest share the remainder (never
    below 0). The result always adds up to `total` when no explicit target exceeds it."""
    explicit = {k: v for k, v in (explicit or {}).items() if k in last_year}
    fixed = {k: int(round(v)) for k, v in explicit.items()}
    rest = [k for k in last_year if k not in fixed]
    remainder = max(total - sum(fixed.values()), 0)
    shares = largest_remainder(remainder, [last_year[k] for k in rest]) if rest else []
    out = dict(fixed)
    out.update(dict(zip(rest, shares, strict=True)))
    return {k: out[k] for k in last_year}


# -- resolving to numbers ------------------------------------------------------------------------------

TARGET_COLUMNS = [
    "unit_id", "level", "measure_id", "fy", "quarter", "period_start", "period_end", "kind", "target",
    "how", "origin", "provisional", "review",
]


def _totals(data: DataAccess, force_id: str, measures: Sequence[Measure], period: Period
            ) -> dict[tuple[str, str], tuple[float, float]]:
    """(unit, measure) -> (numerator, denominator) over the period for every force/BCU/NPU, in
    one read of the measure cube (the same for every measure; a measure whose source does not
    cover the period has none)."""
    out: dict[tuple[str, str], tuple[float, float]] = {}
    if not measures:
        return out
    ids = [m.id for m in measures]
    cube = data.force_measure_cube(force_id, TARGET_LEVELS, ids, period.start, period.end)
    for m in measures:
        source = data.source_for(force_id, m.dataset)
        if source is None or not data.covered(force_id, period, m.dataset):
            continue
        part = cube[(cube["measure_id"] == m.id) & (cube["source"] == source.source)]
        if m.aggregate == "latest" and not part.empty:
            part = part[part["month"] == part["month"].max()]
        sums = part.groupby("unit_id")[["num", "den"]].sum(min_count=1)
        for uid, r in sums.iterrows():
            out[(str(uid), m.id)] = (float(r["num"]), float(r["den"]))
    return out


def _value_of(measure: Measure, num: float, den: float) -> float:
    if target_kind(measure) == "count":
        return num
    if not (math.isfinite(den) and den > 0):
        return math.nan
    return num / den * measure.scale


def resolve_targets(data: DataAccess, force_id: str, fy: str, rows: list[TargetRow] | None = None
                    ) -> pd.DataFrame:
    """Every target of the force's units for a financial year, as numbers (TARGET_COLUMNS).

    Annual rows, quarter rows and registry targets (a measure's `target`, e.g. the national
    999 standard, applied to every unit for the whole year unless the file says otherwise).
    `how` says in words where each number came from; `provisional` marks an MSF target whose
    quarter is not complete yet (the latest complete MSF quarter stands in for it).
    """
    if rows is None:
        # the version's own targets and cubes decide it: kept beside the version, so a cold
        # worker reads it (~1 ms) instead of resolving it again (~0.1-0.2 s a force and year)
        def resolve() -> pd.DataFrame:
            mine = [r for r in warehouse_targets(data) if r.unit_id.split("/", 1)[0] == force_id]
            return _resolve(data, force_id, fy, mine)

        return data.persisted("targets.resolve", (force_id, fy, "warehouse"), resolve)
    given = rows
    return data.cached("targets.resolve", (force_id, fy, ("given", tuple(given))),
                       lambda: _resolve(data, force_id, fy, given))


def _resolve(data: DataAccess, force_id: str, fy: str, rows: list[TargetRow]) -> pd.DataFrame:
    units = {u.unit_id: u for lv in TARGET_LEVELS for u in data.units_at(force_id, lv)}
    rows = [r for r in rows if r.fy == fy and r.unit_id in units]
    year = fy_period(fy)
    ids = sorted({r.measure_id for r in rows}
                 | {m.id for m in MEASURES.values() if m.target is not None and target_kind(m) != "none"})
    # last year's totals are needed for percentage rules and to share count targets
    needs = [MEASURES[i] for i in ids
             if target_kind(MEASURES[i]) == "count"
             or any(r.rule == "pct_better_than_last_year" for r in rows if r.measure_id == i)]
    last_cache: dict[Period, dict[tuple[str, str], tuple[float, float]]] = {}

    def last_for(period: Period) -> dict[tuple[str, str], tuple[float, float]]:
        if period not in last_cache:
            last_cache[period] = _totals(data, force_id, needs, period) if needs else {}
        return last_cache[period]

    out: list[dict[str, Any]] = []
    review = dict(review_dates(fy))

    def add(uid: str, m: Measure, quarter: int | None, value: float, how: str, origin: str,
            provisional: bool = False) -> None:
        p = fy_period(fy, quarter)
        out.append(
            {
                "unit_id": uid,
                "level": units[uid].level,
                "measure_id": m.id,
                "fy": fy,
                "quarter": quarter,
                "period_start": p.start,
                "period_end": p.end,
                "kind": target_kind(m),
                "target": value,
                "how": how,
                "origin": origin,
                "provisional": provisional,
                "review": review[f"Q{quarter} {fy}"] if quarter else review[f"Q4 {fy}"],
            }
        )

    by_key = {(r.unit_id, r.measure_id, r.quarter): r for r in rows}
    for mid in ids:
        m = MEASURES[mid]
        kind = target_kind(m)
        mine = [r for r in rows if r.measure_id == mid]
        if not mine:   # a registry target (e.g. the national 999 standard): every unit, all year
            for uid in units:
                add(
                    uid,
                    m,
                    None,
                    float(m.target or 0),
                    f"{m.target:g} ({m.target_source or 'registry target'})",
                    "registry",
                )
            continue
        for q in sorted({r.quarter for r in mine}, key=lambda q: (q is not None, q or 0)):
            period_last = (fy_period(fy, q) if q else year).last_year()
            last = last_for(period_last) if m in needs else {}
            resolved: dict[str, tuple[float, str, str, bool]] = {}
            for uid in units:
                r = by_key.get((uid, mid, q))
                if r is None:
                    continue
                value, how, prov = _rule_value(data, r, m, last, uid)
                if math.isfinite(value):
                    resolved[uid] = (value, how, "file", prov)
            top = resolved.get(force_id)
            if top is not None and kind == "count":
                resolved[force_id] = (float(round(top[0])), top[1], "file", top[3])
                for level, parent_level in (("bcu", "force"), ("npu", "bcu")):
                    for parent in [
                        u for u in units.values() if u.level == parent_level and u.unit_id in resolved
                    ]:
                        kids = [u.unit_id for u in units.values()
                                if u.parent_id == parent.unit_id and u.level == level]
                        if not kids:
                            continue
                        ly = {k: last.get((k, mid), (0.0, math.nan))[0] for k in kids}
                        fixed = {k: resolved[k][0] for k in kids if k in resolved}
                        shares = apportion(int(round(resolved[parent.unit_id][0])), ly, fixed)
                        for k, v in shares.items():
                            if k not in fixed:
                                resolved[k] = (float(v), f"contributory: {parent.name}'s target shared in "
                                               f"proportion to {period_last.label} counts", "contributory",
                                               resolved[parent.unit_id][3])
            elif top is not None and kind == "rate":
                for uid, unit in units.items():
                    if uid not in resolved and unit.level in ("bcu", "npu"):
                        resolved[uid] = (
                            top[0],
                            "contributory: the force's rate applies to every BCU and NPU",
                            "contributory",
                            top[3],
                        )
            for uid, (value, how, origin, prov) in resolved.items():
                add(uid, m, q, value, how, origin, prov)
    frame = pd.DataFrame(out, columns=TARGET_COLUMNS)
    order = {"force": 0, "bcu": 1, "npu": 2}
    frame["_l"] = frame["level"].map(order)
    frame["_q"] = frame["quarter"].fillna(0)
    return (
        frame.sort_values(["measure_id", "_q", "_l", "unit_id"])
        .drop(columns=["_l", "_q"])
        .reset_index(drop=True)
    )


def _rule_value(data: DataAccess, r: TargetRow, m: Measure, last: dict[tuple[str, str], tuple[float, float]],
                uid: str) -> tuple[float, str, bool]:
    if r.rule is None:
        return float(r.value), f"{r.value:g} (set in {Path(r.file).name}, line {r.line})", False
    if r.rule == "pct_better_than_last_year":
        num, den = last.get((uid, m.id), (math.nan, math.nan))
        base = _value_of(m, num, den)
        if not math.isfinite(base):
            return math.nan, "", False
        sign = -1.0 if m.polarity == "down" else 1.0
        value = base * (1 + sign * (r.rule_arg or 0) / 100.0)
        if target_kind(m) == "rate" and m.unit == "%":
            value = min(value, 100.0)
        word = "below" if sign < 0 else "above"
        return value, f"{r.rule_arg:g}% {word} last year's {_fmt(m, base)}", False
    # msf_average
    p = fy_period(r.fy, r.quarter)
    source = data.source_for(uid.split("/", 1)[0], m.dataset)
    provisional = False
    q_period = p
    if source is None or source.last_month < month_start(p.end):
        # quarter not complete yet: the latest complete MSF quarter stands in, marked provisional
        provisional = True
        if source is None:
            return math.nan, "", True
        last_q_end = source.last_month
        while last_q_end.month not in (3, 6, 9, 12):
            last_q_end = add_months(last_q_end, -1)
        q_period = Period(add_months(last_q_end, -2), month_end(last_q_end))
    average = compare.group_average(data, uid, m.id, q_period.start, q_period.end)
    if not math.isfinite(average):
        return math.nan, "", provisional
    value = average
    if target_kind(m) == "count":
        unit = data.unit(uid)
        if not unit or not unit.population:
            return math.nan, "", provisional
        value = average * unit.population / 1000.0   # per 1,000 in the quarter -> a count
    what = f"MSF average for {q_period.label}" + (" (provisional: the quarter is not complete)" if provisional
                                                   else "")
    return value, f"{what}: {_fmt(m, value)}", provisional


def _fmt(m: Measure, v: float) -> str:
    if not math.isfinite(v):
        return "–"
    if m.unit == "%":
        return f"{v:.1f}%"
    if target_kind(m) == "count":
        return f"{v:,.0f}"
    return f"{v:,.2f}"


# -- projection and the chance of meeting a target ----------------------------------------------------


@dataclass(frozen=True)
class Outlook:
    """A unit's progress against one target."""

    unit_id: str
    measure_id: str
    period: Period
    target: float
    kind: str
    actual: float          # so far (a count) or the rate so far
    months_done: int
    months_total: int
    projection: float      # year-end (or quarter-end) value
    lower: float
    upper: float
    probability: float     # of meeting the target
    status: str            # 'met', 'missed', 'on track', 'at risk', 'off track'
    how: str
    method: str

    @property
    def text(self) -> str:
        m = MEASURES[self.measure_id]
        end = "year end" if self.months_total == 12 else "quarter end"
        if self.status in ("met", "missed", "meeting now", "not meeting now"):
            return f"{self.status} ({_fmt(m, self.actual)} against {_fmt(m, self.target)})"
        return (f"{self.status}: projected {_fmt(m, self.projection)} at {end} "
                f"({_fmt(m, self.lower)} to {_fmt(m, self.upper)}) against {_fmt(m, self.target)}; "
                f"{self.probability:.0%} chance of meeting it")


def status_word(probability: float, done: bool, meets: bool) -> str:
    if done:
        return "met" if meets else "missed"
    if probability >= 0.75:
        return "on track"
    if probability >= 0.25:
        return "at risk"
    return "off track"


def outlook(measure: Measure, target: float, period: Period, monthly_num: Sequence[float],
            monthly_den: Sequence[float] | None = None, last_year_num: Sequence[float] | None = None,
            last_year_den: Sequence[float] | None = None, unit_id: str = "", how: str = "") -> Outlook | None:
    """Project the period's value from its months so far and give the chance of meeting `target`.

    Counts: stats.project_year_end (last year's months as the seasonal profile when complete)
    and stats.probability_of_meeting. Rates k/n: the remaining months' denominator is projected
    the same way, the rate so far is assumed to hold, and its uncertainty at the end of the
    period is sd = sqrt(p(1-p)) * sqrt(n_rem / N^2 + (n_rem / N)^2 / n) (binomial chance in the
    months to come plus the error in p estimated from n so far, N = n + n_rem); the chance is
    the normal probability of ending on the right side of the target.
    """
    months_total = len(period.months())
    k = np.asarray(monthly_num, dtype=float)
    done = k.size
    if done == 0 or done > months_total or not np.all(np.isfinite(k)):
        return None
    kind = target_kind(measure)
    polarity = measure.polarity
    if polarity not in ("up", "down"):
        return None
    ly = None
    if (
        last_year_num is not None
        and len(last_year_num) == months_total
        and np.all(np.isfinite(last_year_num))
    ):
        ly = np.asarray(last_year_num, dtype=float)
    if kind == "count":
        if np.any(k != np.floor(k)) or np.any(k < 0):
            return None
        proj = stats.project_year_end(k, months_total, ly if ly is not None and ly.min() >= 0 else None)
        actual = float(k.sum())
        complete = done == months_total
        meets = actual <= target if polarity == "down" else actual >= target
        prob = stats.probability_of_meeting(proj, target, polarity)
        return Outlook(unit_id, measure.id, period, target, kind, actual, done, months_total, proj.point,
                       proj.lower, proj.upper, prob, status_word(prob, complete, meets), how, proj.method)
    n = np.asarray(monthly_den if monthly_den is not None else [], dtype=float)
    if n.size != done or not np.all(np.isfinite(n)) or n.sum() <= 0:
        return None
    if measure.aggregate == "latest" or not kinds.is_proportion(measure):
        # a stock or a ratio that is not a proportion: no projection, only where it stands now
        now = float(k[-1] / n[-1] * measure.scale) if n[-1] > 0 else math.nan
        meets = now <= target if polarity == "down" else now >= target
        return Outlook(unit_id, measure.id, period, target, kind, now, done, months_total, now, math.nan,
                       math.nan, math.nan, "meeting now" if meets else "not meeting now", how, "latest value")
    ks, ns = float(k.sum()), float(n.sum())
    p = ks / ns
    lyd = None
    if (
        last_year_den is not None
        and len(last_year_den) == months_total
        and np.all(np.isfinite(last_year_den))
    ):
        lyd = np.asarray(last_year_den, dtype=float)
    if done == months_total:
        n_rem = 0.0
        method = "complete"
    elif np.all(n == np.floor(n)):
        pr = stats.project_year_end(n, months_total, lyd if lyd is not None and lyd.min() >= 0 else None)
        n_rem = pr.point - ns
        method = f"rate so far, denominator {pr.method}"
    else:
        n_rem = ns * (months_total - done) / done
        method = "rate so far, denominator flat"
    big_n = ns + n_rem
    sd = math.sqrt(max(p * (1 - p), 0.0)) * math.sqrt(n_rem / big_n**2 + (n_rem / big_n) ** 2 / ns)
    t = target / measure.scale
    if sd <= 0:
        meets = p <= t if polarity == "down" else p >= t
        prob = 1.0 if meets else 0.0
    else:
        below = float(sps.norm.cdf((t - p) / sd))
        prob = below if polarity == "down" else 1.0 - below
    z = 1.959963984540054
    lo, hi = max(p - z * sd, 0.0), min(p + z * sd, 1.0)
    meets = p <= t if polarity == "down" else p >= t
    return Outlook(unit_id, measure.id, period, target, kind, p * measure.scale, done, months_total,
                   p * measure.scale, lo * measure.scale, hi * measure.scale, prob,
                   status_word(prob, done == months_total, meets), how, method)


def current_targets(data: DataAccess, unit_id: str, as_of: date) -> pd.DataFrame:
    """The targets that apply to a unit on `as_of`: the financial year's annual targets and the
    current quarter's (a quarter row wins over an annual one for the same measure)."""
    unit = data.unit(unit_id)
    if unit is None or unit.level not in TARGET_LEVELS:
        return pd.DataFrame(columns=TARGET_COLUMNS)
    frame = resolve_targets(data, unit.force_id, fy_of(as_of))
    mine = frame[frame["unit_id"] == unit_id]
    q = stats.fy_quarter(as_of)
    quarterly = mine[mine["quarter"] == q]
    annual = mine[mine["quarter"].isna() & ~mine["measure_id"].isin(quarterly["measure_id"])]
    return pd.concat([quarterly, annual], ignore_index=True)


def unit_outlooks(data: DataAccess, unit_id: str, as_of_month: date) -> dict[str, Outlook]:
    """Measure id -> the outlook of the unit's current target, with data to `as_of_month`."""
    def compute() -> dict[str, Outlook]:
        targets = current_targets(data, unit_id, as_of_month)
        out: dict[str, Outlook] = {}
        for t in targets.itertuples(index=False):
            m = MEASURES[t.measure_id]
            period = Period(t.period_start, t.period_end)
            if month_start(as_of_month) < period.start:
                continue
            so_far = Period(period.start, min(period.end, month_end(as_of_month)))
            cur = data.series(m.id, unit_id, so_far.start, so_far.end, "month")
            if cur.empty or cur["missing"].any():
                continue
            last = period.last_year()
            prev = data.series(m.id, unit_id, last.start, last.end, "month") if data.covered(
                unit_id.split("/", 1)[0], last, m.dataset) else None
            k = cur["numerator"].to_numpy(dtype=float)
            n = cur["denominator"].to_numpy(dtype=float) if target_kind(m) == "rate" else None
            lk = prev["numerator"].to_numpy(dtype=float) if prev is not None else None
            ln = prev["denominator"].to_numpy(dtype=float) if prev is not None and n is not None else None
            o = outlook(m, float(t.target), period, k, n, lk, ln, unit_id, t.how)
            if o is not None:
                out[m.id] = o
        return out

    return data.cached(
        "targets.outlooks", (unit_id, month_start(as_of_month)), compute
    )


def status_table(data: DataAccess, unit_id: str, as_of_month: date) -> pd.DataFrame:
    """Target, projection and probability for each measure with a target (the scorecard's columns):
    [measure_id, target, target_text, projection, lower, upper, probability, target_status, status_text]."""
    rows = []
    for mid, o in unit_outlooks(data, unit_id, as_of_month).items():
        m = MEASURES[mid]
        rows.append({"measure_id": mid, "target": o.target, "target_text": f"{_fmt(m, o.target)} ({o.how})",
                     "projection": o.projection, "lower": o.lower, "upper": o.upper,
                     "probability": o.probability, "target_status": o.status, "status_text": o.text})
    return pd.DataFrame(rows, columns=["measure_id", "target", "target_text", "projection", "lower", "upper",
                                       "probability", "target_status", "status_text"])
