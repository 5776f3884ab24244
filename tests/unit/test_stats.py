"""dashboard/analysis/stats.py against published examples and hand-worked cases.

Rule for this file: every expected number is typed in from a NAMED source (a paper's table, a
textbook example) or worked by hand in the comment beside it. Where an oracle is computed, it
is computed with something other than the code under test (integer arithmetic with
math.comb, or scipy distribution functions written out step by step in the test).
"""

from __future__ import annotations

import math
from datetime import date
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats as sps

from dashboard.analysis import stats
from dashboard.analysis.stats import Signal, SpcResult

# No per-example deadline: on two cores shared by several test runs an example's wall time
# measures the machine's load, not the code (test_wilson_contains_estimate once failed so).
NO_DEADLINE = settings(deadline=None)


A = pytest.approx

# ----------------------------------------------------------------------------------------
# Wilson score interval
# ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("k", "n", "lower", "upper"),
    [
        # Newcombe RG (1998) Stat Med 17:857-872, Table I, method 3 (Wilson score, no
        # continuity correction), 95%.
        (81, 263, 0.2553, 0.3662),
        (15, 148, 0.0624, 0.1605),
        (0, 20, 0.0000, 0.1611),
        (1, 29, 0.0061, 0.1718),
    ],
)
def test_wilson_newcombe_table_1(k: int, n: int, lower: float, upper: float) -> None:
    """Newcombe (1998) Table I. Cross-check by hand for 0/20 with the closed form
    (p + z^2/2n +/- z sqrt(p(1-p)/n + z^2/4n^2)) / (1 + z^2/n), z = 1.96, p = 0:
    upper = (z^2/2n + z^2/2n) / (1 + z^2/n) = (3.8416/20) / (1 + 3.8416/20) = 0.19208/1.19208
    = 0.1611."""
    lo, hi = stats.wilson_interval(k, n)
    assert lo == A(lower, abs=5e-5)
    assert hi == A(upper, abs=5e-5)


def test_wilson_edge_cases() -> None:
    """n = 0 has no proportion; k = n gives an upper limit of exactly 1 (by symmetry with
    0/n: 29/29 -> 1 - 0.1170 = 0.8830 to 1, where 0.1170 = (3.8416/29)/(1 + 3.8416/29))."""
    lo, hi = stats.wilson_interval(0, 0)
    assert math.isnan(lo) and math.isnan(hi)
    assert stats.wilson_interval(29, 29) == (A(0.8830, abs=5e-5), 1.0)
    assert stats.wilson_interval(0, 29)[0] == 0.0
    with pytest.raises(ValueError):
        stats.wilson_interval(5, 4)
    with pytest.raises(ValueError):
        stats.wilson_interval(1.5, 4)


# ----------------------------------------------------------------------------------------
# exact Poisson interval
# ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("k", "lower", "upper"),
    [
        # Garwood F (1936) Biometrika 28:437, as tabulated in standard tables of exact 95%
        # limits for a Poisson count (e.g. Documenta Geigy / Ulm 1990).
        (0, 0.0, 3.689),
        (1, 0.0253, 5.572),
        (5, 1.623, 11.668),
        (10, 4.795, 18.390),
    ],
)
def test_poisson_garwood_table(k: int, lower: float, upper: float) -> None:
    """Garwood exact 95% limits. Hand check for k = 0: the upper limit solves
    exp(-mu) = 0.025, mu = -ln 0.025 = 3.6889."""
    lo, hi = stats.poisson_interval(k)
    assert lo == A(lower, abs=5e-4)
    assert hi == A(upper, abs=5e-4)


def test_rate_interval_is_count_interval_over_exposure() -> None:
    """5 burglaries among 2,000 households, per 1,000 households: Garwood (1.623, 11.668)
    for k = 5, divided by 2 (thousand) = (0.8117, 5.834)."""
    lo, hi = stats.rate_interval(5, 2000, scale=1000)
    assert lo == A(0.8117, abs=5e-4)
    assert hi == A(5.834, abs=5e-4)
    with pytest.raises(ValueError):
        stats.rate_interval(5, 0)


# ----------------------------------------------------------------------------------------
# compare_counts: exact conditional binomial test
# ----------------------------------------------------------------------------------------


def _two_sided_half(k: int, n: int) -> float:
    """Exact two-sided binomial p at p = 1/2 with k >= n/2, by integer arithmetic:
    2 * sum_{x=k}^{n} C(n, x) / 2^n (the distribution is symmetric)."""
    return float(2 * Fraction(sum(math.comb(n, x) for x in range(k, n + 1)), 2**n))


def test_compare_counts_30_vs_20() -> None:
    """30 crimes this year against 20 last year, equal periods: given 50 in total, 30 is
    Binomial(50, 1/2) under no change; two-sided p = 2 P(X >= 30) = 0.2026 -> not
    significant, so no arrow, although the count is up 50%."""
    ch = stats.compare_counts(30, 20)
    assert _two_sided_half(30, 50) == A(0.2026, abs=5e-5)
    assert ch.p_value == A(0.2026, abs=5e-5)
    assert ch.p_value == A(_two_sided_half(30, 50), rel=1e-9)
    assert (ch.current, ch.previous, ch.abs_change, ch.pct_change) == (30.0, 20.0, 10.0, 50.0)
    assert not ch.significant
    assert ch.direction == "none"
    assert ch.method == "exact_conditional_binomial"


def test_compare_counts_60_vs_30() -> None:
    """60 against 30: 2 P(X >= 60), X ~ Bin(90, 1/2) = 0.002060 (integer arithmetic)."""
    ch = stats.compare_counts(60, 30)
    assert _two_sided_half(60, 90) == A(0.002060, abs=5e-7)
    assert ch.p_value == A(_two_sided_half(60, 90), rel=1e-9)
    assert ch.significant and ch.direction == "up"
    assert ch.pct_change == A(100.0)
    down = stats.compare_counts(30, 60)
    assert down.direction == "down" and down.pct_change == A(-50.0)


def test_compare_counts_unequal_exposure_by_hand() -> None:
    """4 events in 1 month against 0 in the 3 months before. Under no change, given 4 events,
    the number in the current month is Bin(4, 1/4): P(0..4) = 0.3164, 0.4219, 0.2109,
    0.0469, 0.0039. Only X = 4 is as unlikely as what was seen: p = 0.25^4 = 0.00390625."""
    ch = stats.compare_counts(4, 0, t1=1, t0=3)
    assert ch.p_value == A(0.00390625, rel=1e-9)
    assert ch.current == 4.0 and ch.previous == 0.0
    assert ch.pct_change is None
    assert ch.direction == "up"


def test_compare_counts_no_events() -> None:
    ch = stats.compare_counts(0, 0)
    assert ch.p_value == 1.0 and not ch.significant and ch.direction == "none"


# ----------------------------------------------------------------------------------------
# compare_proportions
# ----------------------------------------------------------------------------------------


