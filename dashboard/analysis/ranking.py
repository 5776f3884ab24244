"""A unit's children ranked against it, for the drill-down's bars and table.

Raw counts rank units by size: the largest BCU always "has the most burglaries". So each
child is ranked by its RATE, on the basis the Compare page uses to set units of different
size side by side (`peer_comparison.basis`): counts per 1,000 residents, proportions as k
of n, service rates per unit of their denominator, means and censuses by value.

And each child gets one verdict against its parent, from one test: where it sits on the
funnel around the parent's rate (`stats.funnel_position`, exact limits, Spiegelhalter 2005).
Beyond the 99.8% limit is "significantly worse/better", the convention the Compare page
counts outliers by; beyond the 95% limit only is said as a warning, not as a difference. The
bar's colour, its hover, the chart's title and the children's table all read this one column,
so they cannot disagree. Means, censuses, ratios and counts without a population get no
verdict, and say why.

Pure: the frames come from DataAccess.values (the page fetches them).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from dashboard.analysis import kinds, metrics, stats
from dashboard.analysis.peer_comparison import POSITION_TEXT, basis, better_side
from etl.measures.model import Measure

PER_HEAD = 1000.0  # counts are compared per 1,000 residents, in the period (not annualised)
SIGNIFICANT = "99.8%"  # the limits a verdict is given at
RATE_COLUMNS = ["rate", "rate_lower", "rate_upper", "position", "vs_parent", "vs_parent_text"]
# Ranked within these groups, in this order: what a PIM must look at comes first.
_GROUP_ORDER = {"worse": 0, "above": 1, "same": 2, "none": 3, "below": 4, "better": 5}


def per_head(measure: Measure, children: pd.DataFrame) -> bool:
    """Whether the children's counts are compared per 1,000 residents: a plain count, and at
    least one child has a population (teams have none, so teams are ranked by count)."""
    if kinds.has_denominator(measure) or not basis(measure).per_head:
        return False
    pops = pd.to_numeric(children.get("population", pd.Series(dtype=float)), errors="coerce")
    return bool((pops > 0).any())


def rate_unit(measure: Measure, by_head: bool) -> str:
    """What the bars' axis is in."""
    return kinds.PER_HEAD_TEXT if by_head else metrics.unit_text(measure)


def fmt_rate(measure: Measure, value: float, by_head: bool, bare: bool = False) -> str:
    """'7.35 per 1,000', '62.1%', '2,410 crimes': a rate as a sentence says it (`bare`: the
    number alone, as in 'against 6.65', percentages keeping their sign)."""
    if by_head:
        text = "–" if not math.isfinite(value) else f"{value:,.2f}"
        return text if bare or text == "–" else f"{text} per 1,000"
    text = metrics.fmt(measure, value)
    return text if bare or measure.unit == "%" or text == "–" else f"{text} {measure.unit}"


def _exposure(measure: Measure, row: pd.Series, by_head: bool) -> tuple[float, float]:
    """(k, n): events and exposure, as the funnel takes them."""
    k = float(row["numerator"]) if pd.notna(row["numerator"]) else math.nan
    if by_head:
        pop = row.get("population")
        return k, float(pop) if pd.notna(pop) and pop else math.nan
    den = row.get("denominator")
    return k, float(den) if pd.notna(den) else math.nan


def _funnel_args(measure: Measure, k: float, n: float, p0: float) -> tuple[float, float, str] | None:
    """(k, n, kind) to place on the parent's funnel, or None when the measure has no funnel or
    the numbers do not allow one (non-whole counts, no exposure)."""
    kind = basis(measure).kind
    if kind == "value" or kinds.is_ratio(measure):
        return None
    if not all(math.isfinite(x) for x in (k, n, p0)) or n <= 0 or k < 0 or k != math.floor(k):
        return None
    if kind == "proportion":
        if n != math.floor(n) or k > n or not 0 <= p0 <= 1:
            return None
        return (k, n, "proportion")
    return (k, n, "rate")


def _positions(measure: Measure, points: list[tuple[float, float] | None], p0: float) -> list[str | None]:
    """The funnel position of every child's k events in exposure n around the parent's p0, at
    once: their exact limits in one scipy call over arrays (stats.funnel_positions, the same
    numbers as stats.funnel_position one by one), not four per child. None where a child is
    not tested."""
    out: list[str | None] = [None] * len(points)
    todo: dict[str, list[tuple[int, float, float]]] = {}
    for i, point in enumerate(points):
        args = None if point is None else _funnel_args(measure, point[0], point[1], p0)
        if args is not None:
            todo.setdefault(args[2], []).append((i, args[0], args[1]))
    for kind, items in todo.items():
        ks, ns = [k for _i, k, _n in items], [n for _i, _k, n in items]
        got = stats.funnel_positions(ks, ns, [p0] * len(items), kind)  # type: ignore[arg-type]
        for (i, _k, _n), pos in zip(items, got, strict=True):
            out[i] = pos
    return out


