"""Crime harm on the Compare page's funnel: the compound Poisson (scaled Poisson) treatment in
dashboard/analysis/peer_comparison.py, checked against the plain count funnel it must reduce to
when every crime weighs the same (then harm is w times a count: its interval is w times the
count's, and its funnel position is the count's)."""

from __future__ import annotations

import math

import pytest

from dashboard.analysis import peer_comparison as cmp
from dashboard.analysis import stats
from etl.measures.registry import MEASURES

COUNT = cmp.basis(MEASURES["total_crime"])
HARM = cmp.basis(MEASURES["crime_harm"])


def test_harm_is_compared_with_the_compound_poisson_variance() -> None:
    assert HARM.weighted and not COUNT.weighted
    assert "compound Poisson" in HARM.note


def test_kappa_is_the_sum_of_squares_over_the_sum() -> None:
    # weights 1, 2, 3 in one unit and 4 in another: V = 1 + 4 + 9 + 16 = 30, S = 10
    assert cmp.kappa([6.0, 4.0], [14.0, 16.0]) == pytest.approx(3.0)
    assert math.isnan(cmp.kappa([0.0], [0.0]))
    assert math.isnan(cmp.kappa([], []))


@pytest.mark.parametrize("crimes, w", [(12, 5.0), (150, 80.4), (3, 972.2)])
def test_with_equal_weights_the_interval_is_w_times_the_counts(crimes: int, w: float) -> None:
    n = 57.1   # person-thousands
    lo, hi = cmp._interval(crimes * w, n, HARM, 1, crimes * w * w)
    clo, chi = cmp._interval(float(crimes), n, COUNT, 1)
    assert lo == pytest.approx(w * clo, rel=1e-9) and hi == pytest.approx(w * chi, rel=1e-9)
    # and it is Garwood's: the count interval / exposure
    g = stats.poisson_interval(crimes)
    assert clo == pytest.approx(g[0] / n) and chi == pytest.approx(g[1] / n)


@pytest.mark.parametrize("crimes", [0, 3, 40, 55, 61, 75, 90, 140])
def test_with_equal_weights_the_funnel_position_is_the_counts(crimes: int) -> None:
    w, n, r0 = 43.2, 57.1, 1.0   # expected 57.1 crimes
    harm = cmp._position(crimes * w, n, r0 * w, HARM, kap=w)
    count = cmp._position(float(crimes), n, r0, COUNT)
    assert harm == count


def test_unequal_weights_widen_the_limits() -> None:
    # 60 effective crimes' worth of harm above the target is a signal for a count-like mix
    # (kappa = 1) but not once one crime in ten weighs 100 times the rest (kappa ~ 91)
    n, p0 = 50.0, 1.0
    s = 1.6 * p0 * n
    assert cmp._position(s, n, p0, HARM, kap=1.0) == "above_99.8"
    weights = [1.0] * 9 + [100.0]
    kap = sum(x * x for x in weights) / sum(weights)
    assert cmp._position(s, n, p0, HARM, kap=kap) == "within"
