"""Crime concentration: how much of a unit's crime (and harm) its busiest few LSOAs hold.

The "law of crime concentration" (Weisburd 2015): in city after city about half of crime falls
in 2-6% of places. For a commander it says where patrol and problem solving pay: if 5% of a
BCU's LSOAs hold a third of its crime, that is the list to start from.

Pure functions over per-LSOA figures (`DataAccess.concentration` reads them: every LSOA of the
unit's area, those with no crime in the period included, because "5% of LSOAs" means 5% of all
of them). Definitions, each a standard one (docs/concentration.md):

- **top share**: the top k = ceil(f * N) LSOAs (the smallest whole number that is at least the
  fraction f of the N LSOAs), ranked by the value itself, and the share of the total they hold.
  Ties: the sum of the k largest values is the same whichever of several LSOAs tied at the
  boundary are taken, so the share never depends on how ties are broken; only which LSOAs are
  *listed* does, and that is said (`ties_at_boundary`) and broken by LSOA code, so a listing is
  repeatable. Crime and harm are ranked separately (the 5% with most harm need not be the 5%
  with most crime); each share is a reading of its own Lorenz curve.
- **Lorenz curve**: LSOAs from least to most (textbook orientation), cumulative share of LSOAs
  against cumulative share of the total, from (0, 0) to (1, 1). The page draws the same curve
  read from the top (most crime first), where the top 5% share is read straight off the chart.
- **Gini coefficient**: mean absolute difference over twice the mean,
  G = sum_i sum_j |x_i - x_j| / (2 N^2 mean): 0 when every LSOA has the same, (N - 1) / N when
  one LSOA has it all. Equal to 1 - 2 x (area under the Lorenz curve).
- **repeat locations**: data.police.uk snaps each crime to one of a fixed set of anonymous map
  points ("On or near ..."); a point with 2 or more crimes in the period is a repeat location.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

FRACTIONS: tuple[float, ...] = (0.05, 0.10)


@dataclass(frozen=True)
class TopShare:
    """The top `k` of `n` units (by value) and the share of the total they hold."""

    fraction: float          # asked for: 0.05
    k: int                   # LSOAs taken: ceil(fraction * n)
    n: int                   # LSOAs in all
    held: float              # sum of the k largest values
    total: float
    ties_at_boundary: int    # LSOAs outside the top k with the same value as the k-th (0 = none)

    @property
    def share(self) -> float:
        """Share of the total held (0-1); NaN when the total is 0 (nothing to concentrate)."""
        return self.held / self.total if self.total > 0 else math.nan

    @property
    def percent_text(self) -> str:
        return f"{round(self.fraction * 100):d}%"


def _values(values: Sequence[float] | np.ndarray) -> np.ndarray:
    v = np.asarray(values, dtype=float)
    if v.ndim != 1:
        raise ValueError("values must be one-dimensional: one figure per LSOA")
    if v.size and (not np.isfinite(v).all() or (v < 0).any()):
        raise ValueError("values must be finite and not negative (counts or harm)")
    return v


def top_k(n: int, fraction: float) -> int:
    """How many of n units make the top `fraction`: the smallest whole number at least
    fraction * n (so never fewer than the fraction asked), and at least 1 when n > 0."""
    if not 0 < fraction <= 1:
        raise ValueError(f"fraction must be in (0, 1], got {fraction}")
    if n <= 0:
        return 0
    # round first: 0.05 * 20 is 1.0000000000000002 in binary, and must give 1, not 2
    return max(1, math.ceil(round(fraction * n, 9)))


def top_share(values: Sequence[float] | np.ndarray, fraction: float) -> TopShare:
    """The share of the total held by the top `fraction` of units (see the module's note on
    ties: the share does not depend on them)."""
    v = _values(values)
    n = int(v.size)
    k = top_k(n, fraction)
    ordered = np.sort(v)[::-1]
    held = float(ordered[:k].sum()) if k else 0.0
    ties = int((ordered[k:] == ordered[k - 1]).sum()) if 0 < k < n else 0
    return TopShare(fraction, k, n, held, float(v.sum()), ties)


def top_order(codes: Sequence[str], values: Sequence[float] | np.ndarray) -> list[int]:
    """Positions of the units from most to least, ties broken by code (repeatable listings)."""
    v = _values(values)
    if len(codes) != v.size:
        raise ValueError("one code per value")
    return sorted(range(v.size), key=lambda i: (-v[i], codes[i]))


def lorenz(values: Sequence[float] | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The Lorenz curve: (cumulative share of units, cumulative share of the total), units
    ordered from least to most, starting at (0, 0) and ending at (1, 1). With a total of 0
    the curve is the line of equality (nothing is concentrated)."""
    v = np.sort(_values(values))
    n = v.size
    x = np.arange(n + 1, dtype=float) / n if n else np.array([0.0, 1.0])
    total = v.sum()
    if n == 0 or total == 0:
        return x, x.copy()
    y = np.concatenate([[0.0], np.cumsum(v) / total])
    y[-1] = 1.0
    return x, y