def verdict(measure: Measure, position: str | None, parent_name: str, why_not: str) -> tuple[str, str]:
    """(code, words) for a child's funnel position against its parent. Codes: 'worse',
    'better' (beyond the 99.8% limit, polarity-aware), 'above'/'below' (beyond it, neutral
    measure), 'same' (within it), 'none' (no test: `why_not` says why)."""
    if position is None:
        return "none", why_not
    if position in ("within", "above_95", "below_95"):
        text = f"not significantly different from {parent_name}"
        if position != "within":
            side = "above" if position.startswith("above") else "below"
            text += f" ({POSITION_TEXT[position]} only, within the {SIGNIFICANT} limits)"
            text = ("▲ " if side == "above" else "▼ ") + text
        return "same", text
    side = "above" if position.startswith("above") else "below"
    arrow = "▲" if side == "above" else "▼"
    good = better_side(measure)
    if good is None:
        return side, f"{arrow} significantly {side} {parent_name} (beyond the {SIGNIFICANT} limit)"
    word = "better" if side == good else "worse"
    return word, f"{arrow} significantly {word} than {parent_name} (beyond the {SIGNIFICANT} limit)"


def _no_test_reason(measure: Measure, by_head: bool) -> str:
    if kinds.is_ratio(measure):
        return "not tested (a ratio of two rates)"
    if basis(measure).kind == "value":
        return "not tested (a mean or a census: no funnel)"
    if basis(measure).per_head and not kinds.has_denominator(measure) and not by_head:
        return "not tested (no population, so no rate per head)"
    return "not tested (too few numbers)"


def parent_rate(measure: Measure, parent: pd.Series, by_head: bool) -> float:
    """The parent's own rate, the centre of the funnel, on the children's basis."""
    if by_head:
        k, n = _exposure(measure, parent, True)
        return k / n * PER_HEAD if n and math.isfinite(n) and math.isfinite(k) else math.nan
    return float(parent["value"]) if pd.notna(parent["value"]) else math.nan


def rank_against(
    measure: Measure, children: pd.DataFrame, parent: pd.Series, parent_name: str
) -> pd.DataFrame:
    """The children (rows of DataAccess.values) with their rate, its 95% interval, their
    funnel position around the parent's rate and the verdict, ordered for reading: by
    verdict (significantly worse first, significantly better last), then by rate, worst
    first (polarity-aware), then by name. Adds `rank` (1 = first shown) and the parent's
    rate as `parent_rate`; `per_head` says whether rates are per 1,000 residents."""
    by_head = per_head(measure, children)
    p_rate = parent_rate(measure, parent, by_head)
    pk, pn = _exposure(measure, parent, by_head)
    p0 = pk / pn if pn and math.isfinite(pn) and math.isfinite(pk) else math.nan
    why_not = _no_test_reason(measure, by_head)
    frame = children   # read here; the result is a new frame (concat below, or a copy)
    rates, los, his, codes, texts = [], [], [], [], []
    testable = by_head or kinds.has_denominator(measure)
    points: list[tuple[float, float] | None] = []
    reasons: list[str] = []
    # column by column as Python values (not a Series per row: iterrows and its look-ups were
    # most of this function for a force's ~20 NPUs); each row's numbers as _exposure reads them
    n_rows = len(frame)
    nums, vals = _column(frame, "numerator"), _column(frame, "value")
    lowers, uppers = _column(frame, "lower"), _column(frame, "upper")
    exposures = _column(frame, "population" if by_head else "denominator")
    for i in range(n_rows):
        k = float(nums[i]) if _present(nums[i]) else math.nan
        e = exposures[i]
        n = float(e) if _present(e) and (e or not by_head) else math.nan
        if by_head:
            ok = math.isfinite(n) and n > 0
            rates.append(k / n * PER_HEAD if ok else math.nan)
            los.append(lowers[i] / n * PER_HEAD if ok else math.nan)
            his.append(uppers[i] / n * PER_HEAD if ok else math.nan)
        else:
            rates.append(vals[i])
            los.append(lowers[i])
            his.append(uppers[i])
        points.append((k, n) if testable else None)
        reason = why_not
        if by_head and not (math.isfinite(n) and n > 0):
            reason = "not tested (no population)"
        elif testable and math.isfinite(k) and k != math.floor(k):
            reason = "not tested (not a whole count of events)"
        reasons.append(reason)
    positions = _positions(measure, points, p0)
    for position, reason in zip(positions, reasons, strict=True):
        code, text = verdict(measure, position, parent_name, reason)
        codes.append(code)
        texts.append(text)
    rate = np.asarray(rates, dtype=float)
    added = {
        "rate": rate,
        "rate_lower": np.asarray(los, dtype=float),
        "rate_upper": np.asarray(his, dtype=float),
        "position": positions,
        "vs_parent": codes,
        "vs_parent_text": texts,
        "parent_rate": p_rate,
        "per_head": by_head,
    }
    # The reading order: by verdict group, then by rate worst first (a missing rate last in
    # its group), then by name; ties keep the children's order (a stable sort, as pandas'
    # sort_values by these three columns with na_position="last" was).
    worst_high = measure.polarity != "up"  # higher is worse, except where higher is better
    keys = [-r if worst_high else r for r in rate.tolist()]
    names = _column(frame, "name")
    order = sorted(range(n_rows), key=lambda i: (_GROUP_ORDER[codes[i]], math.isnan(keys[i]),
                                                  0.0 if math.isnan(keys[i]) else keys[i], names[i]))
    if frame.columns.is_unique and not frame.columns.isin(["rank", *added]).any():
        # the added columns framed once and joined (eight column inserts, each a new block
        # and index, were ~2-3 ms a call): the same columns, dtypes and order as inserting them
        frame = pd.concat([frame, pd.DataFrame(added, index=frame.index)], axis=1)
    else:
        frame = frame.copy()
        for name, values in added.items():
            frame[name] = values
    frame = frame.take(order).reset_index(drop=True)
    frame.insert(0, "rank", range(1, len(frame) + 1))
    return frame


