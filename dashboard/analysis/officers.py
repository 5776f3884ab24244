"""The officer level's statistics, pure: an officer's rates with intervals, the minimum count
below which a rate is not shown, their peer group, and where they sit on the peers' funnel.

HMIC wanted individual performance (L781) and satisfaction linked to officers (L677); the same
report warns against crude league tables. So an officer is compared only with officers in the
same role (team type) and team size, as a funnel (Spiegelhalter 2005, `stats.funnel_*`): each
point is judged against the peers' pooled rate at its own number of crimes, and no ranked list
of officers is ever produced.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np

from dashboard.analysis import stats

# Below these counts a rate is not shown ("too few to judge"): with 20 crimes a 95% Wilson
# interval on a 25% detection rate spans about 11% to 47%, wide enough to say nothing about
# one officer; the satisfaction survey reaches few respondents per officer, and 10 is the
# fewest for which an interval narrower than +/-30 points is possible.
MIN_CRIMES = 20
MIN_RESPONDENTS = 10
TOO_FEW = "too few to judge"
# Team size bands: officers are compared with officers in teams of a similar size.
SIZE_BANDS: tuple[tuple[int, int | None], ...] = ((1, 7), (8, 10), (11, None))


@dataclass(frozen=True)
class Rate:
    """k of n, as a proportion with its 95% Wilson interval; `shown` False below the minimum."""

    k: int
    n: int
    minimum: int

    @property
    def shown(self) -> bool:
        return self.n >= self.minimum

    @property
    def value(self) -> float:
        return self.k / self.n if self.shown else math.nan

    @property
    def interval(self) -> tuple[float, float]:
        return stats.wilson_interval(self.k, self.n) if self.shown else (math.nan, math.nan)

    def text(self) -> str:
        """'31.2% (95% interval 24.0% to 39.4%; 45 of 144)' or 'too few to judge (12 of 15...)'."""
        if not self.shown:
            return f"{TOO_FEW}: {self.k} of {self.n} (a rate is shown from {self.minimum})"
        lo, hi = self.interval
        return f"{self.value:.1%} (95% interval {lo:.1%} to {hi:.1%}; {self.k} of {self.n})"


def team_role(team_name: str) -> str:
    """The role a team's officers share, from its name: 'Response A' and 'Response B' are both
    'Response'; 'CID', 'Neighbourhood' are themselves."""
    return re.sub(r"\s+[A-Z0-9]$", "", team_name.strip()) or team_name


def size_band(team_size: int) -> str:
    """'1-7 officers', '8-10 officers', '11+ officers'."""
    for lo, hi in SIZE_BANDS:
        if team_size >= lo and (hi is None or team_size <= hi):
            return f"{lo}-{hi} officers" if hi is not None else f"{lo}+ officers"
    return f"{team_size} officers"


@dataclass(frozen=True)
class FunnelResult:
    """Where one officer sits among peers: the pooled rate, the curves, their position."""

    p0: float                      # the peers' pooled rate (everyone in the group, the officer too)
    position: str | None           # stats.funnel_position, None when too few to judge
    words: str
    curve_n: np.ndarray
    limits: dict[float, tuple[np.ndarray, np.ndarray]]


POSITION_WORDS = {
    "within": "within the range expected of officers in the same role and team size",
    "above_95": "above the peers' 95% limit (a warning, not yet a difference)",
    "above_99.8": "above the peers' 99.8% limit: higher than officers in the same role and team size",
    "below_95": "below the peers' 95% limit (a warning, not yet a difference)",
    "below_99.8": "below the peers' 99.8% limit: lower than officers in the same role and team size",
}


def funnel(total_k: float, total_n: float, own_k: int, own_n: int, minimum: int,
           top_n: float = 0) -> FunnelResult:
    """The peers' funnel for a proportion and the officer's position on it: centred on the
    group's pooled rate (`total_k` of `total_n`, every officer of the group, the officer
    included), drawn up to `top_n` (the largest count among the points drawn)."""
    p0 = total_k / total_n if total_n > 0 else math.nan
    top = max(top_n, own_n, minimum, 1)
    curve_n = np.arange(max(1, minimum), int(top * 1.1) + 2)
    limits = stats.funnel_limits_proportion(p0, curve_n) if total_n > 0 else {}
    if own_n < minimum or total_n <= 0:
        return FunnelResult(p0, None, TOO_FEW, curve_n, limits)
    position = stats.funnel_position(own_k, own_n, p0)
    return FunnelResult(p0, position, POSITION_WORDS[position], curve_n, limits)
