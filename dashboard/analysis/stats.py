"""The dashboard's statistics: intervals, change tests, SPC, funnel plots, projections.

Pure functions: no I/O, no pandas, no global state. Every figure a PIM paper quotes comes from
here, so each function names the published method it implements, and `tests/test_stats.py`
checks it against numbers typed in from that publication (or worked by hand in the test).
`docs/statistics.md` is the one-page guide to what is used where.

Conventions used throughout:

- `conf` is a two-sided confidence level (0.95 gives 2.5% in each tail).
- Counts are whole numbers; a float is accepted only when it is integer-valued (12.0), because
  the exact Poisson and binomial methods are only defined for counts. Anything else raises
  `ValueError` rather than returning a quietly wrong answer.
- `polarity` says which way is good: 'up' (higher is better, e.g. detection rate), 'down'
  (lower is better, e.g. burglaries) or 'neutral' (no preferred direction).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from statistics import NormalDist
from typing import Any, Literal

import numpy as np
from scipy import special as spc
from scipy import stats as sps

Polarity = Literal["up", "down", "neutral"]
Direction = Literal["up", "down", "none"]
Side = Literal["above", "below", "up", "down"]
FunnelPosition = Literal["above_99.8", "above_95", "within", "below_95", "below_99.8"]
# The two scales a rate's over-dispersion can be handled on (see `funnel_z_scores`).
RateScale = Literal["sqrt", "log"]

# Points this close to a line (relative to the size of the numbers) are treated as ON it, so
# that floating-point noise in a mean (e.g. the mean of twelve 0.1s) never makes a flat series
# look like a run above the centre line or a point "beyond" a zero-width limit.
_REL_TOL = 1e-9

# d2 for moving ranges of two successive points (Montgomery, ISQC, Appendix Table VI; Wheeler,
# Understanding Variation): sigma = mean moving range / 1.128, i.e. 3 sigma = 2.66 x mR-bar.
D2_N2 = 1.128

_MONTHS = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)


# ----------------------------------------------------------------------------------------
# helpers
# ----------------------------------------------------------------------------------------


def _count(x: float, name: str) -> int:
    """A non-negative whole number, or ValueError (12.0 is accepted, 12.5 and -1 are not)."""
    try:
        v = float(x)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a whole number, got {x!r}") from None
    if not math.isfinite(v) or v < 0 or v != math.floor(v):
        raise ValueError(f"{name} must be a non-negative whole number, got {x!r}")
    return int(v)


def _chi2_ppf(q: float, df: float) -> float:
    """`sps.chi2.ppf(q, df)` for one q and df, the same double: scipy's ppf is `2 *
    gammaincinv(df / 2, q) * scale + loc` (scale 1, loc 0) once it has checked 0 < q < 1 and
    df > 0, and this is that arithmetic without the per-call argument handling (~0.1 ms a call,
    two a count interval: a month's series made 24 of them). Outside those bounds, scipy's."""
    if not (0.0 < q < 1.0 and df > 0.0 and math.isfinite(df) and df < 2.0**52):
        return float(sps.chi2.ppf(q, df))
    return 2.0 * float(spc.gammaincinv(float(df) / 2.0, q)) * 1.0 + 0.0


def _z(conf: float) -> float:
    """Two-sided standard normal quantile: 1.959964 for conf=0.95, 3.090232 for 0.998."""
    if not 0.0 < conf < 1.0:
        raise ValueError(f"conf must be strictly between 0 and 1, got {conf!r}")
    return _z_of(float(conf))


@functools.lru_cache(maxsize=64)
def _z_of(conf: float) -> float:
    # remembered: every interval asks for one of the same few levels, and scipy's ppf costs
    # ~0.1 ms a call (a scorecard's intervals made thousands of them)
    return float(sps.norm.ppf(1.0 - (1.0 - conf) / 2.0))


def _tol(a: float, b: float) -> float:
    return _REL_TOL * max(abs(a), abs(b))


def _finite_array(values: Sequence[float], name: str) -> np.ndarray:
    arr = np.asarray(values, dtype=float)
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-d sequence")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains missing or infinite values")
    return arr


def _baseline_slice(n: int, baseline: int | None, minimum: int = 1) -> slice:
    if baseline is None:
        return slice(0, n)
    if not minimum <= baseline <= n:
        raise ValueError(f"baseline must be between {minimum} and the number of points ({n})")
    return slice(0, baseline)


# ----------------------------------------------------------------------------------------
# intervals
# ----------------------------------------------------------------------------------------


def wilson_interval(k: int, n: int, conf: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for a proportion k/n (no continuity correction).

    Why Wilson: the textbook Wald interval p +/- z*sqrt(p(1-p)/n) collapses to a point at 0/n
    and n/n and undercovers for small n or extreme p -- exactly the small-team, rare-outcome
    cases a drill-down produces. Wilson stays inside [0, 1] and has close to nominal coverage
    (Newcombe 1998, method 3).

    Method: Wilson EB (1927) "Probable inference, the law of succession, and statistical
    inference", JASA 22:209-212. Closed form, with p = k/n and z the two-sided quantile:

        (p + z^2/2n +/- z*sqrt(p(1-p)/n + z^2/4n^2)) / (1 + z^2/n)

    Checked against Newcombe RG (1998) "Two-sided confidence intervals for the single
    proportion: comparison of seven methods", Stat Med 17:857-872, Table I.
    n = 0 has no proportion: returns (nan, nan).
    """
    k = _count(k, "k")
    n = _count(n, "n")
    if k > n:
        raise ValueError(f"k ({k}) cannot exceed n ({n})")
    if n == 0:
        return (math.nan, math.nan)
    z = _z(conf)
    p = k / n
    z2n = z * z / n
    centre = p + z2n / 2.0
    half = z * math.sqrt(p * (1.0 - p) / n + z2n / (4.0 * n))
    denom = 1.0 + z2n
    lower = 0.0 if k == 0 else max(0.0, (centre - half) / denom)
    upper = 1.0 if k == n else min(1.0, (centre + half) / denom)
    return (lower, upper)


def poisson_interval(k: int, conf: float = 0.95) -> tuple[float, float]:
    """Exact (Garwood) confidence interval for the mean of a Poisson count k.

    Why exact: crime counts for a team or a month are often small, where k +/- 1.96*sqrt(k)
    is wrong (and negative at k <= 3). The exact interval guarantees at least nominal coverage.

    Method: Garwood F (1936) "Fiducial limits for the Poisson distribution", Biometrika
    28:437-442, via the chi-squared relation (e.g. Ulm K (1990) Am J Epidemiol 131:373):

        lower = chi2.ppf(a/2, 2k) / 2      (0 when k = 0)
        upper = chi2.ppf(1 - a/2, 2k + 2) / 2,   a = 1 - conf
    """
    k = _count(k, "k")
    _z(conf)  # validates conf
    a = 1.0 - conf
    lower = 0.0 if k == 0 else _chi2_ppf(a / 2.0, 2 * k) / 2.0
    upper = _chi2_ppf(1.0 - a / 2.0, 2 * k + 2) / 2.0
    return (lower, upper)


def rate_interval(
    k: int, exposure: float, scale: float = 1.0, conf: float = 0.95
) -> tuple[float, float]:
    """Exact interval for a rate k/exposure (times `scale`, e.g. 1000 for "per 1,000 people").

    The exposure (population, households, officer-hours) is treated as known, so the interval
    is the Garwood interval for the count divided by the exposure (see `poisson_interval`).
    """
    if not (math.isfinite(exposure) and exposure > 0):
        raise ValueError(f"exposure must be positive, got {exposure!r}")
    lo, hi = poisson_interval(k, conf)
    return (lo / exposure * scale, hi / exposure * scale)


# ----------------------------------------------------------------------------------------
# change: this period against the same period last year
# ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Change:
    """A change with its test, so that no percentage is ever shown bare.

    `current`/`previous` are the two values compared (a count or rate k/t for
    `compare_counts`, a proportion for `compare_proportions`); `abs_change` is current minus
    previous; `pct_change` is the relative change in PER CENT (50.0 means +50%), None when
    previous is 0. `direction` is the direction of a SIGNIFICANT change: 'none' when the
    test does not reject no-change at `alpha` (use the sign of `abs_change` for the raw
    direction). `method` is a short code: 'exact_conditional_binomial', 'two_proportion_z',
    'fisher_exact', or 'no_data'.
    """

    current: float
    previous: float
    abs_change: float
    pct_change: float | None
    p_value: float
    significant: bool
    direction: Direction
    method: str


def _change(current: float, previous: float, p_value: float, alpha: float, method: str) -> Change:
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha must be strictly between 0 and 1, got {alpha!r}")
    abs_change = current - previous
    pct = None if previous == 0 or math.isnan(previous) else 100.0 * abs_change / previous
    p_value = min(1.0, max(0.0, float(p_value)))
    significant = p_value < alpha
    direction: Direction = "none"
    if significant and abs_change > 0:
        direction = "up"
    elif significant and abs_change < 0:
        direction = "down"
    return Change(current, previous, abs_change, pct, p_value, significant, direction, method)


def compare_counts(
    k1: int, k0: int, t1: float = 1.0, t0: float = 1.0, alpha: float = 0.05
) -> Change:
    """Has a Poisson count (or rate) changed? k1 events over exposure t1 now, k0 over t0 before.

    Why: "burglary up 12% on last year" is meaningless without knowing whether 12% is beyond
    chance for counts of that size. For equal periods t1 = t0 = 1 (the default).

    Method: the exact conditional test. Given the total k1 + k0, k1 is Binomial(k1 + k0,
    t1/(t1 + t0)) when the two underlying rates are equal; the two-sided p-value is
    scipy.stats.binomtest's (sum of the probabilities of outcomes no more likely than the
    one observed). Przyborowski J, Wilenski H (1940) Biometrika 31:313-323; called the
    "C-test" in Krishnamoorthy K, Thomson J (2004) J Stat Plan Inference 119:23-35.

    `current` and `previous` are k1/t1 and k0/t0. With no events at all (k1 = k0 = 0) there is
    nothing to test: p = 1.
    """
    k1 = _count(k1, "k1")
    k0 = _count(k0, "k0")
    for name, t in (("t1", t1), ("t0", t0)):
        if not (math.isfinite(t) and t > 0):
            raise ValueError(f"{name} must be positive, got {t!r}")
    n = k1 + k0
    p_value = 1.0 if n == 0 else sps.binomtest(k1, n, t1 / (t1 + t0)).pvalue
    return _change(k1 / t1, k0 / t0, p_value, alpha, "exact_conditional_binomial")


def compare_proportions(k1: int, n1: int, k0: int, n0: int, alpha: float = 0.05) -> Change:
    """Has a proportion (e.g. detection rate) changed? k1 of n1 now against k0 of n0 before.

    Method: the two-proportion z-test with pooled variance (e.g. Altman DG (1991) Practical
    Statistics for Medical Research, section 10.7.2):

        p = (k1 + k0)/(n1 + n0),  z = (k1/n1 - k0/n0) / sqrt(p(1-p)(1/n1 + 1/n0)),
        two-sided P = 2 * (1 - Phi(|z|))

    which is identical to Pearson's chi-squared test without continuity correction (z^2 = X^2).
    When any expected cell of the 2x2 table is below 5 -- Cochran's rule, Cochran WG (1954)
    Biometrics 10:417-451 -- the normal approximation is unreliable and Fisher's exact test
    is used instead (Fisher RA (1935) The Design of Experiments; scipy.stats.fisher_exact,
    two-sided). `method` says which was used.
    """
    k1, n1, k0, n0 = (_count(v, nm) for v, nm in ((k1, "k1"), (n1, "n1"), (k0, "k0"), (n0, "n0")))
    if k1 > n1 or k0 > n0:
        raise ValueError("a numerator exceeds its denominator")
    if n1 == 0 or n0 == 0:
        cur = k1 / n1 if n1 else math.nan
        prev = k0 / n0 if n0 else math.nan
        return _change(cur, prev, 1.0, alpha, "no_data")
    table = np.array([[k1, n1 - k1], [k0, n0 - k0]], dtype=float)
    expected = np.outer(table.sum(axis=1), table.sum(axis=0)) / table.sum()
    p1, p0 = k1 / n1, k0 / n0
    if np.any(expected < 5):
        _, p_value = sps.fisher_exact(table.astype(int), alternative="two-sided")
        return _change(p1, p0, float(p_value), alpha, "fisher_exact")
    pooled = (k1 + k0) / (n1 + n0)
    se = math.sqrt(pooled * (1.0 - pooled) * (1.0 / n1 + 1.0 / n0))
    z = (p1 - p0) / se
    p_value = 2.0 * float(sps.norm.sf(abs(z)))
    return _change(p1, p0, p_value, alpha, "two_proportion_z")


# ----------------------------------------------------------------------------------------
# SPC: statistical process control charts
# ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Signal:
    """One special-cause pattern found on an SPC chart.

    `rule`: 'beyond_3_sigma', 'run_of_8', 'trend_of_6' or 'two_of_three_beyond_2_sigma' (the
    names keep the default lengths even when `run_length`/`trend_length` are changed).
    `start`: the first point of the pattern. `index`: the point that completes it. A pattern
    that carries on (a run of 11, a trend of 9) is reported ONCE, with `index` at its last
    point, so [start, index] always covers every point of the pattern and `index - start + 1`
    is its length. `side`: 'above'/'below' the centre line, or 'up'/'down' for trends.
    `fired`: the point at which the pattern first qualified, when the rule itself says so (the
    CUSUM's alarm month, between `start` and `index`); None for these four rules, whose first
    qualifying point follows from their length.
    """

    rule: str
    index: int
    start: int
    side: Side
    fired: int | None = None


@dataclass(frozen=True)
class SpcResult:
    """An SPC chart: per-point centre line, limits and sigma (they vary with the denominator on
    u and p charts), and the special-cause signals. `lcl`/`ucl` are clipped to the possible
    range (>= 0 for counts and rates, [0, 1] for proportions); centre +/- 3*sigma gives the
    unclipped limits."""

    chart: str
    centre: list[float]
    lcl: list[float]
    ucl: list[float]
    sigma: list[float]
    signals: list[Signal]


_RULE_ORDER = {"beyond_3_sigma": 0, "two_of_three_beyond_2_sigma": 1, "run_of_8": 2, "trend_of_6": 3}


def _sign(d: float, tol: float) -> int:
    return 1 if d > tol else -1 if d < -tol else 0


def _maximal_runs(signs: Sequence[int]) -> list[tuple[int, int, int]]:
    """(first, last, sign) for each maximal block of equal non-zero signs."""
    runs: list[tuple[int, int, int]] = []
    i = 0
    while i < len(signs):
        s = signs[i]
        j = i
        while j + 1 < len(signs) and signs[j + 1] == s:
            j += 1
        if s != 0:
            runs.append((i, j, s))
        i = j + 1
    return runs


def special_causes(
    values: Sequence[float],
    centre: float | Sequence[float],
    sigma: float | Sequence[float],
    *,
    run_length: int = 8,
    trend_length: int = 6,
) -> list[Signal]:
    """Find special-cause variation with the four standard rules.

    Why: a point beyond 3 sigma catches a sudden large change; the run, trend and 2-of-3 rules
    catch the smaller sustained shifts (a new crime series, a change in recording practice)
    months before any single point would cross a limit.

    Rules (Western Electric (1956) Statistical Quality Control Handbook; Nelson LS (1984) "The
    Shewhart control chart -- tests for special causes", J Qual Technol 16:237-239;
    Montgomery DC, Introduction to Statistical Quality Control, "sensitizing rules"):

    - beyond_3_sigma: a point strictly beyond centre +/- 3 sigma. A point ON a limit is not.
    - run_of_8: `run_length` (8) or more consecutive points on the same side of the centre
      line (WE rule 4). A point on the centre line breaks the run.
    - trend_of_6: `trend_length` (6) or more consecutive points each strictly higher (or each
      strictly lower) than the one before -- 6 points, i.e. 5 rising steps (Nelson's test 3).
      Two equal points break a trend.
    - two_of_three_beyond_2_sigma: two of three consecutive points beyond 2 sigma on the same
      side (WE rule 2). Points beyond 3 sigma count too; the third point may be anywhere.

    NHS England's "Making Data Count" (2019) and its R implementation NHSRplotthedots use 7
    for both the run ("shift") and the trend, and count only points between 2 and 3 sigma,
    with all three on one side of the mean, for 2-of-3. Pass run_length=7, trend_length=7 to
    match the run and trend rules.

    `centre` and `sigma` are scalars or one value per point. Points within a relative 1e-9 of
    a line are treated as on it, so rounding in a mean cannot create signals. Signals are
    returned in order of their last point (see `Signal` for how long patterns are reported).
    """
    v = np.asarray(values, dtype=float)
    n = v.size
    if v.ndim != 1:
        raise ValueError("values must be 1-d")
    c = np.broadcast_to(np.asarray(centre, dtype=float), (n,))
    s = np.broadcast_to(np.asarray(sigma, dtype=float), (n,))
    if run_length < 2 or trend_length < 3:
        raise ValueError("run_length must be >= 2 and trend_length >= 3")
    if np.any(s < 0):
        raise ValueError("sigma must be non-negative")
    signals: list[Signal] = []
    tol = [_tol(v[i], c[i]) for i in range(n)]
    dev = v - c

    # rule 1: beyond 3 sigma
    for i in range(n):
        b = _sign(abs(dev[i]) - 3.0 * s[i], tol[i])
        if b > 0:
            signals.append(Signal("beyond_3_sigma", i, i, "above" if dev[i] > 0 else "below"))

    # rule 2: two of three beyond 2 sigma, same side
    beyond2 = [0] * n
    for i in range(n):
        if _sign(abs(dev[i]) - 2.0 * s[i], tol[i]) > 0:
            beyond2[i] = 1 if dev[i] > 0 else -1
    for side_sign, side in ((1, "above"), (-1, "below")):
        start = end = -1
        for j in range(n):
            if beyond2[j] != side_sign:
                continue
            prev = [i for i in (j - 2, j - 1) if i >= 0 and beyond2[i] == side_sign]
            if not prev:
                continue
            first = prev[0]
            if start >= 0 and first <= end:
                end = j  # overlapping window: the same pattern carries on
            else:
                if start >= 0:
                    signals.append(Signal("two_of_three_beyond_2_sigma", end, start, side))
                start, end = first, j
        if start >= 0:
            signals.append(Signal("two_of_three_beyond_2_sigma", end, start, side))

    # rule 3: run on one side of the centre line
    sides = [_sign(dev[i], tol[i]) for i in range(n)]
    for first, last, sgn in _maximal_runs(sides):
        if last - first + 1 >= run_length:
            signals.append(Signal("run_of_8", last, first, "above" if sgn > 0 else "below"))

    # rule 4: trend (steps between successive points)
    steps = [_sign(v[i + 1] - v[i], _tol(v[i], v[i + 1])) for i in range(n - 1)]
    for first, last, sgn in _maximal_runs(steps):
        if last - first + 2 >= trend_length:  # steps first..last join points first..last+1
            signals.append(Signal("trend_of_6", last + 1, first, "up" if sgn > 0 else "down"))

    signals.sort(key=lambda g: (g.index, g.start, _RULE_ORDER[g.rule]))
    return signals


def _spc(
    chart: str,
    values: np.ndarray,
    centre: np.ndarray,
    sigma: np.ndarray,
    lo_clip: float | None,
    hi_clip: float | None,
    run_length: int,
    trend_length: int,
) -> SpcResult:
    lcl = centre - 3.0 * sigma
    ucl = centre + 3.0 * sigma
    if lo_clip is not None:
        lcl = np.maximum(lcl, lo_clip)
    if hi_clip is not None:
        ucl = np.minimum(ucl, hi_clip)
    signals = special_causes(
        values, centre, sigma, run_length=run_length, trend_length=trend_length
    )
    return SpcResult(
        chart,
        [float(x) for x in centre],
        [float(x) for x in lcl],
        [float(x) for x in ucl],
        [float(x) for x in sigma],
        signals,
    )


def c_chart(
    counts: Sequence[float],
    *,
    baseline: int | None = None,
    run_length: int = 8,
    trend_length: int = 6,
) -> SpcResult:
    """c chart for counts over equal areas of opportunity (crimes per month, one area).

    Method (Shewhart; Montgomery DC, Introduction to Statistical Quality Control, the control
    chart for nonconformities): c-bar = mean count, sigma = sqrt(c-bar) (the Poisson standard
    deviation), limits c-bar +/- 3 sqrt(c-bar), LCL clipped at 0.

    `baseline`: compute c-bar from the first `baseline` points only and hold the limits there
    for the later points ("freezing" the limits, the usual practice once a stable period has
    been agreed, so that a new shift is judged against the old process, not absorbed by it).
    """
    x = _finite_array(counts, "counts")
    if np.any(x < 0):
        raise ValueError("counts must be non-negative")
    cbar = float(np.mean(x[_baseline_slice(x.size, baseline)]))
    centre = np.full(x.size, cbar)
    sigma = np.full(x.size, math.sqrt(cbar))
    return _spc("c", x, centre, sigma, 0.0, None, run_length, trend_length)


def u_chart(
    counts: Sequence[float],
    exposures: Sequence[float],
    *,
    baseline: int | None = None,
    run_length: int = 8,
    trend_length: int = 6,
) -> SpcResult:
    """u chart for rates (count per unit exposure) when the exposure varies point to point.

    Method (Montgomery, ISQC, control chart for nonconformities per unit, variable sample
    size): u-bar = sum(counts)/sum(exposures) over the baseline; for point i,
    sigma_i = sqrt(u-bar / exposure_i), limits u-bar +/- 3 sigma_i (LCL clipped at 0). The
    plotted values are counts_i/exposure_i; the limits narrow as the exposure grows.
    """
    c = _finite_array(counts, "counts")
    e = _finite_array(exposures, "exposures")
    if c.size != e.size:
        raise ValueError("counts and exposures differ in length")
    if np.any(c < 0) or np.any(e <= 0):
        raise ValueError("counts must be >= 0 and exposures > 0")
    b = _baseline_slice(c.size, baseline)
    ubar = float(c[b].sum() / e[b].sum())
    centre = np.full(c.size, ubar)
    sigma = np.sqrt(ubar / e)
    return _spc("u", c / e, centre, sigma, 0.0, None, run_length, trend_length)


def p_chart(
    k: Sequence[float],
    n: Sequence[float],
    *,
    baseline: int | None = None,
    run_length: int = 8,
    trend_length: int = 6,
) -> SpcResult:
    """p chart for proportions (detected / recorded) with varying denominators.

    Method (Montgomery, ISQC, control chart for fraction nonconforming, variable sample size):
    p-bar = sum(k)/sum(n) over the baseline; for point i, sigma_i = sqrt(p-bar(1-p-bar)/n_i),
    limits p-bar +/- 3 sigma_i clipped to [0, 1]. Plotted values are k_i/n_i.
    """
    kk = _finite_array(k, "k")
    nn = _finite_array(n, "n")
    if kk.size != nn.size:
        raise ValueError("k and n differ in length")
    if np.any(nn <= 0) or np.any(kk < 0) or np.any(kk > nn):
        raise ValueError("need 0 <= k <= n and n > 0 at every point")
    b = _baseline_slice(kk.size, baseline)
    pbar = float(kk[b].sum() / nn[b].sum())
    centre = np.full(kk.size, pbar)
    sigma = np.sqrt(pbar * (1.0 - pbar) / nn)
    return _spc("p", kk / nn, centre, sigma, 0.0, 1.0, run_length, trend_length)


# D4 for moving ranges of 2 points: the moving-range chart's upper limit is 3.267 mR-bar.
MR_UPPER_D4 = 3.267


def xmr_chart(
    values: Sequence[float],
    *,
    baseline: int | None = None,
    run_length: int = 8,
    trend_length: int = 6,
    screen_outliers: bool = False,
) -> SpcResult:
    """XmR (individuals and moving range) chart, for measures that are neither a plain count
    nor a proportion (e.g. average days to charge), and the chart Making Data Count uses.

    Method (Wheeler DJ (2000) Understanding Variation; Montgomery, ISQC, control chart for
    individual measurements; NIST/SEMATECH e-Handbook section 6.3.2.2): centre = mean,
    mR-bar = mean of |x_i - x_(i-1)|, sigma = mR-bar / d2 with d2 = 1.128, so the limits are
    mean +/- 2.66 mR-bar. Not clipped (values may be negative).

    `screen_outliers` (Making Data Count's convention, NHSRplotthedots' default): moving ranges
    of 3.267 mR-bar or more (the upper limit of the moving-range chart, D4 = 3.267 for n = 2)
    are dropped and mR-bar is recomputed from the rest, so that one freak month does not widen
    the limits of every other month (Wheeler 2000; Provost & Murray (2011) The Health Care
    Data Guide, screened I chart).
    """
    x = _finite_array(values, "values")
    if x.size < 2:
        raise ValueError("an XmR chart needs at least 2 points")
    b = _baseline_slice(x.size, baseline, minimum=2)
    base = x[b]
    ranges = np.abs(np.diff(base))
    mrbar = float(np.mean(ranges))
    if screen_outliers:
        kept = ranges[ranges < MR_UPPER_D4 * mrbar]
        mrbar = float(np.mean(kept)) if kept.size else mrbar
    centre = np.full(x.size, float(np.mean(base)))
    sigma = np.full(x.size, mrbar / D2_N2)
    return _spc("xmr", x, centre, sigma, None, None, run_length, trend_length)


def _month_label(d: date) -> str:
    return f"{_MONTHS[d.month - 1]} {d.year}"


def _good_or_bad(side: Side, polarity: str) -> str | None:
    if polarity == "neutral":
        return None
    if polarity not in ("up", "down"):
        raise ValueError(f"polarity must be 'up', 'down' or 'neutral', got {polarity!r}")
    high = side in ("above", "up")
    return "improvement" if high == (polarity == "up") else "concern"


def describe_signal(
    signal: Signal, months: Sequence[date] | None, measure_label: str, polarity: str
) -> str:
    """One plain-English sentence for a signal, for chart annotations and PIM papers.

    E.g. "Burglary: 8 months above the average since May 2007 (a concern)" or "Detection
    rate: a point beyond the upper control limit in March 2008 (an improvement)". Without
    `months` the points are numbered from 1 ("8 points above the average since point 5").
    Polarity 'neutral' omits the judgement.
    """
    n_points = signal.index - signal.start + 1
    if months is not None:
        if len(months) <= signal.index:
            raise ValueError("months is shorter than the series the signal came from")
        unit = "months"

        def when(i: int) -> str:
            return _month_label(months[i])

        at = "in"
    else:
        unit = "points"

        def when(i: int) -> str:
            return f"point {i + 1}"

        at = "at"
    limit = "upper" if signal.side in ("above", "up") else "lower"
    if signal.rule == "beyond_3_sigma":
        core = f"a point beyond the {limit} control limit {at} {when(signal.index)}"
    elif signal.rule == "run_of_8":
        core = f"{n_points} {unit} {signal.side} the average since {when(signal.start)}"
    elif signal.rule == "trend_of_6":
        word = "rising" if signal.side == "up" else "falling"
        core = f"{n_points} {unit} in a row {word} since {when(signal.start)}"
    elif signal.rule == "two_of_three_beyond_2_sigma":
        core = (
            f"two of three {unit} close to the {limit} control limit (beyond 2 sigma), "
            f"{when(signal.start)} to {when(signal.index)}"
        )
    else:
        raise ValueError(f"unknown rule {signal.rule!r}")
    judgement = _good_or_bad(signal.side, polarity)
    text = f"{measure_label}: {core}" if measure_label else core[0].upper() + core[1:]
    if judgement == "improvement":
        text += " (an improvement)"
    elif judgement == "concern":
        text += " (a concern)"
    return text


def variation_verdict(
    result: SpcResult, values: Sequence[float], polarity: Polarity
) -> Literal[
    "special_cause_improvement", "special_cause_concern", "common_cause", "special_cause_neutral"
]:
    """The Making Data Count variation icon for a series: is the LATEST point special cause?

    `values` are the plotted values (k/n on a p chart, counts/exposure on a u chart).

    Convention (NHS England (2019) "Making Data Count"; NHSRplotthedots): the verdict is
    about the most recent point only. If it belongs to no signal (start <= last <= index) the
    series shows common-cause variation. Otherwise polarity decides: a signal above the centre
    line or rising is an improvement when higher is better ('up') and a concern when lower is
    better ('down'); 'neutral' measures get 'special_cause_neutral'.

    If the latest point belongs to signals pointing both ways (a rising trend that is still
    below the average), the side of the latest value relative to the centre line decides --
    NHSRplotthedots' rule for every point -- and a point exactly on the centre line counts as
    a concern, so that a board is shown the doubt rather than reassured.
    """
    v = list(values)
    if len(v) != len(result.centre):
        raise ValueError("values and result differ in length")
    last = len(v) - 1
    covering = [s for s in result.signals if s.start <= last <= s.index]
    if not covering:
        return "common_cause"
    if polarity == "neutral":
        return "special_cause_neutral"
    verdicts = {_good_or_bad(s.side, polarity) for s in covering}
    if len(verdicts) > 1:
        d = v[last] - result.centre[last]
        side = _sign(d, _tol(v[last], result.centre[last]))
        if side == 0:
            return "special_cause_concern"
        verdicts = {_good_or_bad("above" if side > 0 else "below", polarity)}
    return "special_cause_improvement" if verdicts == {"improvement"} else "special_cause_concern"


def assurance_verdict(
    result: SpcResult, target: float | None, polarity: Polarity
) -> Literal["pass", "fail", "hit_and_miss", "no_target"]:
    """The Making Data Count assurance icon: will the process, as it is, meet the target?

    Uses the latest limits (they vary on u and p charts; the most recent describe the process
    now). Higher-is-better ('up'): 'pass' if the target is below the lower limit (even the
    worst expected month meets it), 'fail' if it is above the upper limit (even the best month
    misses), else 'hit_and_miss'. Lower-is-better mirrors this. A target exactly on a limit
    is hit and miss (strict comparisons, as NHSRplotthedots). No target, or a 'neutral'
    measure (no good direction), gives 'no_target'.

    Why it matters: a stable process that consistently fails its target will not meet it by
    exhortation; it needs a change to the process.
    """
    if target is None or polarity == "neutral":
        return "no_target"
    if polarity not in ("up", "down"):
        raise ValueError(f"polarity must be 'up', 'down' or 'neutral', got {polarity!r}")
    lcl, ucl = result.lcl[-1], result.ucl[-1]
    if target < lcl:
        return "pass" if polarity == "up" else "fail"
    if target > ucl:
        return "fail" if polarity == "up" else "pass"
    return "hit_and_miss"


# ----------------------------------------------------------------------------------------
# funnel plots (Spiegelhalter 2005)
# ----------------------------------------------------------------------------------------


def _interpolated_quantile(dist: Any, p: float) -> np.ndarray:
    """Spiegelhalter's (2005, Appendix A.1.1) continuous version of a discrete quantile.

    r_p = smallest r with F(r) >= p; alpha = (F(r_p) - p) / (F(r_p) - F(r_p - 1));
    returns r_p - alpha, which moves linearly from r_p - 1 to r_p as p goes from F(r_p - 1)
    to F(r_p), so the limits are smooth in n instead of stepping at every whole count.
    """
    r = np.asarray(dist.ppf(p), dtype=float)
    # guard against an off-by-one from floating point inside ppf: enforce F(r-1) < p <= F(r)
    r = np.where(np.asarray(dist.cdf(r), dtype=float) < p, r + 1, r)
    r = np.where(np.asarray(dist.cdf(r - 1), dtype=float) >= p, r - 1, r)
    f_r = np.asarray(dist.cdf(r), dtype=float)
    f_below = np.asarray(dist.cdf(r - 1), dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        alpha = (f_r - p) / (f_r - f_below)
    alpha = np.where(f_r - f_below > 0, alpha, 0.0)
    return r - alpha


def _levels(levels: Sequence[float]) -> list[float]:
    out = [float(x) for x in levels]
    for lv in out:
        _z(lv)
    return out


def funnel_limits_proportion(
    p0: float,
    n: Sequence[float] | float,
    levels: Sequence[float] = (0.95, 0.998),
    method: Literal["exact", "normal"] = "exact",
) -> dict[float, tuple[np.ndarray, np.ndarray]]:
    """Funnel-plot control limits for a proportion with target p0, at denominators n.

    Spiegelhalter DJ (2005) "Funnel plots for comparing institutional performance", Stat Med
    24:1185-1202. Why funnels: they compare every unit with the target at its own size, so
    small units are not flagged for noise and large ones are not excused, and they avoid
    league tables. 95% and 99.8% limits are the paper's ~2 and ~3 sigma.

    method='exact' (default): binomial limits with the paper's interpolation (Appendix):
    for the lower limit of level L take p = (1-L)/2, for the upper p = 1-(1-L)/2, and return
    (r_p - alpha)/n, with r_p and alpha as in `_interpolated_quantile`. n must be whole
    numbers (pass np.arange(...) to draw a curve).
    method='normal': p0 +/- z*sqrt(p0(1-p0)/n).
    Both are clipped to [0, 1]; n = 0 gives nan. Returns {level: (lower, upper)} arrays
    shaped like n.
    """
    if not 0.0 <= p0 <= 1.0:
        raise ValueError(f"p0 must be a proportion, got {p0!r}")
    nn = np.asarray(n, dtype=float)
    if np.any(~np.isfinite(nn)) or np.any(nn < 0):
        raise ValueError("n must be non-negative")
    out: dict[float, tuple[np.ndarray, np.ndarray]] = {}
    safe = np.where(nn > 0, nn, np.nan)
    for lv in _levels(levels):
        a = (1.0 - lv) / 2.0
        if method == "normal":
            half = _z(lv) * np.sqrt(p0 * (1.0 - p0) / safe)
            lo, hi = p0 - half, p0 + half
        elif method == "exact":
            if np.any(nn != np.floor(nn)):
                raise ValueError("exact binomial limits need whole-number denominators")
            if p0 in (0.0, 1.0):  # no variation at all: the funnel is the target line
                lo = hi = np.where(nn > 0, p0, np.nan)
            else:
                dist = sps.binom(np.where(nn > 0, nn, 1).astype(np.int64), p0)
                lo = _interpolated_quantile(dist, a) / safe
                hi = _interpolated_quantile(dist, 1.0 - a) / safe
        else:
            raise ValueError(f"method must be 'exact' or 'normal', got {method!r}")
        out[lv] = (np.clip(lo, 0.0, 1.0), np.clip(hi, 0.0, 1.0))
    return out


def funnel_limits_rate(
    r0: float,
    exposure: Sequence[float] | float,
    levels: Sequence[float] = (0.95, 0.998),
    method: Literal["exact", "normal"] = "exact",
) -> dict[float, tuple[np.ndarray, np.ndarray]]:
    """Funnel-plot limits for a rate (events per unit exposure) with target rate r0.

    Spiegelhalter (2005): the count is Poisson with mean r0*exposure. method='exact' uses the
    Poisson quantiles with the same interpolation as for proportions, divided by the exposure;
    method='normal' uses r0 +/- z*sqrt(r0/exposure). Lower limits are clipped at 0; zero
    exposure gives nan. Express r0 and exposure in the same units (e.g. crimes per 1,000
    people and population in thousands).
    """
    if not (math.isfinite(r0) and r0 >= 0):
        raise ValueError(f"r0 must be a non-negative rate, got {r0!r}")
    t = np.asarray(exposure, dtype=float)
    if np.any(~np.isfinite(t)) or np.any(t < 0):
        raise ValueError("exposure must be non-negative")
    safe = np.where(t > 0, t, np.nan)
    out: dict[float, tuple[np.ndarray, np.ndarray]] = {}
    for lv in _levels(levels):
        a = (1.0 - lv) / 2.0
        if method == "normal":
            half = _z(lv) * np.sqrt(r0 / safe)
            lo, hi = r0 - half, r0 + half
        elif method == "exact":
            if r0 == 0:  # no events expected anywhere: the funnel is the target line
                lo = hi = np.where(t > 0, 0.0, np.nan)
            else:
                dist = sps.poisson(r0 * np.where(t > 0, t, 1.0))
                lo = _interpolated_quantile(dist, a) / safe
                hi = _interpolated_quantile(dist, 1.0 - a) / safe
        else:
            raise ValueError(f"method must be 'exact' or 'normal', got {method!r}")
        out[lv] = (np.maximum(lo, 0.0), np.maximum(hi, 0.0))
    return out


def funnel_position(
    k: float,
    n: float,
    p0: float,
    kind: Literal["proportion", "rate"] = "proportion",
    method: Literal["exact", "normal"] = "exact",
    tau2: float | None = None,
    scale: RateScale = "sqrt",
) -> FunnelPosition:
    """Where a unit with k events out of n (or over exposure n) sits on the funnel whose target
    is p0 (a proportion, or for kind='rate' a rate per unit of n).

    Compares k/n with the 95% and 99.8% limits at that n (see `funnel_limits_proportion` and
    `funnel_limits_rate`). A point exactly on a limit is inside it. Spiegelhalter (2005)
    suggests the 95% limits as a "warning" and 99.8% as an "alarm". With `tau2` (from
    `overdispersion`) the limits are the over-dispersed ones of `funnel_limits_overdispersed`
    instead, so a unit's verdict and the drawn curve always agree.
    """
    if not (math.isfinite(n) and n > 0):
        raise ValueError(f"n must be positive, got {n!r}")
    if tau2 is not None:
        limits = funnel_limits_overdispersed(p0, n, tau2, kind, (0.95, 0.998), scale)
    elif kind == "proportion":
        limits = funnel_limits_proportion(p0, n, (0.95, 0.998), method)
    elif kind == "rate":
        limits = funnel_limits_rate(p0, n, (0.95, 0.998), method)
    else:
        raise ValueError(f"kind must be 'proportion' or 'rate', got {kind!r}")
    y = k / n
    lo95, hi95 = (float(x) for x in limits[0.95])
    lo998, hi998 = (float(x) for x in limits[0.998])
    return _place(y, lo95, hi95, lo998, hi998)


def funnel_positions(
    k: Sequence[float],
    n: Sequence[float],
    p0: Sequence[float],
    kind: Literal["proportion", "rate"] = "proportion",
) -> list[FunnelPosition]:
    """`funnel_position` (exact limits, no over-dispersion) for many units at once, each with
    its own target: one scipy call per limit over arrays instead of four per unit (a Compare
    page of every force made 344 of them, an exceptions list thousands).

    The same numbers as calling `funnel_position(k[i], n[i], p0[i], kind)` for each i (the
    Poisson and binomial quantiles and cdfs are element-wise), which the tests check.
    """
    kk = np.asarray(k, dtype=float)
    nn = np.asarray(n, dtype=float)
    pp = np.asarray(p0, dtype=float)
    if not kk.shape == nn.shape == pp.shape or kk.ndim != 1:
        raise ValueError("k, n and p0 must be 1-d and of one length")
    if kk.size == 0:
        return []
    if np.any(~np.isfinite(nn)) or np.any(nn <= 0):
        raise ValueError("n must be positive")
    if kind == "proportion":
        if np.any(~(pp >= 0.0)) or np.any(pp > 1.0):
            raise ValueError("p0 must be a proportion")
        if np.any(nn != np.floor(nn)):
            raise ValueError("exact binomial limits need whole-number denominators")
        flat = (pp == 0.0) | (pp == 1.0)
        dist = sps.binom(nn.astype(np.int64), np.where(flat, 0.5, pp))
    elif kind == "rate":
        if np.any(~np.isfinite(pp)) or np.any(pp < 0):
            raise ValueError("r0 must be a non-negative rate")
        flat = pp == 0.0
        dist = sps.poisson(np.where(flat, 1.0, pp * nn))
    else:
        raise ValueError(f"kind must be 'proportion' or 'rate', got {kind!r}")
    limits = {}
    for lv in (0.95, 0.998):
        a = (1.0 - lv) / 2.0
        lo = np.where(flat, pp, _interpolated_quantile(dist, a) / nn)
        hi = np.where(flat, pp, _interpolated_quantile(dist, 1.0 - a) / nn)
        if kind == "proportion":
            lo, hi = np.clip(lo, 0.0, 1.0), np.clip(hi, 0.0, 1.0)
        else:
            lo, hi = np.maximum(lo, 0.0), np.maximum(hi, 0.0)
        limits[lv] = (lo.tolist(), hi.tolist())
    out: list[FunnelPosition] = []
    for i, y in enumerate((kk / nn).tolist()):
        out.append(_place(y, limits[0.95][0][i], limits[0.95][1][i], limits[0.998][0][i],
                          limits[0.998][1][i]))
    return out


def _place(y: float, lo95: float, hi95: float, lo998: float, hi998: float) -> FunnelPosition:
    """Where y lies against the limits (a point exactly on a limit is inside it)."""
    if y > hi998 + _tol(y, hi998):
        return "above_99.8"
    if y > hi95 + _tol(y, hi95):
        return "above_95"
    if y < lo998 - _tol(y, lo998):
        return "below_99.8"
    if y < lo95 - _tol(y, lo95):
        return "below_95"
    return "within"


def funnel_z_scores(
    k: Sequence[float],
    n: Sequence[float],
    p0: float,
    kind: Literal["proportion", "rate"],
    scale: RateScale = "sqrt",
) -> tuple[np.ndarray, np.ndarray]:
    """Units' z-scores against the target p0 on the funnel's variance-stabilised scale, and
    their standard errors there: what `overdispersion` takes.

    Spiegelhalter DJ (2005) "Handling over-dispersion of performance indicators", Qual Saf
    Health Care 14:347-351, and FunnelPlotR's transformed_zscore (od_adjustment.R):
    - proportion k of n: y = asin(sqrt(k/n)), target asin(sqrt(p0)), s = 1/(2 sqrt(n));
    - rate, k events over exposure n: as an indirectly standardised ratio O/E with
      O = k, E = p0 n. scale 'sqrt' (Spiegelhalter's own, FunnelPlotR's "CQC"): y = sqrt(O/E),
      target 1, s = 1/(2 sqrt(E)); scale 'log' (the NHS SHMI's): z = sqrt(E) log(O/E),
      s = 1/sqrt(E) (undefined for O = 0).
    Why a transformed scale: there the within-unit variance no longer depends on the unit's
    own rate, so one between-unit variance tau^2 can be added to every unit's.
    """
    kk = np.asarray(k, dtype=float)
    nn = np.asarray(n, dtype=float)
    if kk.shape != nn.shape:
        raise ValueError("k and n differ in length")
    if np.any(~np.isfinite(nn)) or np.any(nn <= 0) or np.any(~np.isfinite(kk)) or np.any(kk < 0):
        raise ValueError("k must be non-negative and n positive")
    if kind == "proportion":
        if not 0.0 <= p0 <= 1.0 or np.any(kk > nn):
            raise ValueError("a proportion needs 0 <= p0 <= 1 and k <= n")
        s = 1.0 / (2.0 * np.sqrt(nn))
        return (np.arcsin(np.sqrt(kk / nn)) - math.asin(math.sqrt(p0))) / s, s
    if kind != "rate":
        raise ValueError(f"kind must be 'proportion' or 'rate', got {kind!r}")
    if not (math.isfinite(p0) and p0 > 0):
        raise ValueError(f"a rate's target must be positive, got {p0!r}")
    e = p0 * nn
    if scale == "sqrt":
        s = 1.0 / (2.0 * np.sqrt(e))
        return (np.sqrt(kk / e) - 1.0) / s, s
    if scale == "log":
        if np.any(kk <= 0):
            raise ValueError("the log scale needs at least one event in every unit")
        return np.sqrt(e) * np.log(kk / e), 1.0 / np.sqrt(e)
    raise ValueError(f"scale must be 'sqrt' or 'log', got {scale!r}")


def funnel_limits_overdispersed(
    p0: float,
    n: Sequence[float] | float,
    tau2: float,
    kind: Literal["proportion", "rate"],
    levels: Sequence[float] = (0.95, 0.998),
    scale: RateScale = "sqrt",
) -> dict[float, tuple[np.ndarray, np.ndarray]]:
    """Funnel limits widened for over-dispersion: target +/- z sqrt(s^2 + tau^2) on the scale
    of `funnel_z_scores`, transformed back to a proportion or a rate.

    Spiegelhalter (2005, QSHC) additive random-effects limits, as FunnelPlotR's
    calculate_limits.R draws them: proportions sin(asin(sqrt(p0)) +/- z sqrt(s^2 + tau^2))^2
    with s = 1/(2 sqrt(n)), the angle kept in [0, pi/2] so the limits stay in [0, 1] and
    monotone at small n; rates p0 (1 +/- z sqrt(s^2 + tau^2))^2 with s = 1/(2 sqrt(p0 n)) on
    the square-root scale (the lower limit 0 where 1 - z sqrt(...) < 0; FunnelPlotR's CQC
    method leaves this line unsquared, which is not the back-transform of its own scale), or
    p0 exp(+/- z sqrt(1/(p0 n) + tau^2)) on the log scale. With tau2 = 0 these are the
    normal approximations on those scales, not the exact limits of
    `funnel_limits_proportion` / `funnel_limits_rate`: use those when nothing is adjusted.
    """
    if not (math.isfinite(tau2) and tau2 >= 0):
        raise ValueError(f"tau2 must be non-negative, got {tau2!r}")
    nn = np.asarray(n, dtype=float)
    if np.any(~np.isfinite(nn)) or np.any(nn < 0):
        raise ValueError("n must be non-negative")
    safe = np.where(nn > 0, nn, np.nan)
    out: dict[float, tuple[np.ndarray, np.ndarray]] = {}
    if kind == "proportion":
        if not 0.0 <= p0 <= 1.0:
            raise ValueError(f"p0 must be a proportion, got {p0!r}")
        centre = math.asin(math.sqrt(p0))
        sd = np.sqrt(1.0 / (4.0 * safe) + tau2)
        for lv in _levels(levels):
            half = _z(lv) * sd
            lo = np.sin(np.clip(centre - half, 0.0, math.pi / 2)) ** 2
            hi = np.sin(np.clip(centre + half, 0.0, math.pi / 2)) ** 2
            out[lv] = (lo, hi)
        return out
    if kind != "rate":
        raise ValueError(f"kind must be 'proportion' or 'rate', got {kind!r}")
    if not (math.isfinite(p0) and p0 >= 0):
        raise ValueError(f"r0 must be a non-negative rate, got {p0!r}")
    if p0 == 0:
        flat = np.where(nn > 0, 0.0, np.nan)
        return {lv: (flat, flat) for lv in _levels(levels)}
    e = p0 * safe
    for lv in _levels(levels):
        if scale == "sqrt":
            half = _z(lv) * np.sqrt(1.0 / (4.0 * e) + tau2)
            lo, hi = p0 * np.maximum(1.0 - half, 0.0) ** 2, p0 * (1.0 + half) ** 2
        elif scale == "log":
            half = _z(lv) * np.sqrt(1.0 / e + tau2)
            lo, hi = p0 * np.exp(-half), p0 * np.exp(half)
        else:
            raise ValueError(f"scale must be 'sqrt' or 'log', got {scale!r}")
        out[lv] = (lo, hi)
    return out


# ----------------------------------------------------------------------------------------
# group averages
# ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Overdispersion:
    """Spiegelhalter's (2005) estimate of over-dispersion among k units' z-scores."""

    k: int
    phi: float            # dispersion ratio: mean of the squared (winsorised) z-scores
    tau2: float           # between-unit variance added to each unit's own (0: none)
    p_value: float        # test of phi = 1: k * phi against chi-squared with k - 1 df
    overdispersed: bool   # p_value below alpha: adjusted limits are the ones to draw


def overdispersion(
    z: Sequence[float],
    s: Sequence[float],
    trim: float = 0.1,
    method: Literal["winsorise", "truncate"] = "winsorise",
    alpha: float = 0.05,
) -> Overdispersion:
    """Over-dispersion of a funnel plot's units: the additive random-effects method of
    Spiegelhalter DJ (2005) "Handling over-dispersion of performance indicators", Qual Saf
    Health Care 14:347-351, as FunnelPlotR implements it.

    `z` are the units' z-scores against the target on the plot's (transformed) scale and `s`
    their standard errors (`funnel_z_scores`; the Compare page draws the result with
    `funnel_limits_overdispersed`). So that the
    outliers being looked for do not inflate the estimate, the z-scores are winsorised at the
    `trim` and 1 - `trim` quantiles (R's default, type 7) or, with method 'truncate', those in
    the outer groups are dropped (the NHS Digital SHMI way). phi = mean(z_w^2); when
    k * phi > k - 1,
    tau^2 = (k * phi - (k - 1)) / (sum(w) - sum(w^2) / sum(w)) with w = 1 / s^2, else 0.
    Adjusted limits are target +/- z_alpha * sqrt(s^2 + tau^2).
    """
    zz = _finite_array(z, "z")
    ss = _finite_array(s, "s")
    if zz.size != ss.size or zz.size < 2:
        raise ValueError("z and s must be the same length, at least 2")
    if np.any(ss <= 0):
        raise ValueError("standard errors must be positive")
    if not 0 <= trim < 0.5:
        raise ValueError(f"trim must be in [0, 0.5), got {trim!r}")
    if method == "winsorise":
        lo, hi = np.quantile(zz, [trim, 1 - trim])
        kept, keep = np.clip(zz, lo, hi), np.ones(zz.size, dtype=bool)
    elif method == "truncate":
        keep = np.ones(zz.size, dtype=bool)
        if trim:
            groups = 1 / trim
            sp = np.floor(sps.rankdata(zz) * groups / (zz.size + 1))
            keep = (sp > 0) & (sp < groups - 1)
        kept = zz[keep]
    else:
        raise ValueError(f"method must be 'winsorise' or 'truncate', got {method!r}")
    # k, and the weights, count only the units kept (truncation drops the outer groups)
    k = int(kept.size)
    phi = float(np.mean(kept**2))
    w = 1.0 / ss[keep] ** 2
    tau2 = 0.0
    if k * phi > k - 1:
        tau2 = max(0.0, (k * phi - (k - 1)) / (w.sum() - (w**2).sum() / w.sum()))
    p_value = float(sps.chi2.sf(k * phi, k - 1))
    return Overdispersion(k, phi, tau2, p_value, p_value < alpha)


def weighted_average(values: Sequence[float], weights: Sequence[float]) -> float:
    """Average of group values weighted by their denominators.

    Why: the MSF or force average of a rate is the rate of the whole group, not the mean of
    the members' rates -- a force of 3 million must count for more than one of 600,000. With
    values k_i/n_i and weights n_i this is exactly sum(k)/sum(n). nan when the weights sum
    to 0.
    """
    v = np.asarray(values, dtype=float)
    w = np.asarray(weights, dtype=float)
    if v.shape != w.shape:
        raise ValueError("values and weights differ in length")
    if np.any(w < 0):
        raise ValueError("weights must be non-negative")
    total = float(w.sum())
    return math.nan if total == 0 else float((v * w).sum() / total)


def pooled_rate(ks: Sequence[float], ns: Sequence[float]) -> float:
    """sum(k)/sum(n): the group's proportion or rate (see `weighted_average`); nan if sum(n)
    is 0."""
    k = np.asarray(ks, dtype=float)
    n = np.asarray(ns, dtype=float)
    if k.shape != n.shape:
        raise ValueError("ks and ns differ in length")
    total = float(n.sum())
    return math.nan if total == 0 else float(k.sum() / total)


# ----------------------------------------------------------------------------------------
# year-end projection
# ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Projection:
    """A projected year-end total with its prediction interval (at confidence `conf`).

    `method`: 'flat' (remaining months at the average monthly rate so far), 'seasonal' (at
    last year's seasonal profile) or 'complete' (no months remain: the actual total).
    """

    point: float
    lower: float
    upper: float
    method: str
    conf: float = 0.95


PROBES = 32   # candidates of a monotone search evaluated in one vectorised scipy call


def _poisson_prediction_interval(x: int, rho: float, conf: float) -> tuple[int, int]:
    """Exact-conditional prediction interval for a future Poisson count Y given an observed
    count x, when E[Y] = rho * E[X] (Nelson W (1970) "Confidence intervals for the ratio of
    two Poisson means and Poisson predictor intervals", IEEE Trans Reliab R-19:42-49; Hahn GJ,
    Meeker WQ (1991) Statistical Intervals).

    Given X + Y = N, X ~ Binomial(N, pi) with pi = 1/(1 + rho). A candidate y is inside the
    interval unless the observed x would be significant in either tail at (1-conf)/2:
    upper = largest y with P(X <= x | N = x + y) > a; lower = smallest y with
    P(X >= x | N = x + y) > a. Both probabilities are monotone in y, so the boundary is
    searched for; PROBES candidates at a time in one array call (scipy's per-call overhead,
    ~40 us, was most of an outlook's cost when bisecting one candidate at a time; the
    element-wise values, and so the boundary, are the same).
    """
    a = (1.0 - conf) / 2.0
    if rho <= 0:
        return (0, 0)
    pi = 1.0 / (1.0 + rho)

    def upper_ok(y: np.ndarray) -> np.ndarray:
        return np.asarray(sps.binom.cdf(x, x + y, pi) > a)

    def lower_fails(y: np.ndarray) -> np.ndarray:
        return np.asarray(~(sps.binom.sf(x - 1, x + y, pi) > a))

    # where the normal approximation puts each end: the searches start around it
    sd = math.sqrt(rho * (1.0 + rho) * max(x, 1))
    z = NormalDist().inv_cdf(1.0 - a)   # a guess only: the search below is exact
    # largest y with upper_ok (true at y = 0, false eventually)
    y_upper = _last_true(upper_ok, max(1, int(math.ceil(rho * (x + 1)))), rho * x + z * sd, sd)
    # smallest y with P(X >= x | N) > a: one past the largest y where it fails
    if not lower_fails(np.array([0]))[0]:
        return (0, y_upper)
    return (_last_true(lower_fails, max(1, y_upper), rho * x - z * sd, sd) + 1, y_upper)


def _last_true(ok: Any, start: int, guess: float, spread: float) -> int:
    """The largest y >= 0 with ok(y), for a predicate true at 0 and false from some y on
    (evaluated on arrays of candidates). First PROBES candidates within `spread` of `guess`;
    if the change is not among them, the doublings start, 2 start, 4 start, ... until one is
    false; then the gap between the last true and the first false narrowed PROBES-ary."""
    lo, hi = 0, 0
    around = np.rint(guess + spread * np.linspace(-1.0, 1.0, PROBES))
    cand = np.unique(np.clip(around, 1, None).astype(np.int64))
    res = ok(cand)
    if res.all():
        lo, start = int(cand[-1]), max(start, 2 * int(cand[-1]))
    else:
        f = int(np.argmin(res))
        lo, hi = (int(cand[f - 1]) if f > 0 else 0), int(cand[f])
    while hi == 0:
        cand = start * (2 ** np.arange(8, dtype=np.int64))
        res = ok(cand)
        if not res.all():
            f = int(np.argmin(res))
            lo = int(cand[f - 1]) if f > 0 else lo
            hi = int(cand[f])
            break
        lo, start = int(cand[-1]), int(cand[-1]) * 2
    while hi - lo > 1:
        cand = np.unique(np.linspace(lo, hi, PROBES + 2).astype(np.int64))
        cand = cand[(cand > lo) & (cand < hi)]
        res = ok(cand)
        f = int(np.argmin(res)) if not res.all() else len(cand)
        if f > 0:
            lo = int(cand[f - 1])
        if f < len(cand):
            hi = int(cand[f])
    return lo


def project_year_end(
    values_so_far: Sequence[float],
    months_in_year: int = 12,
    last_year: Sequence[float] | None = None,
    conf: float = 0.95,
) -> Projection:
    """Project a year-end total of counts from the months so far, with a prediction interval.

    Point: remaining = so_far * ratio, where ratio is (months remaining)/(months so far)
    ('flat'), or, when last year's monthly counts are given, sum(last year's remaining
    months)/sum(last year's months so far) ('seasonal': April-to-November crime is not a
    flat 8/12 of the year). Falls back to 'flat' when last year's months so far sum to 0.

    Interval: an exact Poisson prediction interval for the remaining count (Nelson 1970;
    see `_poisson_prediction_interval`), added to the known total so far. It includes both
    the uncertainty in the underlying rate estimated from the months so far and the Poisson
    chance in the months still to come; last year's profile is taken as known.
    """
    x = _finite_array(values_so_far, "values_so_far")
    m = x.size
    if not 1 <= m <= months_in_year:
        raise ValueError(f"need between 1 and {months_in_year} months so far, got {m}")
    so_far = sum(_count(v, "monthly count") for v in x)
    remaining_months = months_in_year - m
    if remaining_months == 0:
        return Projection(float(so_far), float(so_far), float(so_far), "complete", conf)
    method = "flat"
    ratio = remaining_months / m
    if last_year is not None:
        ly = _finite_array(last_year, "last_year")
        if ly.size != months_in_year or np.any(ly < 0):
            raise ValueError(f"last_year must hold {months_in_year} non-negative monthly values")
        ly_so_far = float(ly[:m].sum())
        if ly_so_far > 0:
            ratio = float(ly[m:].sum()) / ly_so_far
            method = "seasonal"
    _z(conf)
    y_lo, y_hi = _poisson_prediction_interval(so_far, ratio, conf)
    point = so_far + so_far * ratio
    return Projection(float(point), float(so_far + y_lo), float(so_far + y_hi), method, conf)


def probability_of_meeting(projection: Projection, target: float, polarity: Polarity) -> float:
    """Approximate probability that the year-end total meets the target.

    'down' (lower is better, the target is a ceiling): P(total <= target); 'up': P(total >=
    target). Normal approximation centred on the point projection, with the standard
    deviation read off the interval on the side facing the target: (upper - point)/z or
    (point - lower)/z, z the two-sided quantile for `projection.conf`. This keeps the skew of
    the Poisson interval. If the interval has no width (a complete year) the answer is 0 or 1.
    """
    if polarity not in ("up", "down"):
        raise ValueError("a target needs polarity 'up' or 'down'")
    z = _z(projection.conf)
    gap = target - projection.point
    half = (projection.upper - projection.point) if gap >= 0 else (projection.point - projection.lower)
    if half <= 0:
        below = projection.point <= target
        meets = below if polarity == "down" else projection.point >= target
        return 1.0 if meets else 0.0
    p_below = float(sps.norm.cdf(gap / (half / z)))
    return p_below if polarity == "down" else 1.0 - p_below


# ----------------------------------------------------------------------------------------
# the police financial year
# ----------------------------------------------------------------------------------------


def financial_year(d: date) -> str:
    """The UK financial year (April to March) as police papers write it: '2007/08'."""
    y = d.year if d.month >= 4 else d.year - 1
    return f"{y}/{(y + 1) % 100:02d}"


def fy_quarter(d: date) -> int:
    """Quarter of the financial year: 1 = April-June, 2 = July-September, 3 = October-December,
    4 = January-March."""
    return (d.month - 4) % 12 // 3 + 1


# -- means from sums (101 answer time and other 'mean' measures) --------------------------


def mean_interval_from_sums(total: float, n: float, total_sq: float,
                            conf: float = 0.95) -> tuple[float, float]:
    """Student t interval for a mean known only by its sums (the cubes store sum, count and
    sum of squares, so any period or unit can be combined by addition).

    mean = total/n; s^2 = (total_sq - total^2/n)/(n-1). NaN below 2 values.
    """
    if n is None or total_sq is None or math.isnan(n) or math.isnan(total_sq) or n < 2:
        return (math.nan, math.nan)
    mean = total / n
    var = max((total_sq - total * total / n) / (n - 1), 0.0)
    half = float(sps.t.ppf(1 - (1 - conf) / 2, n - 1)) * math.sqrt(var / n)
    return (mean - half, mean + half)


def compare_means_from_sums(total1: float, n1: float, sq1: float, total0: float, n0: float,
                            sq0: float, alpha: float = 0.05) -> Change | None:
    """Welch's unequal-variance t-test of this period's mean against last year's, from sums.

    Welch (1947), Biometrika 34:28. None when either period has fewer than 2 values.
    """
    if min(n1, n0) < 2 or any(math.isnan(x) for x in (sq1, sq0)):
        return None
    m1, m0 = total1 / n1, total0 / n0
    v1 = max((sq1 - total1 * total1 / n1) / (n1 - 1), 0.0)
    v0 = max((sq0 - total0 * total0 / n0) / (n0 - 1), 0.0)
    if v1 == 0 and v0 == 0:
        p = 1.0 if m1 == m0 else 0.0
    else:
        p = float(sps.ttest_ind_from_stats(
            m1, math.sqrt(v1), n1, m0, math.sqrt(v0), n0, equal_var=False).pvalue)
    diff = m1 - m0
    sig = p < alpha
    return Change(m1, m0, diff, None if m0 == 0 else 100 * diff / m0, p, sig,
                  ("up" if diff > 0 else "down") if sig else "none", "welch_t")


# -- rate ratios (stop and search disproportionality) --------------------------------------


def rate_ratio(a: float, pop_a: float, b: float, pop_b: float,
               confidence: float = 0.95) -> tuple[float, float, float]:
    """Ratio of two rates, (a/pop_a) / (b/pop_b), with its log (Katz) confidence interval.

    Used for stop-and-search disproportionality: a = searches of Black (or Asian) people,
    pop_a = Black residents, b = searches of White people, pop_b = White residents; 3.0 means
    Black residents were searched at three times the White rate. Returns (ratio, low, high).

    Method: the risk ratio of a 2x2 table (searched / not searched by group) with the standard
    log interval of Katz D, Baptista J, Azen SP, Pike MC (1978) "Obtaining confidence intervals
    for the risk ratio in cohort studies", Biometrics 34:469-474 (also Rothman, Greenland &
    Lash, Modern Epidemiology, 3rd ed., ch. 14):

        ln RR +/- z * sqrt(1/a - 1/pop_a + 1/b - 1/pop_b)

    This is what R's epitools::riskratio(method = "wald") computes, which BlackThrive's
    ExtractSS used for its published ratios (R/riskratio_from_df.R); we reproduce their 923
    non-zero local-authority x year figures to within 1e-9 relative (docs/stop-search.md).

    Why not a Poisson rate ratio (sqrt(1/a + 1/b)): the two agree closely when searches are few
    compared with residents, and the risk-ratio form is the one the published figures use.
    Searches are events, not people (one person can be searched twice), so neither model is
    exact; the interval describes chance variation in the counts, not that caveat.

    Zero counts, explicitly: the interval needs a > 0 and b > 0 (the standard error is
    infinite otherwise), so
      a == 0 < b   -> (0.0, nan, nan)
      b == 0 < a   -> (inf, nan, nan)
      a == b == 0  -> (nan, nan, nan)
    (epitools returns (0, 0, NA) for a == 0, from the arithmetic 0 * exp(-inf) = 0; we give no
    lower limit rather than a limit that no method produced.) When searches outnumber the
    residents of a group (a > pop_a or b > pop_b: visitors, small central areas) the
    searched/not-searched table does not exist, so the ratio is returned with (nan, nan)
    limits. Counts must be whole numbers; populations positive; else ValueError.
    """
    a = _count(a, "a")
    b = _count(b, "b")
    for name, pop in (("pop_a", pop_a), ("pop_b", pop_b)):
        try:
            ok = math.isfinite(float(pop)) and float(pop) > 0
        except (TypeError, ValueError):
            ok = False
        if not ok:
            raise ValueError(f"{name} must be a positive population, got {pop!r}")
    pop_a, pop_b = float(pop_a), float(pop_b)
    z = _z(confidence)
    if a == 0 and b == 0:
        return (math.nan, math.nan, math.nan)
    if a == 0:
        return (0.0, math.nan, math.nan)
    if b == 0:
        return (math.inf, math.nan, math.nan)
    ratio = (a / pop_a) / (b / pop_b)
    if a > pop_a or b > pop_b:
        return (ratio, math.nan, math.nan)
    se = math.sqrt(1.0 / a - 1.0 / pop_a + 1.0 / b - 1.0 / pop_b)
    return (ratio, ratio * math.exp(-z * se), ratio * math.exp(z * se))


# ----------------------------------------------------------------------------------------
# weighted counts (crime harm): compound Poisson
# ----------------------------------------------------------------------------------------


def weighted_count_interval(total: float, total_sq: float, conf: float = 0.95) -> tuple[float, float]:
    """Confidence interval for the expected value of a weighted count S = sum of w_i, where
    the crimes arrive as a Poisson process and each carries a known weight (crime harm: its
    ONS Crime Severity Score). `total` is S, `total_sq` is V = sum of w_i squared, the
    compound Poisson variance of S.

    Why not Garwood on S: S is not a count; one rape weighs as much as 1,600 possessions of
    cannabis, so S varies far more than a count of the same size.

    Method: the gamma interval of Fay MP, Feuer EJ (1997) Stat Med 16:791-801, written as a
    scaled Garwood interval. S is treated as k times a Poisson count with n = S^2 / V
    "effective crimes" of weight k = V / S, which matches the mean and variance of S:

        lower = k * chi2.ppf(a/2, 2n) / 2
        upper = k * chi2.ppf(1 - a/2, 2n + 2) / 2

    so with every weight equal to w it is exactly w times the Garwood interval of the count.
    Fay and Feuer's upper limit adds one crime of the largest weight, Tiwari et al. (2006,
    Stat Methods Med Res 15:547) one of the mean weight; this adds one of weight V/S, which
    lies between the two. No crimes (S = 0): (0, NaN), since with no crime there is no weight
    to say how large the upper limit is.
    """
    if not (math.isfinite(total) and math.isfinite(total_sq)) or total < 0 or total_sq < 0:
        raise ValueError(f"total and total_sq must be finite and >= 0, got {total!r}, {total_sq!r}")
    _z(conf)
    if total == 0:
        return (0.0, math.nan)
    if total_sq == 0:
        raise ValueError("total_sq must be positive when total is")
    a = 1.0 - conf
    n_eff = total * total / total_sq
    k = total_sq / total
    lower = k * _chi2_ppf(a / 2.0, 2.0 * n_eff) / 2.0
    upper = k * _chi2_ppf(1.0 - a / 2.0, 2.0 * n_eff + 2.0) / 2.0
    return (lower, upper)


def compare_weighted(total1: float, sq1: float, total0: float, sq0: float,
                     t1: float = 1.0, t0: float = 1.0, alpha: float = 0.05) -> Change:
    """Has a weighted count (crime harm), or its rate over exposures t1, t0, changed?

    Method: a Wald z test on the difference of the two rates S1/t1 - S0/t0, whose variance
    is V1/t1^2 + V0/t0^2 (compound Poisson, V = sum of squared weights). Harm totals for a
    unit and period are sums of many crimes, where the normal approximation holds; for a
    handful of crimes of very different weights it is rough, as any test would be.
    """
    for name, t in (("t1", t1), ("t0", t0)):
        if not (math.isfinite(t) and t > 0):
            raise ValueError(f"{name} must be positive, got {t!r}")
    r1, r0 = total1 / t1, total0 / t0
    var = sq1 / (t1 * t1) + sq0 / (t0 * t0)
    p_value = 1.0 if var <= 0 else float(2.0 * sps.norm.sf(abs(r1 - r0) / math.sqrt(var)))
    return _change(r1, r0, p_value, alpha, "compound_poisson_z")