def _column(frame: pd.DataFrame, name: str) -> list[Any]:
    """A column's values as Python objects (None for every cell when the frame lacks it, as
    a row's .get gave)."""
    return frame[name].tolist() if name in frame.columns else [None] * len(frame)


def _present(value: Any) -> bool:
    """pd.notna for one cell."""
    return value is not None and value is not pd.NA and not (isinstance(value, float) and math.isnan(value))


def headline(measure: Measure, ranked: pd.DataFrame, parent_name: str, level: str, plural: str) -> str:
    """The sentence the bars answer: which child is significantly worse than the parent
    (for a neutral measure: significantly above or below it), else that none differs beyond
    chance, with the rates and the limits it was judged at. `level`/`plural`: the children's
    level as a sentence says it ('BCU', 'BCUs')."""
    if ranked.empty:
        return ""
    by_head = bool(ranked["per_head"].iloc[0])
    ref = fmt_rate(measure, float(ranked["parent_rate"].iloc[0]), by_head, bare=True)
    full = fmt_rate(measure, float(ranked["parent_rate"].iloc[0]), by_head)
    limits = f"({SIGNIFICANT} limits)"
    first = ranked.iloc[0]
    if (ranked["vs_parent"] == "none").all():
        lead = "lowest" if measure.polarity == "up" else "highest"
        return (f"{first['name']} is {lead} of the {len(ranked)} {plural}: "
                f"{fmt_rate(measure, first['rate'], by_head)}; {first['vs_parent_text']}")
    neutral = better_side(measure) is None
    flagged = ranked[ranked["vs_parent"].isin(("above", "below") if neutral else ("worse",))]
    if flagged.empty:
        better = ranked[ranked["vs_parent"] == "better"]
        if better.empty:
            return f"No {level} differs from {parent_name} beyond chance {limits}; {parent_name}: {full}"
        return (f"No {level} is significantly worse than {parent_name} {limits}; {_names(better)} "
                f"{'is' if len(better) == 1 else 'are'} significantly better ({parent_name}: {full})")
    worst = flagged.iloc[0]
    how = "different from" if neutral else "worse than"
    if len(flagged) == 1:
        how = f"{worst['vs_parent']}" if neutral else how
        return (f"{worst['name']} is significantly {how} {parent_name}: "
                f"{fmt_rate(measure, worst['rate'], by_head)} against {ref} {limits}")
    # The bars name them all; the title stays one line (plotly does not wrap titles).
    head = f"{len(flagged)} of {len(ranked)} {plural} are significantly {how} {parent_name} {limits}"
    if neutral:
        return f"{head}; {parent_name}: {full}"
    return f"{head}; worst {worst['name']}: {fmt_rate(measure, worst['rate'], by_head)} against {ref}"


def _names(rows: pd.DataFrame, most: int = 3) -> str:
    """'Western', 'Western and Eastern', 'A, B, C and 2 more'."""
    names = [str(n) for n in rows["name"]]
    if len(names) > most:
        return ", ".join(names[:most]) + f" and {len(names) - most} more"
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
