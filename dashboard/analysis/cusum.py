"""A one-sided Poisson CUSUM: the early-warning detector for a sustained shift in a count.

Why: the Shewhart rules of the exceptions scan (a point beyond 3 sigma, 2 of 3 beyond 2 sigma,
a run, a trend) are slow to see a small sustained shift in a small area. At an NPU with about
30 burglaries a month a 20% rise is about one standard deviation, and the rules take around
8 months to notice it. A CUSUM accumulates the evidence month by month; for a step change it
is the optimal detector (Moustakides GV (1986) "Optimal stopping times for detecting changes
in distributions", Ann Stat 14:1379-1387): for a given false-alarm rate nothing finds the
step sooner on average.

Method (Page ES (1954) "Continuous inspection schemes", Biometrika 41:100-115; for counts
Lucas JM (1985) "Counted data CUSUM's", Technometrics 27:129-144; Hawkins DM, Olwell DH
(1998) Cumulative Sum Charts and Charting for Quality Improvement, ch. 5). With in-control
expected count mu0 (a baseline rate x the month's exposure) and the out-of-control count
mu1 = (1 + delta) mu0 the scheme should find (delta = +0.2 by default):

    k = (mu1 - mu0) / (ln mu1 - ln mu0)            the reference value, per month
    S_t = max(0, S_(t-1) + x_t - k_t)              upward (a rise)
    S_t = max(0, S_(t-1) + k_t - x_t)              downward (a fall: mu1 = (1 - delta) mu0)
    alarm when S_t > h, S_0 = 0

k is the count at which the Poisson log-likelihood ratio x ln(mu1/mu0) - (mu1 - mu0) of
"shifted" against "in control" is zero, so S is (up to the factor ln(mu1/mu0)) the CUSUM of
the log-likelihood ratio that Moustakides' optimality is about.

The estimated start of the shift is the first month after the last month S was zero before
the alarm (Page's estimate of the change point: Hawkins & Olwell 1998, section 2.4): a CUSUM
that left zero in June and crossed h in October says "since June". Months without a usable
value (NaN) are skipped: S carries over them unchanged.

Calibration of h (the decision interval). h is chosen for a false-alarm BUDGET: about
`DEFAULT_BUDGET` (1) false alarm per 100 months on each side, counted the way the scan shows
them, with the in-control mean ESTIMATED from the chart's baseline as the scan estimates it
(`decision_interval`, `budget_h`).

- The CUSUM's ARL for a given k is computed by the Markov chain of Brook D, Evans DA (1972) "An
  approach to the probability distribution of CUSUM run length", Biometrika 59:539-549, on the
  lattice the CUSUM of whole counts lives on once k is rounded to a fraction with about
  `MARKOV_STATES` steps in [0, h] (see `arl`): exact Poisson transition probabilities, ARL =
  first element of (I - R)^-1 1. Deterministic, no simulation.
- The estimation effect: the scan's mu0 is the chart's frozen centre line, the mean of 12 to 48
  baseline months, not the true mean. An estimate 1 standard error low (3.7% at 30 a month and 24
  months) lowers k by about 1.2 a month and the CUSUM drifts up; averaged over the estimate's
  error (`estimated_alarm_rate`, Gauss-Hermite), an h set for a KNOWN mean of ARL 204 gave 0.88
  false alarms per 100 months on one side in the NPU simulation instead of 0.49. `budget_h` finds
  the h whose averaged rate is the budget, so h depends on the months of baseline too (at 30 a
  month: 20.3 with 12 months, 18.0 with 24, 16.8 with 48; 15.8 if mu0 were known).
- The budget is per side. For a measure where lower is better only the rise is a concern, so the
  benchmark's goal (1 false CONCERN per 100 months) spends it on one side; a false improvement
  can also appear as often, about 2 false signals per 100 months for the two sides together.
  Holding the two sides together to 1 per 100 (0.5 a side) costs the NPU a month: median 6 to
  flag the +20% step instead of 5 (and 6 even with mu0 known).
- h is computed on a grid of in-control means (8 per decade, `GRID_PER_DECADE`, 1 to 10,000
  a month) and baselines (12, 18, 24, 36, 48 months), interpolated log-linearly in the mean and
  linearly in 1 / months. The grid for the scan's shift and budget is PRECOMPUTED
  (dashboard/analysis/cusum_table.py, written by scripts/cusum_table.py; a unit test recomputes
  entries), so a scan calibrates nothing; other shifts or budgets are computed once per grid
  point and cached.
- `arl_interval` (h for a target ARL with mu0 known) and `shewhart_arl` (the in-control ARL of
  the Shewhart rules on normal data, about 204 months a side for the Standard rules) remain as
  references: the scan matched them until the budget calibration replaced them, and
  `shewhart_arl` simulates standard-normal data (seed 20070601, 100,000 points) through
  stats.special_causes -- the very rules the scan applies.
- One excursion of S from 0 is one alarm (see `Alarm`), so the alarms the scan shows are the
  renewals the ARL counts. A fast initial response (Lucas JM, Crosier RB (1982)
  Technometrics 24:199-205) is not used: the scan's CUSUM starts 36 months before the month it
  judges, so a head start would only matter for a shift in the window's first months.

What this assumes: months are independent Poisson counts around mu0. Real crime counts are
often over-dispersed (variance above the mean), which makes every Poisson-based rule, this
one and the c chart alike, alarm more often than its nominal rate.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

import numpy as np
from scipy import stats as sps

from dashboard.analysis import cusum_table, stats

Direction = Literal["up", "down"]

DEFAULT_SHIFT = 0.20          # the relative size of the shift the scheme is tuned to find
MARKOV_STATES = 120           # lattice points of [0, h] in the Brook-Evans chain
GRID_PER_DECADE = 8           # in-control means at which h is computed (then interpolated)
MIN_EXPECTED = 1.0            # below one expected count a month a relative shift means little
DEFAULT_BUDGET = 1.0          # false alarms per 100 months allowed on each side (see decision_interval)
SHEWHART_SEED = 20070601
SHEWHART_POINTS = 100_000


@dataclass(frozen=True)
class Alarm:
    """One alarm of a CUSUM. Indexes are into the series given (skipped points included).

    `start`: the estimated first month of the shift (the first usable point after the last
    zero of S before the alarm). `fired`: the first point with S > h. `end`: the last point
    with S > h before S next returns to 0 (the scheme is not reset after an alarm, so a shift
    that carries on keeps the alarm on). One excursion of S from 0 is one alarm: S dipping to h
    or just below and crossing it again a month later is the same shift, not a second alarm
    (counted as a second one, those re-crossings put the live false-alarm rate well above
    1 / ARL: 0.88 against 0.60 per 100 months in the NPU simulation of the benchmark)."""

    start: int
    fired: int
    end: int


@dataclass(frozen=True)
class CusumResult:
    """The CUSUM path: `s` per point (NaN where skipped), the reference values `k` and
    the decision interval `h` used, and the alarms in order."""

    direction: Direction
    s: np.ndarray
    k: np.ndarray
    h: float
    alarms: list[Alarm]


def reference_value(mu0: float, shift: float = DEFAULT_SHIFT, direction: Direction = "up") -> float:
    """Lucas's reference value k = (mu1 - mu0) / (ln mu1 - ln mu0), mu1 = (1 +/- shift) mu0.

    For a rise mu1 = (1 + shift) mu0; for a fall mu1 = (1 - shift) mu0. k lies between the two
    means (the log mean of mu0 and mu1). mu0 must be positive and 0 < shift (< 1 for a fall).
    """
    if not (math.isfinite(mu0) and mu0 > 0):
        raise ValueError(f"mu0 must be positive, got {mu0!r}")
    if not shift > 0 or (direction == "down" and shift >= 1):
        raise ValueError(f"shift must be positive (and below 1 for a fall), got {shift!r}")
    mu1 = mu0 * (1.0 + shift if direction == "up" else 1.0 - shift)
    return (mu1 - mu0) / (math.log(mu1) - math.log(mu0))


def poisson_cusum(
    counts: Sequence[float],
    expected: Sequence[float],
    h: float,
    shift: float = DEFAULT_SHIFT,
    direction: Direction = "up",
) -> CusumResult:
    """Run the one-sided CUSUM over `counts` with in-control expected counts `expected`.

    `expected[t]` is mu0 for month t: a baseline rate times the month's exposure (a seasonal
    share, a population, a denominator), or the centre line of a c chart. A point where either
    is NaN, or the expectation is not positive, is skipped (S carries over it). Alarms are
    reported when S > h; see `Alarm` for what their indexes mean.
    """
    x = np.asarray(counts, dtype=float)
    mu = np.asarray(expected, dtype=float)
    if x.shape != mu.shape or x.ndim != 1:
        raise ValueError("counts and expected must be 1-d and the same length")
    if not (math.isfinite(h) and h >= 0):
        raise ValueError(f"h must be non-negative, got {h!r}")
    usable = np.isfinite(x) & np.isfinite(mu) & (mu > 0)
    k = np.full(x.size, np.nan)
    s = np.full(x.size, np.nan)
    alarms: list[Alarm] = []
    level = 0.0
    after_zero: int | None = None      # first usable point after the latest zero
    open_alarm: list[int] | None = None    # [start, fired, end] of the alarm under way
    for t in np.flatnonzero(usable):
        kt = reference_value(float(mu[t]), shift, direction)
        k[t] = kt
        step = x[t] - kt if direction == "up" else kt - x[t]
        if level == 0.0:
            after_zero = int(t)
        level = max(0.0, level + step)
        s[t] = level
        if level > h:
            if open_alarm is None:
                open_alarm = [after_zero if after_zero is not None else int(t), int(t), int(t)]
            else:
                open_alarm[2] = int(t)     # still above h, or above it again before S was 0
        if level == 0.0:
            after_zero = None
            if open_alarm is not None:      # the excursion is over: so is its alarm
                alarms.append(Alarm(*open_alarm))
                open_alarm = None
    if open_alarm is not None:
        alarms.append(Alarm(*open_alarm))
    return CusumResult(direction, s, k, float(h), alarms)


def observed_shift(counts: Sequence[float], expected: Sequence[float], alarm: Alarm) -> float:
    """The relative change over the alarm's months, start to end: sum(x) / sum(mu0) - 1
    (0.23 for a rise of 23%), skipping unusable points; NaN when nothing was expected."""
    x = np.asarray(counts, dtype=float)[alarm.start:alarm.end + 1]
    mu = np.asarray(expected, dtype=float)[alarm.start:alarm.end + 1]
    ok = np.isfinite(x) & np.isfinite(mu) & (mu > 0)
    total = float(mu[ok].sum())
    return float(x[ok].sum()) / total - 1.0 if total > 0 else math.nan


# -- calibration ------------------------------------------------------------------------------------------


def arl(mean: float, k: float, h: float, direction: Direction = "up", states: int = MARKOV_STATES) -> float:
    """Average run length of the CUSUM (k, h) when the counts are Poisson(`mean`), from S = 0.

    The Markov chain of Brook & Evans (1972) on the lattice of values S can take: with k
    rounded to K/q (q a whole number near states / h, so [0, h] holds about `states` lattice
    points, chosen to make the rounding of k smallest: `_lattice`), q S is a whole number,
    the chain's states are q S = 0, 1, ..., H = floor(q h), and from state i a count x leads
    to max(0, i + q x - K) (i + K - q x downward), beyond H being the alarm. Exact for the
    rounded k (Lucas 1985 rounds k and h to whole numbers for the same reason); ARL = the
    first element of (I - R)^-1 1.
    Pass `mean` = mu0 for the in-control ARL, the shifted mean for the delay.
    """
    if not (mean > 0 and k > 0 and h >= 0):
        raise ValueError("mean and k must be positive and h non-negative")
    q = _lattice(k, h, states)
    big_k = int(round(k * q))
    top = int(math.floor(q * h + 1e-9))
    n = top + 1
    i = np.arange(n)
    last_x = int(math.ceil((top + big_k) / q)) + 1    # a larger count alarms (up) or resets (down)
    # counts below the 1e-15 quantile are left out (at a mean of 10,000 that is 9,200 of them;
    # their probability changes no ARL in its first dozen digits)
    first_x = min(last_x, max(0, int(sps.poisson.ppf(1e-15, mean)) - 1))
    xs = np.arange(first_x, last_x + 1)
    pmf = sps.poisson.pmf(xs, mean)
    r = np.zeros((n, n))
    for x, p in zip(xs, pmf, strict=True):
        step = q * int(x) - big_k if direction == "up" else big_k - q * int(x)
        j = np.maximum(i + step, 0)
        inside = j <= top
        np.add.at(r, (i[inside], j[inside]), p)
    if direction == "down":
        r[:, 0] += sps.poisson.sf(last_x, mean)       # counts above last_x all take S to 0
    first = _first_of_solution(np.eye(n) - r)
    return first if first > 0 else math.inf


def _first_of_solution(a: np.ndarray) -> float:
    """x[0] of a x = 1, by Gaussian elimination without pivoting, from the last row up.

    a = I - R with R sub-stochastic is (weakly) diagonally dominant, for which elimination
    without pivoting is stable; eliminating the last unknown first leaves x[0] alone at the
    end. Plain numpy row operations rather than LAPACK: a 120 x 120 solve is then a fraction of
    a millisecond even when other processes hold the cores (a threaded BLAS call is not)."""
    a = a.copy()
    b = np.ones(a.shape[0])
    for j in range(a.shape[0] - 1, 0, -1):
        pivot = a[j, j]
        if pivot <= 0:
            return math.inf
        factor = a[:j, j] / pivot
        a[:j, :j] -= np.outer(factor, a[j, :j])
        b[:j] -= factor * b[j]
    return float(b[0] / a[0, 0]) if a[0, 0] > 0 else math.inf


def _lattice(k: float, h: float, states: int) -> int:
    """The whole number q (q h about `states`, at least 3/4 of it) that makes k q closest to a
    whole number, so that rounding k to K/q moves it least."""
    if h <= 0:
        return states
    hi = max(1, min(1000, int(states / h)))
    lo = max(1, int(0.75 * hi))
    return min(range(lo, hi + 1), key=lambda q: (abs(k * q - round(k * q)) / q, -q))


def _solve_h(mu0: float, target: float, shift: float, direction: Direction) -> float:
    """The smallest h (to a quarter of a lattice step) with arl(mu0, k, h) >= target, by
    bisection: at
    small means the ARL moves in steps as h crosses whole counts, so a root finder that
    assumes a smooth curve would stall on a step."""
    k = reference_value(mu0, shift, direction)
    if arl(mu0, k, 0.0, direction) >= target:
        return 0.0
    lo, hi = 0.0, max(1.0, 3.0 * math.sqrt(mu0))
    while arl(mu0, k, hi, direction) < target:
        lo, hi = hi, hi * 2.0
    while hi - lo > hi / (4 * MARKOV_STATES):   # a quarter of a lattice step
        mid = (lo + hi) / 2.0
        if arl(mu0, k, mid, direction) >= target:
            hi = mid
        else:
            lo = mid
    # hi sits on a lattice point of the chain, where the ARL jumps; a CUSUM with the exact k
    # has values near, not on, the lattice, so h is moved to the middle of its lattice step
    q = _lattice(k, hi, MARKOV_STATES)
    return (math.floor(q * hi + 1e-9) + 0.5) / q


@lru_cache(maxsize=4096)
def _grid_h(step: int, target: float, shift: float, direction: Direction) -> float:
    return _solve_h(10.0 ** (step / GRID_PER_DECADE), target, shift, direction)


def arl_interval(mu0: float, target_arl: float, shift: float = DEFAULT_SHIFT,
                 direction: Direction = "up") -> float:
    """h for a KNOWN in-control mean mu0 such that the in-control ARL is `target_arl` months.

    Computed exactly (Brook-Evans, `arl`) at the grid means 10^(j/8) either side of mu0 and
    interpolated log-linearly between them (h grows like sqrt(mu0)); cached per grid point."""
    if not (math.isfinite(mu0) and mu0 > 0):
        raise ValueError(f"mu0 must be positive, got {mu0!r}")
    if not target_arl > 1:
        raise ValueError(f"target_arl must exceed 1, got {target_arl!r}")
    pos = math.log10(mu0) * GRID_PER_DECADE
    lo = math.floor(pos)
    h_lo = _grid_h(lo, float(target_arl), float(shift), direction)
    if pos == lo:
        return h_lo
    h_hi = _grid_h(lo + 1, float(target_arl), float(shift), direction)
    if h_lo <= 0 or h_hi <= 0:
        return h_lo + (h_hi - h_lo) * (pos - lo)
    return math.exp(math.log(h_lo) + (math.log(h_hi) - math.log(h_lo)) * (pos - lo))


def _first_fire(signal: stats.Signal, x: np.ndarray, run_length: int, trend_length: int) -> int:
    """The point at which a Shewhart pattern first qualified (a run of 8 on its 8th point)."""
    if signal.rule == "beyond_3_sigma":
        return signal.index
    if signal.rule == "run_of_8":
        return signal.start + run_length - 1
    if signal.rule == "trend_of_6":
        return signal.start + trend_length - 1
    sign = 1.0 if signal.side == "above" else -1.0
    for j in range(signal.start + 1, signal.index + 1):
        if sign * x[j] > 2.0:
            return j
    return signal.index


@lru_cache(maxsize=8)
def _in_control_signals(run_length: int, trend_length: int, points: int, seed: int
                        ) -> tuple[np.ndarray, list[stats.Signal]]:
    """The simulated in-control series and every pattern stats.special_causes finds in it
    (shared by both sides and every subset of the rules)."""
    x = np.random.default_rng(seed).standard_normal(points)
    return x, stats.special_causes(x, 0.0, 1.0, run_length=run_length, trend_length=trend_length)


@lru_cache(maxsize=64)
def shewhart_arl(rules: frozenset[str], run_length: int = 8, trend_length: int = 6,
                 side: Literal["above", "below"] = "above", points: int = SHEWHART_POINTS,
                 seed: int = SHEWHART_SEED) -> float:
    """In-control ARL, on one side, of the Shewhart rules in `rules` (stats.special_causes'
    names) with known limits: `points` standard-normal values (seed `seed`) through
    stats.special_causes; an alarm is the point where a pattern on `side` ('above' counts
    rising trends too) first qualifies, and after an alarm only patterns starting later count
    (the chart is restarted). ARL = points / alarms. Deterministic; cached."""
    x, found = _in_control_signals(run_length, trend_length, points, seed)
    sides = {"above", "up"} if side == "above" else {"below", "down"}
    fires = sorted((_first_fire(g, x, run_length, trend_length), g.start)
                   for g in found if g.rule in rules and g.side in sides)
    last, alarms = -1, 0
    for fired, start in fires:
        if start > last:
            alarms += 1
            last = fired
    return points / alarms if alarms else math.inf


# -- calibration to a false-alarm budget, with the baseline estimated -------------------------------------

ESTIMATE_NODES = 12           # Gauss-Hermite nodes over the error of the estimated baseline


def estimated_alarm_rate(mu0: float, h: float, baseline_months: float | None, shift: float = DEFAULT_SHIFT,
                         direction: Direction = "up") -> float:
    """False alarms per month of the CUSUM on in-control Poisson(mu0) counts when the scheme is
    set up from a baseline ESTIMATED from `baseline_months` months (None: mu0 known).

    The estimate m of mu0 is the mean of n Poisson months: about normal, mean mu0, variance
    mu0 / n. For an estimate m the scan runs the CUSUM with k = reference_value(m) and a decision
    interval that grows like sqrt(m) (h sqrt(m / mu0)); on the true counts that scheme alarms once
    in arl(mu0, k, h') months. The rate is the mean of 1 / ARL over the estimate's distribution
    (Gauss-Hermite, `ESTIMATE_NODES` nodes): the expected false-alarm rate of a chart whose
    baseline is estimated (Jensen WA et al. (2006) "Effects of parameter estimation on control
    chart properties: a literature review", J Qual Technol 38:349-364, average the conditional
    run-length properties over the estimator in the same way). An underestimated baseline makes
    k too low and the CUSUM drift up, so the average rate is well above 1 / arl(mu0, k, h)."""
    if baseline_months is None:
        return 1.0 / arl(mu0, reference_value(mu0, shift, direction), h, direction)
    z, w = np.polynomial.hermite_e.hermegauss(ESTIMATE_NODES)
    w = w / w.sum()
    sd = math.sqrt(mu0 / float(baseline_months))
    rate = 0.0
    for zi, wi in zip(z, w, strict=True):
        m = max(mu0 + sd * float(zi), 0.05 * mu0)
        rate += float(wi) / arl(mu0, reference_value(m, shift, direction), h * math.sqrt(m / mu0), direction)
    return rate


def budget_h(mu0: float, alarms_per_100: float, baseline_months: float | None, shift: float = DEFAULT_SHIFT,
             direction: Direction = "up") -> float:
    """The decision interval whose expected false-alarm rate (`estimated_alarm_rate`) is
    `alarms_per_100` per 100 months on this side, rounded up to a thousandth. Bisection on h
    from the known-baseline h of the same ARL (a lower bound: estimating the baseline only adds
    alarms), to a thousandth of h; deterministic (no simulation)."""
    if not alarms_per_100 > 0:
        raise ValueError(f"alarms_per_100 must be positive, got {alarms_per_100!r}")
    target = alarms_per_100 / 100.0
    if estimated_alarm_rate(mu0, 0.0, baseline_months, shift, direction) <= target:
        return 0.0        # a shift of many standard deviations: one month beyond k is evidence enough
    lo = _solve_h(mu0, 100.0 / alarms_per_100, shift, direction) * 0.999
    hi = max(lo * 1.25, 1.0)
    while estimated_alarm_rate(mu0, hi, baseline_months, shift, direction) > target:
        lo, hi = hi, hi * 1.25
    while hi - lo > 1e-3 * hi:
        mid = (lo + hi) / 2.0
        if estimated_alarm_rate(mu0, mid, baseline_months, shift, direction) > target:
            lo = mid
        else:
            hi = mid
    return math.ceil(hi * 1000.0) / 1000.0


@lru_cache(maxsize=4096)
def grid_budget_h(step: int, baseline_months: int, alarms_per_100: float, shift: float,
                  direction: Direction) -> float:
    """budget_h at the grid mean 10^(step / GRID_PER_DECADE): read from the precomputed table
    (dashboard/analysis/cusum_table.py, made by scripts/cusum_table.py with this very function's
    fallback) when it holds the entry, else computed (and cached for the process)."""
    column = cusum_table.H.get((direction, baseline_months))
    if (column is not None and alarms_per_100 == cusum_table.BUDGET and shift == cusum_table.SHIFT
            and 0 <= step - cusum_table.FIRST_STEP < len(column)):
        return column[step - cusum_table.FIRST_STEP]
    return budget_h(10.0 ** (step / GRID_PER_DECADE), alarms_per_100, baseline_months, shift, direction)


def decision_interval(mu0: float, baseline_months: int, alarms_per_100: float = DEFAULT_BUDGET,
                      shift: float = DEFAULT_SHIFT, direction: Direction = "up") -> float:
    """h for a CUSUM whose in-control mean mu0 was estimated from `baseline_months` months, such
    that on in-control Poisson counts it raises about `alarms_per_100` false alarms per 100
    months on its side (`budget_h`: the estimation error of the baseline included).

    From the grid means 10^(j/8) either side of mu0 and the grid baselines
    (cusum_table.MONTHS, 12 to 48 months: the scan's frozen baselines; fewer or more are
    clipped to that range), interpolated log-linearly in mu0 (h grows like sqrt(mu0)) and
    linearly in 1 / months (the variance of the estimate). With the scan's budget and shift the
    grid values come from the precomputed table: no calibration at run time."""
    if not (math.isfinite(mu0) and mu0 > 0):
        raise ValueError(f"mu0 must be positive, got {mu0!r}")
    months = cusum_table.MONTHS
    n = min(max(float(baseline_months), months[0]), months[-1])
    upper = next(i for i, m in enumerate(months) if m >= n)
    lower = max(0, upper - 1) if months[upper] > n else upper
    pos = math.log10(mu0) * GRID_PER_DECADE
    lo = math.floor(pos)

    def at(m: int) -> float:
        a = grid_budget_h(lo, m, float(alarms_per_100), float(shift), direction)
        if pos == lo:
            return a
        b = grid_budget_h(lo + 1, m, float(alarms_per_100), float(shift), direction)
        if a <= 0 or b <= 0:
            return a + (b - a) * (pos - lo)
        return math.exp(math.log(a) + (math.log(b) - math.log(a)) * (pos - lo))

    if lower == upper:
        return at(months[upper])
    n_lo, n_hi = months[lower], months[upper]
    w = (1.0 / n - 1.0 / n_lo) / (1.0 / n_hi - 1.0 / n_lo)
    return at(n_lo) + (at(n_hi) - at(n_lo)) * w