def test_compare_proportions_z_by_hand() -> None:
    """90/100 detected against 80/100. Pooled p = 170/200 = 0.85;
    SE = sqrt(0.85 * 0.15 * (1/100 + 1/100)) = sqrt(0.00255) = 0.050498;
    z = 0.10/0.050498 = 1.980; two-sided P = 2(1 - Phi(1.980)) = 0.0477.
    Smallest expected cell: 100 * 30/200 = 15 >= 5, so the z-test is used."""
    ch = stats.compare_proportions(90, 100, 80, 100)
    assert ch.method == "two_proportion_z"
    assert ch.p_value == A(0.0477, abs=5e-5)
    assert ch.current == A(0.9) and ch.previous == A(0.8)
    assert ch.abs_change == A(0.1)
    assert ch.pct_change == A(12.5)
    assert ch.significant and ch.direction == "up"


def test_compare_proportions_agresti_aspirin() -> None:
    """Physicians' Health Study (aspirin and myocardial infarction; the 2x2 table in Agresti,
    An Introduction to Categorical Data Analysis, ch. 2): placebo 189/11034 had a heart
    attack, aspirin 104/11037. Worked by hand: p1 = 0.017129, p0 = 0.009423, difference
    0.007706; pooled p = 293/22071 = 0.013275; SE = sqrt(0.013275 * 0.986725 * (1/11034 +
    1/11037)) = 0.0015408; z = 0.007706/0.0015408 = 5.001, so z^2 = Pearson X^2 = 25.01."""
    ch = stats.compare_proportions(189, 11034, 104, 11037)
    assert ch.method == "two_proportion_z"
    z = sps.norm.isf(ch.p_value / 2)
    assert z * z == A(25.01, abs=0.01)
    assert ch.direction == "up"


def test_compare_proportions_fisher_lady_tasting_tea() -> None:
    """Fisher (1935) The Design of Experiments, the lady tasting tea: 8 cups, 4 milk-first;
    she picks 3 of the 4 correctly -> table [[3, 1], [1, 3]]. Hypergeometric probabilities of
    0..4 correct: 1, 16, 36, 16, 1 (/70). Two-sided: tables no more likely than the observed
    16/70 -> (1 + 16 + 16 + 1)/70 = 34/70 = 0.4857. Expected cells are 2 < 5, so Fisher."""
    ch = stats.compare_proportions(3, 4, 1, 4)
    assert ch.method == "fisher_exact"
    assert ch.p_value == A(34 / 70, rel=1e-9)
    assert ch.p_value == A(0.4857, abs=5e-5)
    assert not ch.significant


def test_compare_proportions_cochran_boundary() -> None:
    """5/50 against 5/50: expected events = 50 * 10/100 = 5, not below 5 -> z-test; z = 0,
    P = 1. 4/50 against 5/50: expected 50 * 9/100 = 4.5 < 5 -> Fisher."""
    assert stats.compare_proportions(5, 50, 5, 50).method == "two_proportion_z"
    assert stats.compare_proportions(5, 50, 5, 50).p_value == A(1.0)
    assert stats.compare_proportions(4, 50, 5, 50).method == "fisher_exact"
    assert stats.compare_proportions(0, 0, 3, 5).method == "no_data"


# ----------------------------------------------------------------------------------------
# SPC charts: textbook examples
# ----------------------------------------------------------------------------------------

# Montgomery DC, Introduction to Statistical Quality Control, the c-chart example for printed
# circuit boards (Example 7.3 in the 6th edition; numbering varies by edition): nonconformities
# in 26 successive samples of 100 boards.
MONTGOMERY_PCB = [21, 24, 16, 12, 15, 5, 28, 20, 31, 25, 20, 24, 16, 19, 10, 17, 13, 22, 18, 39,
                  30, 24, 16, 19, 17, 15]

# Montgomery, ISQC, the p-chart example for frozen orange-juice cans (Example 7.1 in the 6th
# edition): 30 samples of n = 50, number nonconforming. (Also the 30 trial samples of the
# `orangejuice` data in the R package qcc.)
MONTGOMERY_OJ = [12, 15, 8, 10, 4, 7, 16, 9, 14, 10, 5, 6, 17, 12, 22, 8, 10, 5, 13, 11, 20, 18,
                 24, 15, 9, 12, 7, 13, 9, 6]


def _beyond(result: SpcResult) -> list[int]:
    return [s.index for s in result.signals if s.rule == "beyond_3_sigma"]


def test_c_chart_montgomery_circuit_boards() -> None:
    """Total 516, c-bar = 516/26 = 19.85, UCL = 19.85 + 3 sqrt(19.85) = 33.22,
    LCL = 6.48 (the book rounds c-bar to 19.85 first; unrounded 19.846 gives 33.21, hence
    the 0.01 tolerance). Samples 6 (5 nonconformities) and 20 (39) plot outside."""
    assert sum(MONTGOMERY_PCB) == 516
    r = stats.c_chart(MONTGOMERY_PCB)
    assert r.chart == "c"
    assert r.centre[0] == A(19.85, abs=0.005)
    assert r.ucl[0] == A(33.22, abs=0.011)
    assert r.lcl[0] == A(6.48, abs=0.011)
    assert _beyond(r) == [5, 19]  # 0-based: samples 6 and 20
    assert [s.side for s in r.signals if s.rule == "beyond_3_sigma"] == ["below", "above"]


def test_c_chart_montgomery_revised_limits() -> None:
    """Montgomery drops samples 6 and 20 (assignable causes found): c-bar = 472/24 = 19.67,
    UCL = 32.97, LCL = 6.36."""
    kept = [c for i, c in enumerate(MONTGOMERY_PCB) if i not in (5, 19)]
    assert sum(kept) == 472
    r = stats.c_chart(kept)
    assert r.centre[0] == A(19.67, abs=0.005)
    assert r.ucl[0] == A(32.97, abs=0.006)
    assert r.lcl[0] == A(6.36, abs=0.006)
    assert _beyond(r) == []


def test_c_chart_point_on_limit_is_not_beyond() -> None:
    """NIST/SEMATECH e-Handbook 6.3.3.1 wafer-defect counts: 25 wafers, total 400, c-bar = 16,
    sigma = 4, UCL = 28 and LCL = 4 exactly. Wafer 3 has 28 -- ON the limit, not beyond;
    wafer 24 has 31 -- beyond."""
    wafers = [16, 14, 28, 16, 12, 20, 10, 12, 10, 17, 19, 17, 14, 16, 15, 13, 14, 16, 11, 20, 11,
              19, 16, 31, 13]
    assert sum(wafers) == 400
    r = stats.c_chart(wafers)
    assert (r.centre[0], r.sigma[0], r.ucl[0], r.lcl[0]) == (16.0, 4.0, 28.0, 4.0)
    assert _beyond(r) == [23]


