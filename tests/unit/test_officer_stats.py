"""The officer level's pure statistics (dashboard/analysis/officers.py)."""

from __future__ import annotations

import math

import pytest

from dashboard.analysis import officers


def test_a_rate_below_the_minimum_is_not_shown() -> None:
    few = officers.Rate(3, 12, officers.MIN_CRIMES)
    assert not few.shown and math.isnan(few.value)
    assert few.text().startswith("too few to judge: 3 of 12")
    enough = officers.Rate(50, 200, officers.MIN_CRIMES)
    lo, hi = enough.interval
    # Wilson 95% for 50/200, by hand: centre (0.25 + 1.96^2/400) / (1 + 1.96^2/200) = 0.25471,
    # half-width 1.96 * sqrt(0.25 * 0.75 / 200 + 1.96^2 / 160000) / 1.019208 = 0.05963
    assert enough.value == 0.25
    assert lo == pytest.approx(0.1951, abs=1e-4) and hi == pytest.approx(0.3143, abs=1e-4)
    assert "25.0% (95% interval 19.5% to 31.4%; 50 of 200)" == enough.text()


@pytest.mark.parametrize(("name", "role"), [("Response A", "Response"), ("Response B", "Response"),
                                            ("CID", "CID"), ("Neighbourhood", "Neighbourhood"),
                                            ("Team 2", "Team")])
def test_team_role(name: str, role: str) -> None:
    assert officers.team_role(name) == role


@pytest.mark.parametrize(("size", "band"), [(5, "1-7 officers"), (7, "1-7 officers"), (8, "8-10 officers"),
                                            (11, "11+ officers"), (30, "11+ officers")])
def test_size_band(size: int, band: str) -> None:
    assert officers.size_band(size) == band


def test_the_funnel_position() -> None:
    # peers' pooled rate 25%; at n = 100 the binomial sd is 4.3 points, so 45% is > 4 sd above
    far = officers.funnel(250, 1000, 45, 100, officers.MIN_CRIMES, 150)
    assert far.p0 == 0.25 and far.position == "above_99.8" and "higher than officers" in far.words
    usual = officers.funnel(250, 1000, 26, 100, officers.MIN_CRIMES, 150)
    assert usual.position == "within"
    low = officers.funnel(250, 1000, 10, 100, officers.MIN_CRIMES)
    assert low.position == "below_99.8"
    few = officers.funnel(250, 1000, 5, 10, officers.MIN_CRIMES)
    assert few.position is None and few.words == officers.TOO_FEW
    lo95, hi95 = few.limits[0.95]
    assert len(lo95) == len(few.curve_n) and (lo95 <= 0.25).all() and (hi95 >= 0.25).all()
