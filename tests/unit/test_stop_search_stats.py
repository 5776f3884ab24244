"""dashboard.stats.rate_ratio: the log (Katz) interval for a ratio of two rates.

The published-figure check (BlackThrive's 923 local-authority ratios) is in
tests/realdata/test_stop_search_rate_ratio.py; this file checks the method by hand and by
its properties.
"""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dashboard.analysis.stats import rate_ratio

# No per-example deadline: on two cores shared by several test runs an example's wall time
# measures the machine's load, not the code (test_wilson_contains_estimate once failed so).
NO_DEADLINE = settings(deadline=None)


def test_hand_worked_two_by_two_table() -> None:
    # A cohort 2x2 table (the layout of Rothman, Greenland & Lash, Modern Epidemiology, ch. 14):
    #                 cases   total
    #   exposed         30      200     risk 30/200 = 0.15
    #   unexposed       15      300     risk 15/300 = 0.05
    # RR = 0.15 / 0.05 = 3.0
    # Var(ln RR) = 1/a - 1/N1 + 1/b - 1/N0 = 1/30 - 1/200 + 1/15 - 1/300
    #            = 0.0333333 - 0.005 + 0.0666667 - 0.0033333 = 0.0916667
    # SE = sqrt(0.0916667) = 0.302765;  z(0.975) = 1.959964;  z * SE = 0.593409
    # low  = 3.0 * exp(-0.593409) = 3.0 * 0.552441 = 1.657323
    # high = 3.0 * exp(+0.593409) = 3.0 * 1.810148 = 5.430444
    ratio, low, high = rate_ratio(30, 200, 15, 300)
    assert ratio == pytest.approx(3.0, rel=1e-12)
    assert low == pytest.approx(1.657323, abs=5e-7)
    assert high == pytest.approx(5.430444, abs=5e-7)


def test_stop_search_shaped_example_and_confidence_level() -> None:
    # 47 searches of 5,258 Black residents vs 690 of 375,780 White residents (Cheshire East
    # 2019 in BlackThrive's table): RR = (47/5258) / (690/375780) = 0.0089388 / 0.0018362
    # = 4.868126. Var = 1/47 - 1/5258 + 1/690 - 1/375780 = 0.0212766 - 0.0001902 + 0.0014493
    # - 0.0000027 = 0.0225330; SE = 0.150110; 95%: 4.868126 * exp(+-0.294212) = 3.627, 6.533.
    ratio, low, high = rate_ratio(47, 5258, 690, 375780)
    assert ratio == pytest.approx(4.868126, abs=5e-7)
    assert (low, high) == (pytest.approx(3.6273, abs=5e-5), pytest.approx(6.5333, abs=5e-5))
    # a wider confidence level gives a wider interval around the same ratio
    r99, low99, high99 = rate_ratio(47, 5258, 690, 375780, confidence=0.99)
    assert r99 == ratio and low99 < low and high99 > high
    # and the interval is symmetric on the log scale
    assert math.log(ratio) - math.log(low) == pytest.approx(math.log(high) - math.log(ratio))


def test_zero_counts_are_explicit() -> None:
    ratio, low, high = rate_ratio(0, 1383, 800, 123817)
    assert ratio == 0.0 and math.isnan(low) and math.isnan(high)
    ratio, low, high = rate_ratio(7, 1383, 0, 123817)
    assert ratio == math.inf and math.isnan(low) and math.isnan(high)
    assert all(math.isnan(x) for x in rate_ratio(0, 1383, 0, 123817))


def test_more_searches_than_residents_gives_no_interval() -> None:
    # City of London-like: 400 searches of a group of 334 residents. The ratio is still the
    # ratio of rates; the searched / not-searched table does not exist, so no interval.
    ratio, low, high = rate_ratio(400, 334, 1000, 6000)
    assert ratio == pytest.approx((400 / 334) / (1000 / 6000))
    assert math.isnan(low) and math.isnan(high)


@pytest.mark.parametrize("args", [
    (-1, 100, 5, 100), (1.5, 100, 5, 100), (1, 0, 5, 100), (1, 100, 5, -3),
    (1, float("nan"), 5, 100), (1, 100, 5, math.inf), (1, "x", 5, 100),
])
def test_bad_input_raises(args: tuple) -> None:
    with pytest.raises(ValueError):
        rate_ratio(*args)


def test_bad_confidence_raises() -> None:
    with pytest.raises(ValueError):
        rate_ratio(5, 100, 5, 100, confidence=1.0)


@st.composite
def _groups(draw: st.DrawFn) -> tuple[int, int, int, int]:
    a = draw(st.integers(1, 100_000))
    b = draw(st.integers(1, 100_000))
    pop_a = draw(st.integers(a, 10_000_000))
    pop_b = draw(st.integers(b, 10_000_000))
    return a, pop_a, b, pop_b


@NO_DEADLINE
@given(_groups(), st.sampled_from([0.8, 0.95, 0.998]))
def test_swapping_groups_inverts_the_ratio_and_its_interval(groups: tuple, conf: float) -> None:
    a, pop_a, b, pop_b = groups
    ratio, low, high = rate_ratio(a, pop_a, b, pop_b, conf)
    r2, low2, high2 = rate_ratio(b, pop_b, a, pop_a, conf)
    # exp(log r +- z*se) computed twice in floating point: equal to about 1e-15 per step, and
    # hypothesis finds extreme counts where the error grows past 1e-12; 1e-9 is still exact enough
    assert r2 == pytest.approx(1.0 / ratio, rel=1e-9)
    assert low2 == pytest.approx(1.0 / high, rel=1e-9)
    assert high2 == pytest.approx(1.0 / low, rel=1e-9)
    assert low <= ratio <= high


@NO_DEADLINE
@given(_groups())
def test_equal_rates_give_one_and_an_interval_around_it(groups: tuple) -> None:
    a, pop_a, _, _ = groups
    ratio, low, high = rate_ratio(a, pop_a, 2 * a, 2 * pop_a)
    assert ratio == pytest.approx(1.0, rel=1e-12)
    assert low <= 1.0 <= high