def test_p_chart_montgomery_orange_juice() -> None:
    """Total nonconforming 347 of 1500: p-bar = 0.2313; sigma = sqrt(0.2313 * 0.7687/50)
    = 0.0596; UCL = 0.4102, LCL = 0.0524. Samples 15 (22/50 = 0.44) and 23 (24/50 = 0.48)
    are above the UCL."""
    assert sum(MONTGOMERY_OJ) == 347
    r = stats.p_chart(MONTGOMERY_OJ, [50] * 30)
    assert r.chart == "p"
    assert r.centre[0] == A(0.2313, abs=5e-5)
    assert r.ucl[0] == A(0.4102, abs=5e-5)
    assert r.lcl[0] == A(0.0524, abs=5e-5)
    assert _beyond(r) == [14, 22]


def test_p_chart_montgomery_revised_limits() -> None:
    """Samples 15 and 23 have assignable causes and are dropped: p-bar = 301/1400 = 0.2150,
    UCL = 0.3893, LCL = 0.0407 (Montgomery's revised trial limits)."""
    kept = [k for i, k in enumerate(MONTGOMERY_OJ) if i not in (14, 22)]
    r = stats.p_chart(kept, [50] * 28)
    assert r.centre[0] == A(0.2150, abs=5e-5)
    assert r.ucl[0] == A(0.3893, abs=5e-5)
    assert r.lcl[0] == A(0.0407, abs=5e-5)


def test_p_chart_limits_vary_with_n_and_clip() -> None:
    """Hand-worked: k = [1, 10], n = [4, 40]; p-bar = 11/44 = 0.25. For n = 4:
    sigma = sqrt(0.25 * 0.75/4) = 0.2165, 0.25 - 0.6495 < 0 -> LCL 0, UCL = 0.8995.
    For n = 40: sigma = 0.06847, limits 0.0446 and 0.4554."""
    r = stats.p_chart([1, 10], [4, 40])
    assert r.sigma == [A(0.21651, abs=1e-5), A(0.068465, abs=1e-6)]
    assert r.lcl == [0.0, A(0.04460, abs=1e-5)]
    assert r.ucl == [A(0.89952, abs=1e-5), A(0.45540, abs=1e-5)]


def test_u_chart_montgomery_dyed_cloth() -> None:
    """Montgomery, ISQC, the u-chart example with variable sample size: nonconformities in 10
    rolls of dyed cloth with 10, 8, 13, 10, 9.5, 10, 12, 10.5, 12, 12.5 inspection units (total 107.5)
    and 14, 12, 20, 11, 7, 10, 21, 16, 19, 23 nonconformities (total 153). u-bar = 1.42;
    limits 1.42 +/- 3 sqrt(1.42/n): n = 10 -> 0.29, 2.55; n = 8 -> 0.16, 2.68; n = 13 ->
    0.43, 2.41. (The book rounds u-bar to 1.42; unrounded 1.4233 moves limits by < 0.011.)
    No roll is out of control."""
    units = [10, 8, 13, 10, 9.5, 10, 12, 10.5, 12, 12.5]
    counts = [14, 12, 20, 11, 7, 10, 21, 16, 19, 23]
    r = stats.u_chart(counts, units)
    assert r.chart == "u"
    assert r.centre[0] == A(1.42, abs=0.005)
    book = {0: (0.29, 2.55), 1: (0.16, 2.68), 2: (0.43, 2.41)}
    for i, (lcl, ucl) in book.items():
        assert r.lcl[i] == A(lcl, abs=0.011)
        assert r.ucl[i] == A(ucl, abs=0.011)
    assert _beyond(r) == []


def test_xmr_chart_nist_flowrate() -> None:
    """NIST/SEMATECH e-Handbook 6.3.2.2 (individuals chart example): flow rates 49.6, 47.6,
    49.9, 51.3, 47.8, 51.2, 52.6, 52.4, 53.6, 52.1. Mean 508.1/10 = 50.81; moving ranges 2.0,
    2.3, 1.4, 3.5, 3.4, 1.4, 0.2, 1.2, 1.5 (sum 16.9), mR-bar = 1.8778;
    UCL = 50.81 + 3 * 1.8778/1.128 = 55.8041, LCL = 45.8159."""
    r = stats.xmr_chart([49.6, 47.6, 49.9, 51.3, 47.8, 51.2, 52.6, 52.4, 53.6, 52.1])
    assert r.chart == "xmr"
    assert r.centre[0] == A(50.81)
    assert r.sigma[0] == A(1.8778 / 1.128, abs=1e-4)
    assert r.ucl[0] == A(55.8041, abs=1e-4)
    assert r.lcl[0] == A(45.8159, abs=1e-4)
    assert _beyond(r) == []


def test_baseline_freezes_limits() -> None:
    """Hand-worked: 12 months of 10 then 8 months of 20. Limits frozen on the first 12:
    c-bar = 10, UCL = 10 + 3 sqrt(10) = 19.487 -> every later month (20) is beyond the UCL,
    and months 13-20 are a run of 8 above the centre line (indices 12..19). Without the
    baseline, c-bar = (120 + 160)/20 = 14 absorbs the shift."""
    series = [10] * 12 + [20] * 8
    r = stats.c_chart(series, baseline=12)
    assert r.centre == [10.0] * 20
    assert r.ucl[0] == A(19.4868, abs=1e-4)
    assert _beyond(r) == list(range(12, 20))
    assert [(s.start, s.index, s.side) for s in r.signals if s.rule == "run_of_8"] == [(12, 19, "above")]
    assert stats.c_chart(series).centre[0] == 14.0
    with pytest.raises(ValueError):
        stats.c_chart(series, baseline=0)


# ----------------------------------------------------------------------------------------
# the four special-cause rules, on hand-built series (centre 0, sigma 1)
# ----------------------------------------------------------------------------------------

# Alternating +/-0.5: never two successive points on one side, every step reverses, nothing
# beyond 1 sigma -- no rule can fire on this background.
BACKGROUND = [0.5 if i % 2 == 0 else -0.5 for i in range(20)]


def _rules(values: list[float], **kw: int) -> list[tuple[str, int, int, str]]:
    return [(s.rule, s.index, s.start, s.side) for s in stats.special_causes(values, 0.0, 1.0, **kw)]


def test_background_has_no_signals() -> None:
    assert _rules(BACKGROUND) == []


def test_rule_beyond_3_sigma() -> None:
    """One point at 3.5 sigma at index 7; a point exactly at 3 sigma is not beyond."""
    v = BACKGROUND.copy()
    v[7] = 3.5
    assert _rules(v) == [("beyond_3_sigma", 7, 7, "above")]
    v[7] = -3.5
    assert _rules(v) == [("beyond_3_sigma", 7, 7, "below")]
    v[7] = 3.0
    assert _rules(v) == []


def test_rule_run_of_8() -> None:
    """Points 6..13 all above the centre (zig-zagging so no trend): a run of 8 completed at
    index 13. Seven points (6..12) are not enough; a point ON the centre line breaks it."""
    v = BACKGROUND.copy()
    for i in range(6, 14):
        v[i] = 0.3 if i % 2 == 0 else 0.6
    v[14] = -0.5  # the background would have continued the run
    assert _rules(v) == [("run_of_8", 13, 6, "above")]
    v7 = v.copy()
    v7[13] = -0.5
    assert _rules(v7) == []
    v_on = v.copy()
    v_on[9] = 0.0
    assert _rules(v_on) == []
    assert _rules(v7, run_length=7) == [("run_of_8", 12, 6, "above")]