def concentration_curve(values: Sequence[float] | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The Lorenz curve read from the top: (share of units, share of the total they hold),
    units from most to least. The point at x = 0.05 is the top 5% share (for 5% of a whole
    number of units). It is the Lorenz curve turned half a circle: y(x) = 1 - L(1 - x)."""
    x, y = lorenz(values)
    return 1.0 - x[::-1], 1.0 - y[::-1]


def gini(values: Sequence[float] | np.ndarray) -> float:
    """G = sum_i sum_j |x_i - x_j| / (2 N^2 mean), computed in O(N log N) from the sorted
    values: sum_i (2i - N - 1) x_(i) / (N^2 mean). NaN with no units or a total of 0."""
    v = np.sort(_values(values))
    n = v.size
    total = v.sum()
    if n == 0 or total == 0:
        return math.nan
    i = np.arange(1, n + 1, dtype=float)
    return float(np.sum((2 * i - n - 1) * v) / (n * total))


@dataclass(frozen=True)
class Repeats:
    """Repeat locations: snapped map points with 2 or more crimes in the period."""

    locations: int           # points with any crime
    repeat_locations: int    # points with 2+ crimes
    crimes: int              # crimes at any point
    crimes_at_repeats: int   # crimes at the repeat points

    @property
    def share(self) -> float:
        return self.crimes_at_repeats / self.crimes if self.crimes else math.nan


def repeats(counts: Sequence[int] | np.ndarray, at_least: int = 2) -> Repeats:
    """From the number of crimes at each location: how many locations are repeats (at least
    `at_least` crimes) and how many crimes they hold."""
    c = np.asarray(counts, dtype=np.int64)
    if c.size and (c < 1).any():
        raise ValueError("a location is listed only if it has at least one crime")
    rep = c >= at_least
    return Repeats(int(c.size), int(rep.sum()), int(c.sum()), int(c[rep].sum()))


RANKED_COLUMNS = ["rank", "lsoa_code", "lsoa_name", "npu", "crimes", "crime_share", "cumulative_share",
                  "harm", "harm_share", "in_top_5", "in_top_10"]


@dataclass(frozen=True)
class Summary:
    """Everything the concentration section says about one unit and period."""

    lsoas: int
    crimes: int
    harm: float
    crime_top: tuple[TopShare, ...]      # one per FRACTIONS
    harm_top: tuple[TopShare, ...]
    crime_gini: float
    harm_gini: float
    with_crime: int                      # LSOAs with at least one crime


def summarise(crimes: Sequence[float] | np.ndarray, harm: Sequence[float] | np.ndarray) -> Summary:
    c, h = _values(crimes), _values(harm)
    return Summary(int(c.size), int(c.sum()), float(h.sum()),
                   tuple(top_share(c, f) for f in FRACTIONS), tuple(top_share(h, f) for f in FRACTIONS),
                   gini(c), gini(h), int((c > 0).sum()))


Values = Sequence[float] | np.ndarray


def ranked(codes: Sequence[str], names: Sequence[object], npus: Sequence[object],
           crimes: Values, harm: Values) -> list[dict[str, object]]:
    """Every LSOA from most to least crime (ties by code), with its share of the unit's crime
    and the running total, its harm and share of harm, and whether it is in the top 5% / 10%
    by crime (the first k listed: see the module's note on ties). Shares in % (0-100)."""
    c, h = _values(crimes), _values(harm)
    order = top_order(list(codes), c)
    total_c, total_h = float(c.sum()), float(h.sum())
    k5, k10 = top_k(c.size, FRACTIONS[0]), top_k(c.size, FRACTIONS[1])
    rows: list[dict[str, object]] = []
    running = 0.0
    for rank, i in enumerate(order, start=1):
        running += c[i]
        rows.append({
            "rank": rank, "lsoa_code": codes[i], "lsoa_name": names[i], "npu": npus[i],
            "crimes": int(c[i]),
            "crime_share": c[i] / total_c * 100 if total_c else math.nan,
            "cumulative_share": running / total_c * 100 if total_c else math.nan,
            "harm": float(h[i]), "harm_share": h[i] / total_h * 100 if total_h else math.nan,
            "in_top_5": rank <= k5, "in_top_10": rank <= k10,
        })
    return rows
