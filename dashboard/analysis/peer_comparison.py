"""The numbers of the Compare page: a unit against its peer group (MSF, BCUs, NPU cluster, teams).

For one measure and period, every member of the group gets a numerator, an exposure (the
denominator), a value with its 95% interval and a funnel position against the group's weighted
average; month by month, the unit is set against the group average with a significance test.

What is compared, so that forces of different sizes are comparable:
- proportions (sanction detection rate, satisfaction, 999 answering...): k of n, Wilson
  intervals, funnel limits for a proportion (Spiegelhalter 2005, exact binomial);
- counts (crimes, ASB incidents...): per 1,000 residents IN THE PERIOD SHOWN (not annualised),
  exact Poisson intervals and funnel limits for a rate. Units without a population (teams)
  cannot be compared per head and are left out, with the reason shown;
- service rates with a denominator: per unit of that denominator;
- means and censuses (answer times, abstraction): values only, no funnel.

Suspect and missing months are never averaged in. A member with any suspect or missing month in
the period is drawn (flagged, its value taken over the months it has, scaled to the period) but
left out of the group average and the funnel's centre line; month by month, a member's suspect
or missing month is left out of that month's average, and the screen lists every exclusion.
The group average never includes the unit being compared: it is "the MSF average", the pooled
rate sum(k) / sum(n) of the members (stats.pooled_rate), i.e. weighted by denominator.

Over-dispersion. Forces (and BCUs) differ by more than Poisson or binomial chance: without an
adjustment nearly every member falls outside the 99.8% limits and the funnel singles nobody
out. So the group's dispersion is estimated every time (Spiegelhalter 2005, QSHC 14:347-351:
z-scores of every complete unit against the centre line on the variance-stabilised scale --
arcsine for proportions, square root for rates -- winsorised at 10%, phi and tau^2) and, when
its test says the group is over-dispersed and `adjust` is on (the default), both the drawn
limits and every member's position use target +/- z sqrt(s^2 + tau^2) on that scale. With
`adjust=False`, or when the group is not over-dispersed, the limits are the exact ones. The
Comparison carries phi, tau^2 and whether the limits were widened (`limits_note` in words),
so the chart, the CSV and the scorecard can say which limits they show.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from dashboard.analysis import kinds, stats
from dashboard.analysis.metrics import headline_ids
from dashboard.analysis.peers import PeerGroup, unit_group
from dashboard.periods import Period, add_months, month_start
from etl.measures.model import Measure
from etl.measures.registry import MEASURES

if TYPE_CHECKING:
    from dashboard.data.facade import DataAccess
    from dashboard.data.model import Unit

LEVELS = (0.95, 0.998)
# Fewer units than this and the dispersion is not estimated: winsorising 10% at each end
# needs several units, and with three or four tau^2 would rest on one or two of them.
MIN_UNITS_FOR_DISPERSION = 5
# Spiegelhalter's (2005) winsorisation of the z-scores, as FunnelPlotR's default.
WINSORISE = 0.1

POSITION_TEXT = {
    "above_99.8": "above the 99.8% limit",
    "above_95": "above the 95% limit",
    "within": "within the limits",
    "below_95": "below the 95% limit",
    "below_99.8": "below the 99.8% limit",
}


@dataclass(frozen=True)
class Basis:
    """How a measure is compared across units of different size."""

    kind: str          # 'proportion' | 'rate' | 'value'
    scale: float       # display value = k / n * scale (per-person-month rates: see `months`)
    unit_text: str     # what the displayed value is in
    per_head: bool     # exposure is population / 1,000 (person-thousands per month)
    note: str
    # a weighted sum (crime harm): intervals and funnel from the compound Poisson variance
    weighted: bool = False


def basis(measure: Measure) -> Basis:
    """How the measure's kind is compared across units: proportions as k of n, rates with a
    denominator per unit of it, counts and rates per head per 1,000 residents, means and
    censuses by value only."""
    model = kinds.model(measure)
    if model == "binomial":
        return Basis("proportion", measure.scale, measure.unit, False, kinds.proportion_of(measure))
    if model == "poisson" and kinds.exposure_is_denominator(measure):
        return Basis("rate", measure.scale, f"{measure.unit}", False, measure.denominator or "")
    if model == "poisson":
        return Basis(
            "rate",
            1.0,
            kinds.PER_HEAD_TEXT,
            True,
            "counts are compared per 1,000 residents, so units of different size can be set side by side",
        )
    if model == "weighted":
        # crime harm per 1,000 residents: a weighted sum, not a count. Its variance is the sum
        # of squared weights (compound Poisson): intervals from stats.weighted_count_interval,
        # funnel limits from the Poisson limits of S / kappa "effective crimes" (see `kappa`)
        return Basis(
            "rate",
            1.0,
            kinds.PER_HEAD_TEXT,
            True,
            "crime harm is compared per 1,000 residents; a weighted sum, not a count, so its "
            "intervals and funnel limits use the compound Poisson variance (the sum of squared "
            "weights)",
            weighted=True,
        )
    return Basis("value", 1.0, measure.unit, False,
                 "a mean or a census: values are shown, but there is no funnel for it")


def better_side(measure: Measure) -> str | None:
    """'above' or 'below' is good news for this measure (None when neutral)."""
    return {"up": "above", "down": "below"}.get(measure.polarity)


# -- member months ---------------------------------------------------------------------------------

# v: the sum of squared weights of a weighted measure (crime harm), NaN otherwise
MONTH_COLUMNS = ["unit_id", "month", "k", "n", "status", "reason", "v"]


def member_months(data: DataAccess, unit_ids: tuple[str, ...], measure_id: str, first: date,
                  last: date) -> pd.DataFrame:
    """Each unit's months: numerator k, exposure n and status 'ok' | 'missing' | 'suspect'.

    n is the denominator for proportions and rates, population / 1,000 for per-head rates (so
    k / n is per 1,000 residents in the month), or the count of values for means. Rows with
    status other than 'ok' carry NaN k and n and the reason in words.
    """
    return data.cached("compare.member_months", (unit_ids, measure_id, first, last),
                      lambda: pd.DataFrame(member_cols(data, unit_ids, measure_id, first, last),
                                           columns=MONTH_COLUMNS))


def member_cols(data: DataAccess, unit_ids: tuple[str, ...], measure_id: str, first: date,
                last: date) -> dict[str, list[Any]]:
    """`member_months` as plain columns (MONTH_COLUMNS -> list): what the comparison's sums
    read, without building a frame for each of an exceptions list's 300 units x measures.
    Shared with the cache: read it, do not change it."""
    return data.cached("compare.member_cols", (unit_ids, measure_id, first, last),
                      lambda: _member_cols(data, unit_ids, measure_id, first, last))


@dataclass(frozen=True)
class _Indexed:
    """A measure's cube rows and its forces' suspect months as dictionaries: what
    `_member_cols` looks each member-month up in. Built once per measure and shared by
    every unit of a prefetch (a member's answer depends only on its own rows)."""

    keyed: dict[tuple[Any, Any, date], tuple[float, float]]
    squares: dict[tuple[Any, Any, date], float]
    has_rows: set[tuple[Any, Any]]
    suspect: dict[tuple[str, str], dict[date, str]]


def _index(raw: pd.DataFrame, suspects: pd.DataFrame | None, weighted: bool) -> _Indexed:
    suspect: dict[tuple[str, str], dict[date, str]] = {}
    if suspects is not None:
        for src_, force_, month_, reason_ in zip(suspects["source"], suspects["force_id"], suspects["month"],
                                                 suspects["reason"], strict=True):
            suspect.setdefault((src_, force_), {})[_d(month_)] = str(reason_ or "suspect month")
    # zip over columns, not itertuples (which builds a namedtuple class per call, ~2 ms)
    keyed = {(src_, uid_, _d(month_)): (float(k_), float(n_) if n_ is not None else math.nan)
             for src_, uid_, month_, k_, n_ in zip(raw["source"], raw["unit_id"], raw["month"], raw["k"],
                                                   raw["n"], strict=True)}
    squares: dict[tuple[Any, Any, date], float] = {}
    if weighted and "num2" in raw.columns:
        squares = {(src_, uid_, _d(month_)): float(v_) if v_ is not None else math.nan
                   for src_, uid_, month_, v_ in zip(raw["source"], raw["unit_id"], raw["month"], raw["num2"],
                                                     strict=True)}
    return _Indexed(keyed, squares, {(src_, uid_) for src_, uid_, _m in keyed}, suspect)


def _member_cols(data: DataAccess, unit_ids: tuple[str, ...], measure_id: str, first: date,
                 last: date, pre: _Indexed | None = None) -> dict[str, list[Any]]:
    measure = MEASURES[measure_id]
    fam = measure.dataset
    b = basis(measure)
    months = Period(first, last).months()
    units = {u: data.unit(u) for u in unit_ids}
    sources = {u: (data.source_for(unit.force_id, fam) if unit else None) for u, unit in units.items()}
    src_names = sorted({s.source for s in sources.values() if s is not None})
    forces = sorted({unit.force_id for unit in units.values() if unit})
    if pre is None:
        if not src_names:
            raw = pd.DataFrame(columns=["source", "unit_id", "month", "k", "n", "num2"])
        else:
            raw = data.measure_months(src_names, list(unit_ids), [measure.id], first, last)
        suspects = data.suspect_months_of(forces, fam) if forces else None
        pre = _index(_shape_raw(raw), suspects, b.weighted)
    keyed, squares, has_rows, suspect = pre.keyed, pre.squares, pre.has_rows, pre.suspect
    cols: dict[str, list[Any]] = {c: [] for c in MONTH_COLUMNS}
    for uid in unit_ids:
        unit = units[uid]
        src = sources[uid]
        pop = unit.population if unit and unit.population else math.nan
        for m in months:
            status, reason, k, n = "ok", "", math.nan, math.nan
            if not kinds.valued(measure):
                status, reason = "missing", "a ratio of two rates: not compared here yet"
            elif unit is None or src is None:
                status, reason = "missing", "no data loaded for this force"
            elif m not in src.months:
                status, reason = "missing", f"no {fam} data for {m:%b %Y}"
            elif m in suspect.get((src.source, unit.force_id), {}):
                status, reason = "suspect", f"{m:%b %Y} suspect: " + suspect[(src.source, unit.force_id)][m]
            elif (src.source, uid) not in has_rows:
                status, reason = "missing", "no figures for this measure"
            else:
                k, n = keyed.get((src.source, uid, m), (0.0, math.nan))
                if b.per_head:
                    n = pop / 1000.0
                    if not math.isfinite(n):
                        status, reason, k = "missing", "no population: not comparable per head", math.nan
                elif b.kind in ("proportion", "rate") and not (math.isfinite(n) and n > 0):
                    status, reason, k, n = (
                        "missing",
                        f"no {measure.denominator or 'denominator'} in {m:%b %Y}",
                        math.nan,
                        math.nan,
                    )
            v = squares.get((src.source, uid, m), 0.0) if status == "ok" and b.weighted and src else math.nan
            for col, x in zip(MONTH_COLUMNS, (uid, m, k, n, status, reason, v), strict=True):
                cols[col].append(x)
    return cols




def _shape_raw(raw: pd.DataFrame) -> pd.DataFrame:
    """Measure cube rows -> [source, unit_id, month, k, n] (num and den, as every kind has them)."""
    if "k" in raw.columns:
        return raw
    return raw.rename(columns={"num": "k", "den": "n"})


def prefetch(data: DataAccess, unit_id: str, measure_ids: Sequence[str], start: date, end: date) -> None:
    """Read the group's months for several measures in ONE query per family (the measures of one
    dataset share a source and a peer group) and leave each measure's member months in the
    cache, so that `compare`/`msf_position` for a whole scorecard do not query once per measure."""
    key = (unit_id, tuple(sorted(measure_ids)), start, end)
    data.cached("compare.prefetched", key, lambda: prefetch_many(data, (unit_id,), measure_ids, start, end))


def prefetch_many(data: DataAccess, unit_ids: Sequence[str], measure_ids: Sequence[str], start: date,
                  end: date) -> bool:
    """`prefetch` for several units at once (the exceptions list assesses a force's BCUs and
    NPUs): ONE query per family and period for all of them and their groups, then each unit's
    member months left in the cache under the same key `prefetch` uses, and each unit marked
    as prefetched so that its own `prefetch` reads nothing again."""
    _prefetch_many(data, unit_ids, measure_ids, start, end)
    ids = tuple(sorted(measure_ids))
    for unit_id in unit_ids:
        data.cached("compare.prefetched", (unit_id, ids, start, end), lambda: True)
    return True


def _prefetch_many(data: DataAccess, unit_ids: Sequence[str], measure_ids: Sequence[str], start: date,
                   end: date) -> None:
    families: dict[str, list[Measure]] = {}
    for mid in measure_ids:
        families.setdefault(MEASURES[mid].dataset, []).append(MEASURES[mid])
    whole = Period(month_start(start), end).to_whole_months()
    for family, measures in families.items():
        plans: dict[Period, list[tuple[str, ...]]] = {}
        for unit_id in unit_ids:
            period = clip_to_data(data, unit_id, measures[0].id, whole)
            group = unit_group(data, unit_id, "msf", family)
            plans.setdefault(period, []).append((unit_id, *group.members))
        for period, id_sets in plans.items():
            every = sorted({u for ids in id_sets for u in ids})
            units = [data.unit(u) for u in every]
            sources = sorted(
                {s.source for u in units if u for s in [data.source_for(u.force_id, family)] if s is not None}
            )
            forces = sorted({u.force_id for u in units if u})
            if not sources:
                continue
            cube = _shape_raw(data.measure_months(sources, every, [m.id for m in measures], period.start,
                                                  period.end))
            suspects = data.suspect_months_of(forces, family)
            by_measure = {mid: part for mid, part in cube.groupby("measure_id", sort=False)}
            empty = cube.iloc[0:0]
            # each measure's rows indexed once for every unit: a member-month's answer depends
            # only on its own rows, so no unit needs its own subset of the cube
            indexed = {m.id: _index(by_measure.get(m.id, empty), suspects, basis(m).weighted)
                       for m in measures}
            for ids in id_sets:
                for m in measures:
                    data.cached(
                        "compare.member_cols",
                        (ids, m.id, period.start, period.end),
                        lambda m=m, ids=ids, period=period, pre=indexed[m.id]: _member_cols(
                            data, ids, m.id, period.start, period.end, pre
                        ),
                    )


def _d(v: Any) -> date:
    if isinstance(v, pd.Timestamp):
        return v.date()
    if isinstance(v, datetime):
        return v.date()
    if isinstance(v, date):
        return v
    return pd.Timestamp(v).date()


# -- the comparison over a period --------------------------------------------------------------------


@dataclass(frozen=True)
class Comparison:
    """A unit against its group over a period (see `compare`)."""

    unit_id: str
    measure_id: str
    period: Period
    group: PeerGroup
    basis: Basis
    members: pd.DataFrame      # one row per unit (focus first): see MEMBER_COLUMNS
    average: float             # weighted group average (display units), focus excluded
    months: pd.DataFrame       # the trend: see TREND_COLUMNS
    exclusions: tuple[str, ...]  # every member-month left out of an average, in words
    dispersion: stats.Overdispersion | None = None  # None: no funnel, or too few units
    adjusted: bool = False     # the limits and positions are widened by dispersion.tau2
    kappa: float = 1.0         # a weighted measure's group weight scale (see `kappa`); 1 for counts
    # the funnel's limits (`funnel_curves`) over these members, made with the comparison so that a
    # stored one carries them (fastui9: ~3-5 ms of scipy a Compare page); None when not made
    curves: pd.DataFrame | None = dataclasses.field(default=None, compare=False, repr=False)

    @property
    def focus(self) -> pd.Series:
        return self.members.iloc[0]

    @property
    def phi(self) -> float:
        return self.dispersion.phi if self.dispersion else math.nan

    @property
    def tau2(self) -> float:
        """The between-unit variance the limits were widened by (0 when not adjusted)."""
        return self.dispersion.tau2 if self.dispersion and self.adjusted else 0.0

    @property
    def synthetic_peers(self) -> bool:
        """Whether any unit the focus is compared with is synthetic demo data (the demo's 42
        comparison forces are): every chart of the comparison must then say so."""
        # the columns as lists, not a boolean mask of the frame: every chart of a Compare page
        # asks (five times a page, ~0.5 ms each with the mask); bool() as astype(bool) reads
        focus, synthetic = self.members["is_focus"].tolist(), self.members["synthetic"].tolist()
        return any(bool(s) for f, s in zip(focus, synthetic, strict=True) if not bool(f))

    @property
    def limits_note(self) -> str:
        """Which limits are drawn, in words for the chart, the CSV and the scorecard."""
        return limits_note(self.dispersion, self.adjusted)


MEMBER_COLUMNS = [
    "unit_id", "name", "is_focus", "k", "n", "months_used", "months", "value", "lower", "upper",
    "in_average", "status_text", "position", "position_text", "rank", "of", "synthetic",
]
TREND_COLUMNS = [
    "month", "focus_value", "focus_status", "group_value", "members_used", "members", "excluded",
    "p_value", "significant", "side", "verdict",
]


def factor(b: Basis, months: int) -> float:
    """Display value = k / n * factor. Per-head exposures are person-thousands per month, so a
    rate per 1,000 residents over `months` months is k / n * months."""
    return float(months) if b.per_head else b.scale


def _value(k: float, n: float, b: Basis, months: int) -> float:
    if not (math.isfinite(k) and math.isfinite(n)) or n <= 0:
        return math.nan
    return k / n * factor(b, months)


def kappa(k: Sequence[float], v: Sequence[float]) -> float:
    """The group's weight scale for a weighted measure: sum of squared weights over sum of
    weights (kappa = V / S, a crime's mean-square weight over its mean weight). A weighted sum
    S with compound Poisson variance V behaves as kappa times a Poisson count of S / kappa
    "effective crimes" (the scaled Poisson of Fay and Feuer 1997, as in
    stats.weighted_count_interval), so the funnel is the Poisson funnel of S / kappa over an
    exposure of n / kappa: the rate S / n and its target are unchanged, the limits widen by
    sqrt(kappa). Taken from the group (the null hypothesis: the unit is like its group, its mix of
    offences included), so one curve serves every member. NaN when the group has no harm."""
    pairs = [(a, b) for a, b in zip(k, v, strict=True) if math.isfinite(a) and math.isfinite(b)]
    total = math.fsum(a for a, _ in pairs)
    return math.fsum(b for _, b in pairs) / total if pairs and total > 0 else math.nan


def _interval(k: float, n: float, b: Basis, months: int, v: float = math.nan) -> tuple[float, float]:
    if not (math.isfinite(k) and math.isfinite(n)) or n <= 0 or b.kind == "value":
        return (math.nan, math.nan)
    if b.weighted:   # compound Poisson: the unit's own sum of squared weights
        if not math.isfinite(v) or k <= 0 or v <= 0:
            return (math.nan, math.nan)
        lo, hi = stats.weighted_count_interval(k, v)
        return (lo / n * factor(b, months), hi / n * factor(b, months))
    if k != math.floor(k) or k < 0:
        return (math.nan, math.nan)
    if b.kind == "proportion":
        if n != math.floor(n) or k > n:
            return (math.nan, math.nan)
        lo, hi = stats.wilson_interval(int(k), int(n))
        return (lo * b.scale, hi * b.scale)
    lo, hi = stats.rate_interval(int(k), n)
    return (lo * factor(b, months), hi * factor(b, months))


def _funnel_args(k: float, n: float, p0: float, b: Basis, tau2: float | None = None,
                 kap: float = 1.0) -> tuple[float, float, str] | None:
    """(k, n, kind) to place on the funnel of target p0, or None when the unit has no place
    on it. A weighted measure is placed as S / kappa effective crimes over n / kappa (see
    `kappa`)."""
    if b.kind == "value" or not all(math.isfinite(x) for x in (k, n, p0)) or n <= 0:
        return None
    if b.weighted:
        if not (math.isfinite(kap) and kap > 0) or (tau2 is not None and p0 <= 0):
            return None
        return (k / kap, n / kap, "rate")
    if k != math.floor(k):
        return None
    if b.kind == "proportion":
        if n != math.floor(n) or not 0 <= p0 <= 1:
            return None
        return (k, n, "proportion")
    if tau2 is not None and p0 <= 0:
        return None
    return (k, n, "rate")


def _position(k: float, n: float, p0: float, b: Basis, tau2: float | None = None,
              kap: float = 1.0) -> str | None:
    """The unit's funnel position; with `tau2`, against the over-dispersed limits."""
    args = _funnel_args(k, n, p0, b, tau2, kap)
    if args is None:
        return None
    return stats.funnel_position(args[0], args[1], p0, args[2], tau2=tau2)  # type: ignore[arg-type]


def _positions(points: Sequence[tuple[float, float]], p0: float, b: Basis, tau2: float | None = None,
               kap: float = 1.0) -> list[str | None]:
    """`_position` of many units on one funnel: the exact limits in one scipy call over
    arrays (stats.funnel_positions); the over-dispersed limits, plain numpy, one by one."""
    return _positions_many([(k, n, p0, b, tau2, kap) for k, n in points])


def _positions_many(items: Sequence[tuple[float, float, float, Basis, float | None, float]]
                    ) -> list[str | None]:
    """`_position` of (k, n, p0, basis, tau2, kappa) items, each on its own funnel: those
    with exact limits in one stats.funnel_positions call per kind."""
    out: list[str | None] = [None] * len(items)
    exact: dict[str, list[tuple[int, float, float, float]]] = {}
    for i, (k, n, p0, b, tau2, kap) in enumerate(items):
        args = _funnel_args(k, n, p0, b, tau2, kap)
        if args is None:
            continue
        if tau2 is not None:
            out[i] = stats.funnel_position(args[0], args[1], p0, args[2], tau2=tau2)  # type: ignore[arg-type]
        else:
            exact.setdefault(args[2], []).append((i, args[0], args[1], p0))
    for kind, todo in exact.items():
        got = stats.funnel_positions([t[1] for t in todo], [t[2] for t in todo], [t[3] for t in todo],
                                     kind)  # type: ignore[arg-type]
        for (i, *_rest), pos in zip(todo, got, strict=True):
            out[i] = pos
    return out


def dispersion(rows: Sequence[dict[str, Any]], p0: float, b: Basis,
               kap: float = 1.0) -> stats.Overdispersion | None:
    """Spiegelhalter's (2005) over-dispersion of the units on the funnel: every unit with the
    whole period (the focus too: it is on the plot), z-scores against the centre line p0.
    None when the measure has no funnel or fewer than MIN_UNITS_FOR_DISPERSION units count.
    `rows` are `_compare`'s plain member dicts (no pandas: it runs for every assessment)."""
    if b.kind == "value" or not math.isfinite(p0) or p0 <= 0 or (b.kind == "proportion" and p0 > 1):
        return None
    if b.weighted and not (math.isfinite(kap) and kap > 0):
        return None
    usable = [(r["k"], r["n"]) for r in rows
              if r["months_used"] == r["months"] and math.isfinite(r["k"]) and math.isfinite(r["n"])
              and r["n"] > 0 and (b.kind != "proportion" or r["k"] <= r["n"])]
    if len(usable) < MIN_UNITS_FOR_DISPERSION:
        return None
    kind = "proportion" if b.kind == "proportion" else "rate"
    scale = kap if b.weighted else 1.0   # a weighted measure: effective crimes (see `kappa`)
    z, s = stats.funnel_z_scores([k / scale for k, _ in usable], [n / scale for _, n in usable], p0, kind)
    return stats.overdispersion(z, s, trim=WINSORISE)


def limits_note(od: stats.Overdispersion | None, adjusted: bool) -> str:
    """'Limits widened for over-dispersion (phi = 2.9, tau^2 = 0.0021; Spiegelhalter 2005)'."""
    if od is None:
        return ""
    if adjusted:
        return (f"Limits widened for over-dispersion (phi = {od.phi:.1f}, tau^2 = {od.tau2:.2g}; "
                "Spiegelhalter 2005)")
    if od.overdispersed:
        return (f"The group is over-dispersed (phi = {od.phi:.1f}) but the limits are not widened: "
                "more members fall outside them than chance alone would put there")
    return f"No over-dispersion (phi = {od.phi:.1f}): plain Poisson/binomial limits"


def position_words(position: str | None, measure: Measure, group_word: str) -> str:
    """'above the 99.8% limit: significantly worse than the MSF average' (polarity-aware)."""
    if position is None:
        return "no funnel for this measure"
    text = POSITION_TEXT[position]
    if position == "within":
        return f"{text}: not significantly different from the {group_word} average"
    side = "above" if position.startswith("above") else "below"
    good = better_side(measure)
    if good is None:
        return f"{text}: significantly {side} the {group_word} average"
    word = "better" if side == good else "worse"
    return f"{text}: significantly {word} than the {group_word} average"


def group_word(group: PeerGroup) -> str:
    return {"msf_file": "MSF", "proxy": "MSF (proxy)", "all_forces": "all-force", "bcu": "BCU",
            "npu_cluster": "NPU cluster", "team_type": "team-type"}.get(group.kind, "group")


def compare(data: DataAccess, unit_id: str, measure_id: str, start: date, end: date,
            scope: str = "msf", adjust: bool = True) -> Comparison:
    """The unit against its peer group for one measure over whole months [start, end].
    `adjust`: widen the funnel for over-dispersion when the group is over-dispersed (the
    default); False keeps the exact Poisson/binomial limits."""
    period = clip_to_data(data, unit_id, measure_id, Period(month_start(start), end).to_whole_months())
    key = (unit_id, measure_id, period.start, period.end, scope, adjust)
    compute = lambda: _compare(data, unit_id, measure_id, period, scope, adjust=adjust)  # noqa: E731
    unit = data.unit(unit_id)
    if unit is not None and (period.start, period.end) in data.preset_periods(unit.force_id):
        # a preset period: the whole comparison depends only on the version and the key, so it is
        # kept beside the version (fastui9, docs/precompute.md) and a cold worker reads it
        # (~1 ms) instead of reading the group's months and testing every member (~20 ms of CPU
        # at national scale); `precompute` stores the default measure's
        return data.persisted("compare.compare", key, compute)
    return data.cached("compare.compare", key, compute)


def precompute(data: DataAccess, force_ids: Sequence[str] | None = None,
               measure_ids: Sequence[str] | None = None) -> int:
    """Store the comparison the Compare page draws (most similar forces or peers, the funnel
    widened when over-dispersed; a force also against every force) of every force, BCU and
    NPU x preset period of each force (every force by default), for `measure_ids` (by default
    the scorecard's headline measures, each row of which links to its comparison, whose data
    the force has), so that no page view computes them; any other measure, and a team's, is
    stored by its first view (`python -m dashboard precompute`; docs/precompute.md). Returns
    how many comparisons there are."""
    forces = list(force_ids) if force_ids is not None else sorted({str(f) for f in data.units()["force_id"]})
    done = 0
    for force_id in forces:
        units = [u for lv in ("force", "bcu", "npu") for u in data.units_at(force_id, lv)]
        wanted = list(measure_ids) if measure_ids is not None else list(headline_ids())
        mids = [m for m in wanted if kinds.valued(MEASURES[m])
                and data.source_for(force_id, MEASURES[m].dataset) is not None]
        for start, end in sorted(data.preset_periods(force_id)):
            for unit in units:
                for mid in mids:
                    for scope in (("msf", "all") if unit.level == "force" else ("msf",)):
                        try:
                            compare(data, unit.unit_id, mid, start, end, scope)
                        except KeyError:   # no group for this unit and measure: the page says so
                            continue
                        done += 1
    return done


def clip_to_data(data: DataAccess, unit_id: str, measure_id: str, period: Period) -> Period:
    """The whole months of `period` inside the span the unit's own source covers: a financial
    year to date asked of five months of data compares those five months, not eleven of which
    six are missing for everyone."""
    unit = data.unit(unit_id)
    if unit is None:
        return period
    source = data.source_for(unit.force_id, MEASURES[measure_id].dataset)
    if source is None:
        return period
    start = max(period.start, month_start(source.first_month))
    end = min(period.end, Period(source.last_month, source.last_month).to_whole_months().end)
    if end < start:
        return period
    return Period(start, end)


@dataclass
class _Members:
    """A group's members over a period as plain rows, with the average and the dispersion:
    what the Compare page and the scorecard's position both start from (no pandas, no
    intervals, no funnel positions: those are added by whoever needs them)."""

    measure: Measure
    basis: Basis
    group: PeerGroup
    period: Period
    mm: dict[str, list[Any]]     # the member months as columns (MONTH_COLUMNS)
    names: dict[str, str]
    rows: list[dict[str, Any]]
    exclusions: list[str]
    pooled: float
    average: float
    kap: float
    od: stats.Overdispersion | None
    adjusted: bool
    tau2: float | None
    latest: bool
    n_months: int


def _members(data: DataAccess, unit_id: str, measure_id: str, period: Period, scope: str,
             adjust: bool = True) -> _Members:
    measure = MEASURES[measure_id]
    b = basis(measure)
    group = unit_group(data, unit_id, scope, measure.dataset)
    ids = (unit_id, *group.members)
    mm = member_cols(data, ids, measure_id, period.start, period.end)
    months = period.months()
    n_months = len(months)
    names = {u: _name(data.unit(u), u) for u in ids}
    synthetic = {u: bool((found := data.unit(u)) and found.synthetic) for u in ids}
    rows = []
    exclusions: list[str] = []
    latest = measure.aggregate == "latest"
    # One pass over the member-months (plain lists, not a pandas mask per member: with 14
    # measures x every unit of a force, the masks were most of the assessments' time).
    per_unit: dict[str, tuple[list[date], list[float], list[float], list[float]]] = {}
    bad_reasons: dict[str, list[str]] = {}
    for uid_, month_, k_, n_, status_, reason_, v_ in zip(
            mm["unit_id"], mm["month"], mm["k"], mm["n"], mm["status"], mm["reason"], mm["v"], strict=True):
        if status_ == "ok":
            got = per_unit.setdefault(uid_, ([], [], [], []))
            got[0].append(month_)
            got[1].append(float(k_))
            got[2].append(float(n_) if n_ is not None else math.nan)
            got[3].append(float(v_) if v_ is not None else math.nan)
        else:
            bad_reasons.setdefault(uid_, []).append(str(reason_))
    for uid in ids:
        ok_months, ok_k, ok_n, ok_v = per_unit.get(uid, ([], [], [], []))
        bad = bad_reasons.get(uid, [])
        used = len(ok_months)
        if latest and used:
            last_i = max(range(used), key=lambda i: ok_months[i])
            ok_k, ok_n, ok_v = [ok_k[last_i]], [ok_n[last_i]], [ok_v[last_i]]
        k = float(math.fsum(ok_k)) if used else math.nan
        n = float(sum(ok_n)) if used else math.nan
        v = float(math.fsum(ok_v)) if used and b.weighted else math.nan
        complete = used == n_months
        span = 1 if latest else n_months
        value = _value(k, n, b, span)
        if complete:
            status = "complete"
        elif used == 0:
            status = "; ".join(sorted(set(bad))) or "no data"
        else:
            status = f"incomplete: {used} of {n_months} months (" + "; ".join(bad[:3]) + \
                     ("; ..." if len(bad) > 3 else "") + ")"
        in_average = uid != unit_id and complete
        if uid != unit_id and not complete:
            exclusions.append(f"{names[uid]} left out of the average: {status}")
        rows.append({"unit_id": uid, "name": names[uid], "is_focus": uid == unit_id, "k": k, "n": n, "v": v,
                     "months_used": used, "months": n_months, "value": value,
                     "in_average": in_average, "status_text": status, "synthetic": synthetic[uid]})
    # plain lists from here on: this runs for every unit x measure of an exceptions list, and
    # pandas' per-operation cost was most of it
    avg_rows = [r for r in rows if r["in_average"]]
    pooled = (stats.pooled_rate([r["k"] for r in avg_rows], [r["n"] for r in avg_rows]) if avg_rows
              else math.nan)
    if b.kind == "value":
        average = (stats.weighted_average([r["value"] for r in avg_rows], [r["n"] for r in avg_rows])
                   if avg_rows else math.nan)
    else:
        average = pooled * factor(b, 1 if latest else n_months)
    kap = kappa([r["k"] for r in avg_rows], [r["v"] for r in avg_rows]) if b.weighted else 1.0
    od = dispersion(rows, pooled, b, kap)
    adjusted = bool(adjust and od is not None and od.overdispersed)
    tau2 = od.tau2 if adjusted and od is not None else None
    return _Members(measure, b, group, period, mm, names, rows, exclusions, pooled, average, kap, od,
                    adjusted, tau2, latest, n_months)


def _placed(g: _Members, row: dict[str, Any]) -> bool:
    """Whether a member is put on the funnel at all."""
    return g.basis.kind != "value" and math.isfinite(g.pooled) and bool(row["months_used"])


def _ranks(g: _Members) -> tuple[dict[str, int], int]:
    """Rank 1 = best: ascending values where down is good, else descending; ties by name.
    Returns each ranked member's rank and how many are ranked."""
    valued = [r for r in g.rows if r["value"] is not None and not (isinstance(r["value"], float)
                                                                    and math.isnan(r["value"]))]
    sign = 1.0 if g.measure.polarity == "down" else -1.0
    ranked = sorted(valued, key=lambda r: (sign * float(r["value"]), r["name"]))
    return {r["unit_id"]: i + 1 for i, r in enumerate(ranked)}, len(ranked)


def _compare(data: DataAccess, unit_id: str, measure_id: str, period: Period, scope: str,
             adjust: bool = True) -> Comparison:
    """The comparison: every member with its interval and its funnel position (the exact
    limits of every member in one vectorised call, `_positions`)."""
    g = _members(data, unit_id, measure_id, period, scope, adjust)
    b = g.basis
    span = 1 if g.latest else g.n_months
    for r in g.rows:
        r["lower"], r["upper"] = _interval(r["k"], r["n"], b, span, r["v"])
    placed = [r for r in g.rows if _placed(g, r)]
    found = dict(zip([r["unit_id"] for r in placed],
                     _positions([(r["k"], r["n"]) for r in placed], g.pooled, b, g.tau2, g.kap), strict=True))
    word = group_word(g.group)
    rank, of = _ranks(g)
    for r in g.rows:
        pos = found.get(r["unit_id"])
        r["position"] = pos
        r["position_text"] = position_words(pos, g.measure, word) if r["months_used"] else "no data"
        r["rank"], r["of"] = rank.get(r["unit_id"]), of
    members = pd.DataFrame(g.rows, columns=MEMBER_COLUMNS)
    exclusions = list(g.exclusions)
    trend = _trend(g.mm, unit_id, g.group, b, g.measure, g.names, exclusions)
    c = Comparison(unit_id, measure_id, period, g.group, b, members, g.average, trend,
                   tuple(exclusions), g.od, g.adjusted, g.kap)
    return dataclasses.replace(c, curves=_funnel_curves(c))


_EMPTY_TREND = pd.DataFrame(columns=TREND_COLUMNS)


def peers_synthetic(data: DataAccess, unit_id: str, measure_id: str, scope: str = "msf") -> bool:
    """Whether any unit `unit_id` is compared with for the measure is synthetic demo data (the
    demo's comparison forces are): the API says so beside every peer position."""
    group = unit_group(data, unit_id, scope, MEASURES[measure_id].dataset)
    return any((u := data.unit(m)) is not None and u.synthetic for m in group.members)


def group_average(data: DataAccess, unit_id: str, measure_id: str, start: date, end: date,
                  scope: str = "msf") -> float:
    """The weighted group average only (display units), without funnel positions: what an
    MSF-based target needs. Members with a suspect or missing month are left out, as in
    `compare`."""
    period = Period(month_start(start), end).to_whole_months()

    def compute() -> float:
        measure = MEASURES[measure_id]
        b = basis(measure)
        group = unit_group(data, unit_id, scope, measure.dataset)
        if not group.members:
            return math.nan
        mm = member_months(data, group.members, measure_id, period.start, period.end)
        n_months = len(period.months())
        latest = measure.aggregate == "latest"
        ks, ns, vals = [], [], []
        for _uid, part in mm.groupby("unit_id"):
            if (part["status"] != "ok").any():
                continue
            ok = part[part["month"] == part["month"].max()] if latest else part
            ks.append(float(ok["k"].sum()))
            ns.append(float(ok["n"].sum()))
            vals.append(ks[-1] / ns[-1] if ns[-1] else math.nan)
        if not ks:
            return math.nan
        if b.kind == "value":
            return stats.weighted_average(vals, ns)
        return stats.pooled_rate(ks, ns) * factor(b, 1 if latest else n_months)

    return data.cached(
        "compare.group_average", (unit_id, measure_id, period.start, period.end, scope), compute
    )


def _name(unit: Unit | None, uid: str) -> str:
    return unit.name if unit is not None else uid


def _trend(mm: dict[str, list[Any]] | pd.DataFrame, unit_id: str, group: PeerGroup, b: Basis,
           measure: Measure, names: dict[str, str], exclusions: list[str]) -> pd.DataFrame:
    """Month by month: the unit, the group's pooled average over members whose month is usable,
    and the test of one against the other."""
    months = sorted(set(mm["month"]))
    by_month: dict[date, list[tuple[str, float, float, str, str, float]]] = {m: [] for m in months}
    for uid, m, k, n, status, reason, v in zip(mm["unit_id"], mm["month"], mm["k"], mm["n"], mm["status"],
                                               mm["reason"], mm["v"], strict=True):
        by_month[m].append((uid, k, n, status, reason, v))
    good = better_side(measure)
    rows = []
    for m in months:
        entries = by_month[m]
        focus = next(e for e in entries if e[0] == unit_id)
        others = [e for e in entries if e[0] != unit_id]
        ok = [e for e in others if e[3] == "ok"]
        bad = [e for e in others if e[3] != "ok"]
        for e in bad:
            exclusions.append(f"{names[e[0]]}, {m:%b %Y}, left out of that month's average: {e[4]}")
        kg, ng = sum(e[1] for e in ok), sum(e[2] for e in ok)
        fv = _value(focus[1], focus[2], b, 1) if focus[3] == "ok" else math.nan
        gv = kg / ng * factor(b, 1) if ok and ng > 0 and b.kind != "value" else math.nan
        if b.kind == "value" and ok:
            gv = stats.weighted_average([e[1] / e[2] for e in ok], [e[2] for e in ok])
        p, sig, side, verdict = math.nan, False, "", ""
        if focus[3] == "ok" and ok and b.kind != "value":
            change = (_test_weighted(focus[1], focus[5], focus[2], sum(e[1] for e in ok),
                                     sum(e[5] for e in ok), ng) if b.weighted
                      else _test(focus[1], focus[2], kg, ng, b))
            if change is not None:
                p, sig = change.p_value, change.significant
                side = "above" if change.abs_change > 0 else "below" if change.abs_change < 0 else ""
                verdict = ("not significant" if not sig else
                           ("better" if side == good else "worse") if good else f"significantly {side}")
        rows.append({
            "month": m, "focus_value": fv, "focus_status": focus[3], "group_value": gv,
            "members_used": len(ok), "members": len(others),
            "excluded": "; ".join(f"{names[e[0]]}: {e[4]}" for e in bad),
            "p_value": p, "significant": sig, "side": side, "verdict": verdict,
        })
    return pd.DataFrame(rows, columns=TREND_COLUMNS)


def _test_weighted(s1: float, v1: float, n1: float, s0: float, v0: float, n0: float) -> stats.Change | None:
    """A weighted measure's month against its group: the compound Poisson z test on the two
    rates (stats.compare_weighted)."""
    if not all(math.isfinite(x) for x in (s1, v1, n1, s0, v0, n0)) or n1 <= 0 or n0 <= 0:
        return None
    return stats.compare_weighted(s1, v1, s0, v0, n1, n0)


def _test(k1: float, n1: float, k0: float, n0: float, b: Basis) -> stats.Change | None:
    if not all(math.isfinite(x) for x in (k1, n1, k0, n0)) or n1 <= 0 or n0 <= 0:
        return None
    if k1 != math.floor(k1) or k0 != math.floor(k0):
        return None
    if b.kind == "proportion":
        if n1 != math.floor(n1) or n0 != math.floor(n0) or k1 > n1 or k0 > n0:
            return None
        return stats.compare_proportions(int(k1), int(n1), int(k0), int(n0))
    return stats.compare_counts(int(k1), int(k0), float(n1), float(n0))


# -- the funnel ------------------------------------------------------------------------------------


def visible_to(data: DataAccess, c: Comparison) -> Comparison:
    """The comparison with only the members the request's actor may see (the access seam):
    a team's peers in other NPUs are dropped for an NPU inspector. The group average and the
    funnel stay the whole group's: an aggregate, not a member's figure."""
    keep = []
    for uid in c.members["unit_id"]:
        unit = data.unit(uid)
        keep.append(unit is None or data.may_see(unit))
    if all(keep):
        return c
    # the funnel's range is drawn over the members shown: made again from them (`funnel_curves`)
    return dataclasses.replace(c, members=c.members[keep].reset_index(drop=True), curves=None)


def funnel_curves(c: Comparison, points: int = 80) -> pd.DataFrame:
    """The funnel's limits over the range of exposures drawn: [n, lo95, hi95, lo998, hi998] in
    display units (empty when the measure has no funnel or the group no average); widened for
    over-dispersion when `c.adjusted`. Those made with the comparison when it has them (the
    same function of the same members), else made now."""
    if c.curves is not None and points == CURVE_POINTS:
        return c.curves.copy()
    return _funnel_curves(c, points)


CURVE_POINTS = 80


def _funnel_curves(c: Comparison, points: int = CURVE_POINTS) -> pd.DataFrame:
    b = c.basis
    cols = ["n", "lo95", "hi95", "lo998", "hi998"]
    drawn = c.members[c.members["n"].notna() & (c.members["n"] > 0)]
    if b.kind == "value" or drawn.empty or not math.isfinite(c.average):
        return pd.DataFrame(columns=cols)
    lo_n = float(drawn["n"].min()) * 0.8
    hi_n = float(drawn["n"].max()) * 1.2
    grid = np.geomspace(max(lo_n, 1e-6), hi_n, points)
    latest = MEASURES[c.measure_id].aggregate == "latest"
    f = factor(b, 1 if latest else int(c.members["months"].iloc[0]))
    kind = "proportion" if b.kind == "proportion" else "rate"
    if b.kind == "proportion":
        grid = np.unique(np.maximum(np.round(grid), 1.0))
    p0 = min(max(c.average / f, 0.0), 1.0) if kind == "proportion" else c.average / f
    if b.weighted and not (math.isfinite(c.kappa) and c.kappa > 0):
        return pd.DataFrame(columns=cols)
    # a weighted measure's limits are those of S / kappa over n / kappa (see `kappa`)
    exposure = grid / c.kappa if b.weighted else grid
    if c.adjusted:
        # the same limits `_position` judged each member by (the curve and verdicts agree)
        lim = stats.funnel_limits_overdispersed(p0, exposure, c.tau2, kind)
    elif kind == "proportion":
        lim = stats.funnel_limits_proportion(p0, exposure)
    else:
        lim = stats.funnel_limits_rate(p0, exposure)
    return pd.DataFrame({"n": grid, "lo95": lim[0.95][0] * f, "hi95": lim[0.95][1] * f,
                         "lo998": lim[0.998][0] * f, "hi998": lim[0.998][1] * f})


# -- a position for the scorecard ----------------------------------------------------------------------


def msf_position(data: DataAccess, unit_id: str, measure_id: str, start: date, end: date,
                 adjust: bool = True) -> dict[str, Any]:
    """{'position', 'rank', 'of', 'text', 'label', 'phi', 'tau2', 'limits_adjusted',
    'limits_note'} of a unit within its group, for the scorecard: the position is against the
    limits the Compare page draws (widened for over-dispersion unless `adjust` is False).
    `text` stays one short clause (pages build sentences from it); which limits were used is
    in `limits_adjusted` and, in words, `limits_note`."""
    return msf_positions(data, [(unit_id, measure_id)], start, end, adjust)[0]


def msf_positions(data: DataAccess, pairs: Sequence[tuple[str, str]], start: date, end: date,
                  adjust: bool = True) -> list[dict[str, Any]]:
    """`msf_position` of several (unit, measure) pairs: the members of each are summed as the
    Compare page sums them, and every pair's own exact funnel position comes from one
    vectorised call per kind (a scorecard's 14 measures, an exceptions list's 300 units x
    measures), not four scipy calls each. Each answer is cached under its own key."""
    keys = []
    for unit_id, measure_id in pairs:
        period = clip_to_data(data, unit_id, measure_id, Period(month_start(start), end).to_whole_months())
        keys.append((unit_id, measure_id, period.start, period.end, adjust))
    found = data.cached_many("compare.msf_position", keys, lambda missing: _msf_positions(data, missing))
    return [dict(f) for f in found]


def _msf_positions(data: DataAccess, keys: list[tuple[Any, ...]]) -> dict[tuple[Any, ...], dict[str, Any]]:
    none = {"phi": math.nan, "tau2": 0.0, "limits_adjusted": False, "limits_note": ""}
    out: dict[tuple[Any, ...], dict[str, Any]] = {}
    groups: dict[tuple[Any, ...], _Members] = {}
    for key in keys:
        unit_id, measure_id, first, last, adjust = key
        try:
            g = _members(data, unit_id, measure_id, Period(first, last), "msf", adjust)
        except KeyError:
            out[key] = {"position": None, "rank": None, "of": 0, "text": "no group", "label": "", **none}
            continue
        if not len(g.group.members):
            out[key] = {"position": None, "rank": None, "of": 0, "text": "no peer group",
                        "label": g.group.label, **none}
            continue
        groups[key] = g
    todo = [(key, g) for key, g in groups.items() if _placed(g, g.rows[0])]
    items = [(g.rows[0]["k"], g.rows[0]["n"], g.pooled, g.basis, g.tau2, g.kap) for _key, g in todo]
    placed = dict(zip([key for key, _g in todo], _positions_many(items), strict=True))
    for key, g in groups.items():
        focus = g.rows[0]
        pos = placed.get(key)
        ranks, of = _ranks(g)
        rank = ranks.get(focus["unit_id"])
        text = f"{ordinal(rank)} of {of} (1st = best)" if rank else f"not ranked: {focus['status_text']}"
        if pos is not None:
            text += f"; {position_words(pos, g.measure, group_word(g.group))}"
        out[key] = {"position": pos, "rank": rank, "of": of, "text": text, "label": g.group.label,
                    "phi": g.od.phi if g.od else math.nan, "tau2": g.tau2 if g.tau2 is not None else 0.0,
                    "limits_adjusted": g.adjusted, "limits_note": limits_note(g.od, g.adjusted)}
    return out


def ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def trend_window(end: date, months: int = 12) -> Period:
    """The months the trend chart shows by default: the `months` whole months to `end`."""
    last = month_start(end)
    return Period(add_months(last, -(months - 1)), Period(last, end).to_whole_months().end)