def test_rule_run_longer_than_8_is_one_signal() -> None:
    """A run over indices 4..15 (12 points) is reported once, start 4, index 15."""
    v = BACKGROUND.copy()
    v[3] = 0.5  # the background would have started the run a point earlier
    for i in range(4, 16):
        v[i] = -(0.3 if i % 2 == 0 else 0.6)
    assert _rules(v) == [("run_of_8", 15, 4, "below")]


def test_rule_trend_of_6() -> None:
    """Six strictly rising points at indices 10..15 (5 rising steps): a trend completed at
    index 15. Five rising points are not a trend; an equal pair breaks it."""
    v = BACKGROUND.copy()
    v[9] = 0.9  # a high point before, so the rise starts at 10
    for j, i in enumerate(range(10, 16)):
        v[i] = -0.5 + 0.2 * j  # -0.5, -0.3, -0.1, 0.1, 0.3, 0.5
    v[16] = -0.5
    assert _rules(v) == [("trend_of_6", 15, 10, "up")]
    five = v.copy()
    five[15] = -0.9
    assert _rules(five) == []
    flat = v.copy()
    flat[13] = flat[12]
    assert _rules(flat) == []
    down = [-x for x in v]
    assert _rules(down) == [("trend_of_6", 15, 10, "down")]


def test_rule_two_of_three_beyond_2_sigma() -> None:
    """2.5 sigma at indices 8 and 10 (same side) with a normal point between: completed at 10,
    starting at 8. Opposite sides do not count; nor does 2 sigma exactly."""
    v = BACKGROUND.copy()
    v[8], v[10] = 2.5, 2.5
    assert _rules(v) == [("two_of_three_beyond_2_sigma", 10, 8, "above")]
    v[10] = -2.5
    assert _rules(v) == []
    v[8], v[10] = 2.0, 2.0
    assert _rules(v) == []
    v[8], v[11] = 2.5, 2.5  # 3 apart: not within one window of three
    v[10] = -0.5
    assert _rules(v) == []


def test_rule_two_of_three_with_a_point_beyond_3_sigma() -> None:
    """Indices 4 (3.5 sigma) and 5 (2.5): beyond-3-sigma at 4, and 2-of-3 from 4 to 5."""
    v = BACKGROUND.copy()
    v[4], v[5] = 3.5, 2.5
    assert _rules(v) == [("beyond_3_sigma", 4, 4, "above"),
                         ("two_of_three_beyond_2_sigma", 5, 4, "above")]


def test_special_causes_per_point_limits() -> None:
    """Per-point centre/sigma (as on a u or p chart): 1.0 is beyond 3 sigma where sigma is
    0.2 (centre 0.3: 0.3 + 0.6 = 0.9 < 1.0) but not where sigma is 0.3 (0.3 + 0.9 = 1.2)."""
    sigs = stats.special_causes([0.3, 1.0, 0.3, 1.0], [0.3] * 4, [0.2, 0.2, 0.3, 0.3])
    assert [(s.rule, s.index) for s in sigs if s.rule == "beyond_3_sigma"] == [("beyond_3_sigma", 1)]


# ----------------------------------------------------------------------------------------
# verdicts and wording
# ----------------------------------------------------------------------------------------


def _result(signals: list[Signal], n: int = 12, lcl: float = 10.0, ucl: float = 20.0) -> SpcResult:
    return SpcResult("xmr", [15.0] * n, [lcl] * n, [ucl] * n, [(ucl - lcl) / 6] * n, signals)


def test_variation_verdict() -> None:
    """Making Data Count: the latest point decides. A run above covering the last point is an
    improvement when higher is better, a concern when lower is better; a signal that ended
    before the last point leaves the series 'common cause'."""
    run = Signal("run_of_8", 11, 4, "above")
    values = [15.0] * 4 + [16.0] * 8
    assert stats.variation_verdict(_result([run]), values, "up") == "special_cause_improvement"
    assert stats.variation_verdict(_result([run]), values, "down") == "special_cause_concern"
    assert stats.variation_verdict(_result([run]), values, "neutral") == "special_cause_neutral"
    old = Signal("beyond_3_sigma", 3, 3, "below")
    assert stats.variation_verdict(_result([old]), values, "up") == "common_cause"
    assert stats.variation_verdict(_result([]), values, "up") == "common_cause"
    # a rising trend whose last point is still below the centre line, inside a run below:
    # conflicting signals -> the latest point's side (below) decides
    mixed = [Signal("trend_of_6", 11, 6, "up"), Signal("run_of_8", 11, 2, "below")]
    vals = [15.0] * 11 + [14.0]
    assert stats.variation_verdict(_result(mixed), vals, "up") == "special_cause_concern"
    assert stats.variation_verdict(_result(mixed), vals, "down") == "special_cause_improvement"


def test_assurance_verdict() -> None:
    """Process limits 10 to 20. Higher is better: target 5 is met even by the worst expected
    month (pass); 25 is missed even by the best (fail); 15 is hit and miss, and so is a
    target exactly on a limit. Lower is better mirrors this."""
    r = _result([])
    assert stats.assurance_verdict(r, 5, "up") == "pass"
    assert stats.assurance_verdict(r, 25, "up") == "fail"
    assert stats.assurance_verdict(r, 15, "up") == "hit_and_miss"
    assert stats.assurance_verdict(r, 10, "up") == "hit_and_miss"
    assert stats.assurance_verdict(r, 25, "down") == "pass"
    assert stats.assurance_verdict(r, 5, "down") == "fail"
    assert stats.assurance_verdict(r, 20, "down") == "hit_and_miss"
    assert stats.assurance_verdict(r, None, "up") == "no_target"
    assert stats.assurance_verdict(r, 15, "neutral") == "no_target"


def test_assurance_uses_latest_limits() -> None:
    """On a p chart the limits move with n; the latest (n = 40: 0.0446 to 0.4554, see
    test_p_chart_limits_vary_with_n_and_clip) decide, not the first (0 to 0.8995)."""
    r = stats.p_chart([1, 10], [4, 40])
    assert stats.assurance_verdict(r, 0.02, "up") == "pass"


