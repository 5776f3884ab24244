"""The concentration statistics against hand-worked textbook cases (not values from the code)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from dashboard.analysis import concentration as c


def test_gini_hand_worked_example() -> None:
    # 1, 2, 3, 4: the sum of |xi - xj| over the 12 ordered pairs with i != j is 20;
    # 2 N^2 mean = 2 x 16 x 2.5 = 80, so G = 20 / 80 = 0.25.
    assert c.gini([4, 1, 3, 2]) == pytest.approx(0.25)


def test_gini_equal_counts_is_zero_and_all_in_one_is_n_minus_1_over_n() -> None:
    assert c.gini([7, 7, 7, 7, 7]) == pytest.approx(0.0)
    assert c.gini([0, 0, 0, 0, 9]) == pytest.approx(4 / 5)
    assert c.gini([0] * 99 + [1]) == pytest.approx(99 / 100)


def test_gini_of_nothing_is_undefined() -> None:
    assert math.isnan(c.gini([]))
    assert math.isnan(c.gini([0, 0, 0]))


def test_lorenz_points_hand_worked() -> None:
    # sorted 1, 2, 3, 4 (total 10): cumulative 1, 3, 6, 10
    x, y = c.lorenz([3, 1, 4, 2])
    assert list(x) == pytest.approx([0, 0.25, 0.5, 0.75, 1])
    assert list(y) == pytest.approx([0, 0.1, 0.3, 0.6, 1])
    # G = 1 - 2 x area under the curve (trapezia: 0.125 x (0.1 + 0.4 + 0.9 + 1.6) = 0.375)
    area = float(np.sum((x[1:] - x[:-1]) * (y[1:] + y[:-1]) / 2))
    assert area == pytest.approx(0.375)
    assert 1 - 2 * area == pytest.approx(c.gini([3, 1, 4, 2]))


def test_concentration_curve_reads_the_top_share() -> None:
    # 20 LSOAs, one with 10 crimes and the rest with none: the top 5% (1 LSOA) holds all
    x, y = c.concentration_curve([10] + [0] * 19)
    assert x[0] == 0 and y[0] == 0 and x[-1] == 1 and y[-1] == 1
    assert y[1] == pytest.approx(1.0) and x[1] == pytest.approx(0.05)


def test_top_share_of_1_to_20() -> None:
    values = list(range(1, 21))     # total 210
    five = c.top_share(values, 0.05)
    ten = c.top_share(values, 0.10)
    assert (five.k, five.n) == (1, 20)
    assert five.share == pytest.approx(20 / 210)
    assert (ten.k, ten.n) == (2, 20)
    assert ten.share == pytest.approx((20 + 19) / 210)


def test_top_k_rounds_up_to_whole_units() -> None:
    assert c.top_k(20, 0.05) == 1       # 1.0 exactly, despite binary 0.05 x 20
    assert c.top_k(30, 0.05) == 2       # 1.5 -> 2: never fewer than the fraction asked
    assert c.top_k(231, 0.05) == 12     # 11.55 -> 12
    assert c.top_k(652, 0.10) == 66     # 65.2 -> 66
    assert c.top_k(3, 0.05) == 1        # at least one
    assert c.top_k(0, 0.05) == 0
    with pytest.raises(ValueError, match="fraction"):
        c.top_k(10, 0)


def test_top_share_does_not_depend_on_ties() -> None:
    # 10 LSOAs: the top 10% is 1 LSOA; three tie on 5 at the boundary
    values = [5, 1, 5, 0, 5, 2, 0, 0, 1, 1]
    t = c.top_share(values, 0.10)
    assert t.k == 1 and t.held == 5 and t.share == pytest.approx(5 / 20)
    assert t.ties_at_boundary == 2     # two more LSOAs hold 5 and could have been listed
    # listing: ties broken by code, so the same LSOA is listed every time
    codes = ["E9", "E1", "E3", "E0", "E2", "E8", "E7", "E6", "E5", "E4"]
    order = c.top_order(codes, values)
    assert [codes[i] for i in order[:3]] == ["E2", "E3", "E9"]


def test_top_share_with_no_crime_is_undefined_not_zero() -> None:
    t = c.top_share([0, 0, 0, 0], 0.05)
    assert t.k == 1 and math.isnan(t.share)


def test_bad_values_are_refused() -> None:
    with pytest.raises(ValueError, match="not negative"):
        c.top_share([1, -1], 0.05)
    with pytest.raises(ValueError, match="finite"):
        c.gini([1, float("nan")])


def test_repeat_locations() -> None:
    # five points: 1, 1, 2, 3 and 6 crimes (13 in all): three repeat points hold 11
    r = c.repeats([1, 3, 1, 6, 2])
    assert (r.locations, r.repeat_locations, r.crimes, r.crimes_at_repeats) == (5, 3, 13, 11)
    assert r.share == pytest.approx(11 / 13)
    assert math.isnan(c.repeats([]).share)
    with pytest.raises(ValueError):
        c.repeats([0, 2])