def test_describe_signal() -> None:
    months = [date(2007 + (i + 3) // 12, (i + 3) % 12 + 1, 1) for i in range(24)]  # Apr 2007..
    assert months[1] == date(2007, 5, 1) and months[11] == date(2008, 3, 1)
    run = Signal("run_of_8", 8, 1, "above")
    assert (stats.describe_signal(run, months, "Burglary", "down")
            == "Burglary: 8 months above the average since May 2007 (a concern)")
    beyond = Signal("beyond_3_sigma", 11, 11, "above")
    assert (stats.describe_signal(beyond, months, "Detection rate", "up")
            == "Detection rate: a point beyond the upper control limit in March 2008 (an improvement)")
    trend = Signal("trend_of_6", 6, 1, "down")
    assert (stats.describe_signal(trend, None, "", "neutral")
            == "6 points in a row falling since point 2")
    two = Signal("two_of_three_beyond_2_sigma", 11, 9, "below")
    assert stats.describe_signal(two, months, "Robbery", "down") == (
        "Robbery: two of three months close to the lower control limit (beyond 2 sigma), "
        "January 2008 to March 2008 (an improvement)"
    )


# ----------------------------------------------------------------------------------------
# funnel plots (Spiegelhalter 2005)
# ----------------------------------------------------------------------------------------


def test_funnel_normal_limits_by_hand() -> None:
    """Spiegelhalter (2005) normal approximation, p0 = 0.1, n = 100:
    sqrt(0.1 * 0.9/100) = 0.03. 95%: 0.1 +/- 1.96 * 0.03 = (0.0412, 0.1588).
    99.8%: 0.1 +/- 3.090 * 0.03 = (0.00729, 0.19271)."""
    lim = stats.funnel_limits_proportion(0.1, 100, method="normal")
    assert float(lim[0.95][0]) == A(0.0412, abs=5e-5)
    assert float(lim[0.95][1]) == A(0.1588, abs=5e-5)
    assert float(lim[0.998][0]) == A(0.00729, abs=5e-5)
    assert float(lim[0.998][1]) == A(0.19271, abs=5e-5)


def _spiegelhalter_oracle(dist: object, p: float) -> float:
    """Spiegelhalter (2005) appendix, written out by brute force: scan r upward for the
    smallest r with F(r) >= p, then alpha = (F(r) - p)/(F(r) - F(r - 1)); return r - alpha."""
    r = 0
    while dist.cdf(r) < p:  # type: ignore[attr-defined]
        r += 1
    f_r, f_below = dist.cdf(r), dist.cdf(r - 1)  # type: ignore[attr-defined]
    return r - (f_r - p) / (f_r - f_below)


@pytest.mark.parametrize("n", [20, 100, 457, 2000])
def test_funnel_exact_binomial_limits(n: int) -> None:
    """Exact binomial limits with Spiegelhalter's interpolation, p0 = 0.1, against the brute
    force oracle above (scipy.stats.binom.cdf as the distribution only)."""
    dist = sps.binom(n, 0.1)
    lim = stats.funnel_limits_proportion(0.1, n)
    for level in (0.95, 0.998):
        a = (1 - level) / 2
        assert float(lim[level][0]) == A(max(0.0, _spiegelhalter_oracle(dist, a) / n), abs=1e-12)
        assert float(lim[level][1]) == A(_spiegelhalter_oracle(dist, 1 - a) / n, abs=1e-12)


def test_funnel_exact_close_to_normal_for_large_n() -> None:
    """For n = 10,000 the exact and normal limits agree to within about 1/n skew terms
    (0.1 +/- 1.96 * 0.003 = 0.09412, 0.10588)."""
    lim = stats.funnel_limits_proportion(0.1, 10_000)
    assert float(lim[0.95][0]) == A(0.09412, abs=2e-4)
    assert float(lim[0.95][1]) == A(0.10588, abs=2e-4)


def test_funnel_exact_poisson_rate_by_hand() -> None:
    """Rate 0.01 per person, 1,000 people: expected count 10. Poisson(10) CDF: F(15) = 0.9513,
    F(16) = 0.9730, F(17) = 0.9857. Upper 97.5% point: r = 17,
    alpha = (0.98572 - 0.975)/(0.98572 - 0.97296) = 0.840, limit (17 - 0.840)/1000 = 0.01616.
    Normal: 0.01 + 1.96 sqrt(0.01/1000) = 0.01620."""
    dist = sps.poisson(10)
    assert dist.cdf(16) == A(0.97296, abs=5e-5) and dist.cdf(17) == A(0.98572, abs=5e-5)
    lim = stats.funnel_limits_rate(0.01, 1000)
    assert float(lim[0.95][1]) == A(0.01616, abs=1e-5)
    assert float(lim[0.95][1]) == A(_spiegelhalter_oracle(dist, 0.975) / 1000, abs=1e-12)
    assert float(lim[0.95][0]) == A(_spiegelhalter_oracle(dist, 0.025) / 1000, abs=1e-12)
    norm = stats.funnel_limits_rate(0.01, 1000, method="normal")
    assert float(norm[0.95][1]) == A(0.01620, abs=1e-5)


def test_funnel_narrows_with_n() -> None:
    """Limits narrow as n grows (exact limits may wobble between neighbouring n because counts
    are whole numbers, so compare across decades)."""
    ns = np.array([10, 100, 1000, 10_000, 100_000])
    for method in ("exact", "normal"):
        lim = stats.funnel_limits_proportion(0.2, ns, method=method)  # type: ignore[arg-type]
        for level in (0.95, 0.998):
            lo, hi = lim[level]
            assert np.all(np.diff(hi - lo) < 0)
            assert np.all(lo <= 0.2) and np.all(hi >= 0.2)
        assert np.all(lim[0.998][1] >= lim[0.95][1])
    rates = stats.funnel_limits_rate(0.05, ns.astype(float))
    assert np.all(np.diff(rates[0.95][1] - rates[0.95][0]) < 0)


def test_funnel_position() -> None:
    """p0 = 0.1, n = 100, normal limits (0.0412, 0.1588) at 95% and (0.0073, 0.1927) at
    99.8%: 20/100 is above 99.8%, 17/100 above 95%, 10/100 within, 3/100 below 95%,
    0/100 below 99.8%."""
    pos = [stats.funnel_position(k, 100, 0.1, method="normal") for k in (20, 17, 10, 3, 0)]
    assert pos == ["above_99.8", "above_95", "within", "below_95", "below_99.8"]
    assert stats.funnel_position(10, 1000, 0.01, kind="rate") == "within"
    assert stats.funnel_position(30, 1000, 0.01, kind="rate") == "above_99.8"


def test_funnel_degenerate_targets() -> None:
    lim = stats.funnel_limits_proportion(1.0, [0, 10])
    assert math.isnan(lim[0.95][0][0]) and lim[0.95][0][1] == 1.0 and lim[0.95][1][1] == 1.0
    assert stats.funnel_limits_rate(0.0, 10.0)[0.95][1] == 0.0
    with pytest.raises(ValueError):
        stats.funnel_limits_proportion(0.1, 10.5)


# ----------------------------------------------------------------------------------------
# averages, projection, financial year
# ----------------------------------------------------------------------------------------


def test_weighted_average_equals_pooled_rate() -> None:
    """Two units: 10/100 = 0.1 and 150/300 = 0.5. Weighted by denominator: (10 + 150)/400 =
    0.4, not the unweighted 0.3."""
    assert stats.weighted_average([0.1, 0.5], [100, 300]) == A(0.4)
    assert stats.pooled_rate([10, 150], [100, 300]) == A(0.4)
    assert math.isnan(stats.weighted_average([0.1], [0]))


def _nelson_oracle(x: int, rho: float, conf: float) -> tuple[int, int]:
    """Nelson (1970) exact prediction interval by a plain linear scan over y."""
    a, pi = (1 - conf) / 2, 1 / (1 + rho)
    ys = range(0, 10 * (x + 10))
    upper = max(y for y in ys if sps.binom.cdf(x, x + y, pi) > a)
    lower = min(y for y in ys if sps.binom.sf(x - 1, x + y, pi) > a)
    return lower, upper


def test_project_year_end_flat() -> None:
    """Six months of 100: 600 so far, 600 more at the same rate -> 1,200. Interval: 600 plus
    the Nelson (1970) interval for the remaining count. Rough hand check: the variance of the
    prediction error is 600 (Poisson noise to come) + 600 (uncertainty in the rate) = 1200,
    1.96 * sqrt(1200) = 68, so roughly 1,132 to 1,268."""
    p = stats.project_year_end([100] * 6)
    assert p.point == 1200.0 and p.method == "flat"
    lo, hi = _nelson_oracle(600, 1.0, 0.95)
    assert (p.lower, p.upper) == (600 + lo, 600 + hi)
    assert p.lower == A(1132, abs=5) and p.upper == A(1268, abs=5)


def test_project_year_end_smallest_case_by_hand() -> None:
    """Two-month 'year', first month 0. Given N = y more events, all N fall in month 2 with
    probability (1/2)^N; y stays in the interval while (1/2)^y > 0.025, i.e.
    y < ln 0.025 / ln 0.5 = 5.32 -> upper 5, lower 0."""
    p = stats.project_year_end([0], months_in_year=2)
    assert (p.point, p.lower, p.upper) == (0.0, 0.0, 5.0)


def test_project_year_end_seasonal() -> None:
    """Last year: 50 a month April-September, 100 a month October-March, so the second half
    is twice the first: ratio 600/300 = 2. This year 300 so far -> 300 + 600 = 900 (a flat
    projection would say 600)."""
    p = stats.project_year_end([50] * 6, last_year=[50] * 6 + [100] * 6)
    assert p.point == 900.0 and p.method == "seasonal"
    lo, hi = _nelson_oracle(300, 2.0, 0.95)
    assert (p.lower, p.upper) == (300 + lo, 300 + hi)
    assert stats.project_year_end([50] * 6, last_year=[0] * 6 + [100] * 6).method == "flat"


def test_project_year_end_complete_and_probability() -> None:
    """A complete year is its own projection; probability of meeting is then 0 or 1. For the
    flat projection above (1,200), a ceiling of 1,200 is met with probability 1/2, and a
    ceiling at the upper 95% limit with probability 0.975 (one-sided)."""
    done = stats.project_year_end([100] * 12)
    assert (done.point, done.lower, done.upper, done.method) == (1200.0, 1200.0, 1200.0, "complete")
    assert stats.probability_of_meeting(done, 1200, "down") == 1.0
    assert stats.probability_of_meeting(done, 1199, "down") == 0.0
    p = stats.project_year_end([100] * 6)
    assert stats.probability_of_meeting(p, 1200, "down") == A(0.5)
    assert stats.probability_of_meeting(p, p.upper, "down") == A(0.975)
    assert stats.probability_of_meeting(p, p.lower, "up") == A(0.975)
    with pytest.raises(ValueError):
        stats.probability_of_meeting(p, 1000, "neutral")
    with pytest.raises(ValueError):
        stats.project_year_end([10.5, 3])


@pytest.mark.parametrize(
    ("d", "fy", "q"),
    [
        (date(2007, 3, 31), "2006/07", 4),
        (date(2007, 4, 1), "2007/08", 1),
        (date(1999, 12, 1), "1999/00", 3),
        (date(2008, 3, 1), "2007/08", 4),
        (date(2007, 7, 1), "2007/08", 2),
        (date(2007, 6, 30), "2007/08", 1),
    ],
)
def test_financial_year_and_quarter(d: date, fy: str, q: int) -> None:
    assert stats.financial_year(d) == fy
    assert stats.fy_quarter(d) == q


# ----------------------------------------------------------------------------------------
# properties
# ----------------------------------------------------------------------------------------

counts = st.integers(min_value=0, max_value=5000)
confs = st.floats(min_value=0.5, max_value=0.999)


@NO_DEADLINE
@given(st.integers(min_value=1, max_value=5000).flatmap(
    lambda n: st.tuples(st.integers(min_value=0, max_value=n), st.just(n))), confs)
def test_wilson_contains_estimate(kn: tuple[int, int], conf: float) -> None:
    k, n = kn
    lo, hi = stats.wilson_interval(k, n, conf)
    assert 0.0 <= lo <= k / n <= hi <= 1.0


@NO_DEADLINE
@given(st.integers(min_value=1, max_value=2000).flatmap(
    lambda n: st.tuples(st.integers(min_value=0, max_value=n), st.just(n))), confs, confs)
def test_wilson_widens_with_conf(kn: tuple[int, int], c1: float, c2: float) -> None:
    k, n = kn
    c1, c2 = sorted((c1, c2))
    lo1, hi1 = stats.wilson_interval(k, n, c1)
    lo2, hi2 = stats.wilson_interval(k, n, c2)
    assert lo2 <= lo1 + 1e-12 and hi2 >= hi1 - 1e-12


@NO_DEADLINE
@given(counts, confs, confs)
def test_poisson_contains_count_and_widens(k: int, c1: float, c2: float) -> None:
    c1, c2 = sorted((c1, c2))
    lo1, hi1 = stats.poisson_interval(k, c1)
    lo2, hi2 = stats.poisson_interval(k, c2)
    assert 0.0 <= lo1 <= k <= hi1
    assert lo2 <= lo1 + 1e-9 and hi2 >= hi1 - 1e-9


@NO_DEADLINE
@given(counts, counts, st.floats(min_value=0.1, max_value=10), st.floats(min_value=0.1, max_value=10))
def test_compare_counts_symmetric(k1: int, k0: int, t1: float, t0: float) -> None:
    a = stats.compare_counts(k1, k0)
    b = stats.compare_counts(k0, k1)
    assert 0.0 <= a.p_value <= 1.0
    assert a.p_value == A(b.p_value, rel=1e-7, abs=1e-300)
    c = stats.compare_counts(k1, k0, t1, t0)
    d = stats.compare_counts(k0, k1, t0, t1)
    assert c.p_value == A(d.p_value, rel=1e-6, abs=1e-300)
    assert 0.0 <= c.p_value <= 1.0


@NO_DEADLINE
@given(st.integers(1, 500).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))),
       st.integers(1, 500).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))))
def test_compare_proportions_p_in_range(a: tuple[int, int], b: tuple[int, int]) -> None:
    ch = stats.compare_proportions(a[0], a[1], b[0], b[1])
    assert 0.0 <= ch.p_value <= 1.0
    assert ch.significant == (ch.p_value < 0.05)
    assert (ch.direction == "none") == (not ch.significant or ch.abs_change == 0)


series = st.lists(st.integers(min_value=0, max_value=200), min_size=2, max_size=40)


@NO_DEADLINE
@given(series)
def test_spc_limits_symmetric_before_clipping(xs: list[int]) -> None:
    n = [max(x, 1) * 2 for x in xs]
    for r, lo_clip, hi_clip in (
        (stats.c_chart(xs), 0.0, math.inf),
        (stats.u_chart(xs, [x + 1.5 for x in xs]), 0.0, math.inf),
        (stats.p_chart(xs, n), 0.0, 1.0),
        (stats.xmr_chart(xs), -math.inf, math.inf),
    ):
        for c, lo, hi, s in zip(r.centre, r.lcl, r.ucl, r.sigma, strict=True):
            assert hi == A(min(c + 3 * s, hi_clip), rel=1e-12, abs=1e-12)
            assert lo == A(max(c - 3 * s, lo_clip), rel=1e-12, abs=1e-12)


@NO_DEADLINE
@given(st.floats(min_value=0, max_value=1e6, allow_nan=False), st.integers(2, 40))
def test_no_signals_on_constant_series(value: float, length: int) -> None:
    xs = [value] * length
    assert stats.xmr_chart(xs).signals == []
    assert stats.c_chart(xs).signals == []
    assert stats.u_chart(xs, [3.0] * length).signals == []
    k = min(value, 100.0)
    assert stats.p_chart([k] * length, [100.0] * length).signals == []


@settings(max_examples=50, deadline=None)
@given(st.integers(0, 3000), st.integers(1, 11), st.floats(0.8, 0.99))
def test_projection_interval_contains_point(so_far: int, m: int, conf: float) -> None:
    monthly = [so_far // m] * (m - 1) + [so_far - (so_far // m) * (m - 1)]
    p = stats.project_year_end(monthly, conf=conf)
    assert so_far <= p.lower <= p.point <= p.upper


def test_false_alarm_rate_of_beyond_3_sigma() -> None:
    """2,000 in-control Poisson(20) series of 24 months, c chart with limits estimated from
    each series. With normal data 1 - (1 - 0.0027)^24 = 0.063 of series would show a point
    beyond 3 sigma; Poisson skew and estimated limits move that a little. Seeded."""
    rng = np.random.default_rng(20071001)
    data = rng.poisson(20, size=(2000, 24))
    hits = sum(any(s.rule == "beyond_3_sigma" for s in stats.c_chart(row).signals) for row in data)
    assert 0.03 <= hits / 2000 <= 0.12


def test_mean_interval_from_sums_hand_worked() -> None:
    """Values 1..5: mean 3, s^2 = 2.5, se = sqrt(0.5) = 0.70711, t(0.975, 4) = 2.7764
    (any t table) -> 3 +/- 1.9632 = (1.0368, 4.9632)."""
    lo, hi = stats.mean_interval_from_sums(15, 5, 55)
    assert lo == pytest.approx(1.0368, abs=1e-4)
    assert hi == pytest.approx(4.9632, abs=1e-4)
    assert all(math.isnan(x) for x in stats.mean_interval_from_sums(3, 1, 9))


def test_compare_means_from_sums_matches_welch_on_raw_values() -> None:
    """The oracle is scipy's Welch test on the raw values (a different path: raw data,
    not sums)."""
    from scipy.stats import ttest_ind

    a = [12.0, 15.0, 11.0, 19.0, 14.0, 13.0, 18.0]
    b = [9.0, 11.0, 10.0, 8.0, 12.0, 10.0]
    expected = ttest_ind(a, b, equal_var=False).pvalue
    got = stats.compare_means_from_sums(sum(a), len(a), sum(x * x for x in a),
                                        sum(b), len(b), sum(x * x for x in b))
    assert got is not None
    assert got.p_value == pytest.approx(expected, rel=1e-9)
    assert got.significant and got.direction == "up" and got.method == "welch_t"
    assert stats.compare_means_from_sums(1, 1, 1, 2, 5, 10) is None


# -- XmR with Making Data Count's screening of moving ranges ----------------------------------------

# R: set.seed(123); rnorm(20): the data of NHSRplotthedots' tests/testthat/test-ptd_spc_standard.R.
_NHSR_Y = [-0.56047565, -0.23017749, 1.55870831, 0.07050839, 0.12928774, 1.71506499, 0.46091621,
           -1.26506123, -0.68685285, -0.44566197, 1.22408180, 0.35981383, 0.40077145, 0.11068272,
           -0.55584113, 1.78691314, 0.49785048, -1.96661716, 0.70135590, -0.47279141]


@pytest.mark.parametrize(("outlier", "screen", "mean", "lower", "upper"), [
    # NHSRplotthedots' snapshot (tests/testthat/_snaps/ptd_spc_standard.md): r1, r2, r3.
    (None, True, 0.1416238, -3.01138, 3.294627),
    (10.0, True, 0.6694159, -2.383666, 3.722497),
    (10.0, False, 0.6694159, -4.596625, 5.935457),
])
def test_xmr_screened_limits_match_nhsrplotthedots(outlier: float | None, screen: bool, mean: float,
                                                   lower: float, upper: float) -> None:
    y = list(_NHSR_Y)
    if outlier is not None:
        y[14] = outlier
    res = stats.xmr_chart(y, screen_outliers=screen)
    # They draw mean +/- 2.66 mR-bar; we draw mean +/- 3 mR-bar / 1.128 (= 2.6596 mR-bar): the
    # limits agree to 0.02% of their half-width.
    half = upper - mean
    assert res.centre[0] == pytest.approx(mean, abs=1e-6)
    assert res.lcl[0] == pytest.approx(lower, abs=2e-4 * half)
    assert res.ucl[0] == pytest.approx(upper, abs=2e-4 * half)


def test_screening_changes_nothing_without_a_freak_range() -> None:
    y = [5.0, 6.0, 5.5, 6.5, 5.0, 6.0, 5.5]
    a, b = stats.xmr_chart(y), stats.xmr_chart(y, screen_outliers=True)
    assert list(a.ucl) == list(b.ucl) and list(a.lcl) == list(b.lcl)


# -- funnel over-dispersion (Spiegelhalter 2005) ----------------------------------------------------

# FunnelPlotR's tests/testthat/test-classes_methods.R: six units, indirectly standardised ratios
# (observed / expected), SHMI method (log scale, z = sqrt(E) * log(O / E), truncation): phi = 2.948033.
_FP_OBSERVED = [100, 150, 180, 80, 120, 225]
_FP_EXPECTED = [108, 112, 165, 95, 100, 220]


def test_overdispersion_phi_matches_funnelplotr() -> None:
    z = [math.sqrt(e) * math.log(o / e) for o, e in zip(_FP_OBSERVED, _FP_EXPECTED, strict=True)]
    s = [1 / math.sqrt(e) for e in _FP_EXPECTED]
    od = stats.overdispersion(z, s, trim=0.1, method="truncate")
    assert round(od.phi, 6) == 2.948033
    # tau^2 by hand: k phi - (k - 1) over sum(w) - sum(w^2)/sum(w), w = 1/s^2 = E.
    w = _FP_EXPECTED
    expected_tau2 = (6 * 2.948033175 - 5) / (sum(w) - sum(x * x for x in w) / sum(w))
    assert od.tau2 == pytest.approx(expected_tau2, rel=1e-8)
    assert od.k == 6 and od.overdispersed and od.p_value < 0.05


def test_no_overdispersion_when_z_scores_are_small() -> None:
    od = stats.overdispersion([0.2, -0.5, 0.1, 0.4, -0.3, 0.0], [0.1] * 6)
    assert od.tau2 == 0.0 and not od.overdispersed and od.phi < 1


def test_winsorising_pulls_an_extreme_unit_in() -> None:
    z = [-1.0, -0.5, 0.0, 0.5, 1.0, 0.2, -0.2, 0.3, -0.3, 25.0]
    raw = sum(x * x for x in z) / len(z)
    od = stats.overdispersion(z, [0.05] * len(z), trim=0.1)
    # The 90th percentile (R type 7) of these ten values: 1.0 + 0.1 * (25 - 1) = 3.4.
    clipped = [min(max(x, -0.55), 3.4) for x in z]  # 10th percentile: -1 + 0.9 * 0.5 = -0.55
    assert od.phi == pytest.approx(sum(x * x for x in clipped) / len(z))
    assert od.phi < raw / 10


# -- over-dispersed funnel limits (Spiegelhalter 2005, QSHC; FunnelPlotR) --------------------------


def test_log_scale_z_scores_give_funnelplotrs_published_phi_and_wider_limits() -> None:
    # The same six units as a rate of 1 per unit of expected count: O / E on the SHMI log scale.
    z, s = stats.funnel_z_scores(_FP_OBSERVED, _FP_EXPECTED, 1.0, "rate", scale="log")
    od = stats.overdispersion(z, s, trim=0.1, method="truncate")
    assert round(od.phi, 6) == 2.948033                    # FunnelPlotR's test-classes_methods.R
    lim = stats.funnel_limits_overdispersed(1.0, 100.0, od.tau2, "rate", scale="log")
    # FunnelPlotR calculate_limits.R, SHMI: exp(-/+ 1.959964 sqrt(1/E + tau2)), here at E = 100.
    assert float(lim[0.95][0]) == pytest.approx(math.exp(-1.959964 * math.sqrt(0.01 + od.tau2)), rel=1e-6)
    assert float(lim[0.998][1]) == pytest.approx(math.exp(3.090232 * math.sqrt(0.01 + od.tau2)), rel=1e-6)
    # FunnelPlotR's test-funnel_plot.R: the unadjusted 95% lower limit of unit 5 (E = 100) lies
    # above the adjusted one.
    exact = stats.funnel_limits_rate(1.0, 100.0)
    assert float(exact[0.95][0]) > float(lim[0.95][0])


def test_square_root_scale_is_spiegelhalters_winsorised_method() -> None:
    # Spiegelhalter (2005, QSHC) for a standardised ratio: z = 2 (sqrt(O) - sqrt(E)),
    # s = 1 / (2 sqrt(E)); phi from z winsorised at 10% each end; worked by hand here.
    z, s = stats.funnel_z_scores(_FP_OBSERVED, _FP_EXPECTED, 1.0, "rate")
    by_hand = [2 * (math.sqrt(o) - math.sqrt(e)) for o, e in zip(_FP_OBSERVED, _FP_EXPECTED, strict=True)]
    assert list(z) == pytest.approx(by_hand)
    assert list(s) == pytest.approx([1 / (2 * math.sqrt(e)) for e in _FP_EXPECTED])
    # R's type-7 10% and 90% quantiles of six values: x(1) + 0.5 (x(2) - x(1)), x(5) + 0.5 (x(6) - x(5)).
    zs = sorted(by_hand)
    lo, hi = zs[0] + 0.5 * (zs[1] - zs[0]), zs[4] + 0.5 * (zs[5] - zs[4])
    phi = sum(min(max(x, lo), hi) ** 2 for x in by_hand) / 6
    w = [4 * e for e in _FP_EXPECTED]
    tau2 = (6 * phi - 5) / (sum(w) - sum(x * x for x in w) / sum(w))
    od = stats.overdispersion(z, s)
    assert od.phi == pytest.approx(phi) and od.tau2 == pytest.approx(tau2)
    assert od.overdispersed
    lim = stats.funnel_limits_overdispersed(1.0, [100.0], od.tau2, "rate")
    half = 3.090232 * math.sqrt(1 / 400 + tau2)
    assert float(lim[0.998][0][0]) == pytest.approx((1 - half) ** 2, rel=1e-6)
    assert float(lim[0.998][1][0]) == pytest.approx((1 + half) ** 2, rel=1e-6)


def test_proportion_limits_on_the_arcsine_scale() -> None:
    # FunnelPlotR's "PR": sin(asin(sqrt(p0)) +/- z sqrt(1/(4n) + tau2))^2.
    lim = stats.funnel_limits_overdispersed(0.3, [50.0, 400.0], 0.004, "proportion")
    c = math.asin(math.sqrt(0.3))
    for i, n in enumerate((50.0, 400.0)):
        half = 1.959964 * math.sqrt(1 / (4 * n) + 0.004)
        assert float(lim[0.95][0][i]) == pytest.approx(math.sin(c - half) ** 2, rel=1e-6)
        assert float(lim[0.95][1][i]) == pytest.approx(math.sin(c + half) ** 2, rel=1e-6)
    # tau2 = 0 at a large n: the normal limits on that scale approach the exact binomial ones.
    flat = stats.funnel_limits_overdispersed(0.3, 5000.0, 0.0, "proportion")
    exact = stats.funnel_limits_proportion(0.3, 5000.0)
    assert float(flat[0.998][1]) == pytest.approx(float(exact[0.998][1]), abs=2e-3)
    # limits stay inside [0, 1] however wide
    wide = stats.funnel_limits_overdispersed(0.02, 10.0, 0.5, "proportion")
    assert float(wide[0.998][0]) == 0.0 and 0.0 < float(wide[0.998][1]) <= 1.0
    z, s = stats.funnel_z_scores([30], [100], 0.3, "proportion")
    assert float(z[0]) == pytest.approx(0.0, abs=1e-12) and float(s[0]) == pytest.approx(0.05)


def test_position_follows_the_adjusted_limits() -> None:
    # 150 events against 112 expected is far outside the plain Poisson funnel ...
    assert stats.funnel_position(150, 112, 1.0, "rate") == "above_99.8"
    # ... but inside the 99.8% limits once tau2 = 0.002 is added: O/E = 1.339 against
    # (1 + 1.96 sqrt(1/448 + 0.002))^2 = 1.272 and (1 + 3.09 sqrt(...))^2 = 1.443.
    assert stats.funnel_position(150, 112, 1.0, "rate", tau2=0.002) == "above_95"
    assert stats.funnel_position(150, 112, 1.0, "rate", tau2=0.01) == "within"
