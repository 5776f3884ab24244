"""The Poisson CUSUM (dashboard/analysis/cusum.py) and its rule in the exceptions scan.

Expected values come from outside the code under test: a CUSUM worked by hand below, the
reference value from its defining property (the Poisson likelihood ratio is 1 at x = k) and
arithmetic, published ARLs of the normal CUSUM (Brook & Evans 1972; Lucas & Crosier 1982) which a
Poisson CUSUM at a large mean must approach, the one-sided ARL of the 3-sigma rule
(1 / 0.00135 = 740.8), and simulation with a fixed seed.
"""

from __future__ import annotations

import math
from datetime import date

import numpy as np
import pytest

from dashboard.analysis import cusum, cusum_table
from dashboard.analysis import exception_scan as ew
from dashboard.periods import add_months
from etl.measures.registry import MEASURES

BURGLARY = MEASURES["crime_burglary"]     # lower is better


# -- the reference value -------------------------------------------------------------------------------


def test_reference_value_by_hand() -> None:
    # mu0 = 30, mu1 = 36: k = 6 / ln(1.2) = 6 / 0.1823216 = 32.9089
    assert cusum.reference_value(30.0) == pytest.approx(32.9089, abs=1e-4)
    # Lucas-style example: mu0 = 4, mu1 = 8 (a doubling): k = 4 / ln 2 = 5.7708
    assert cusum.reference_value(4.0, shift=1.0) == pytest.approx(5.7708, abs=1e-4)
    # a fall: mu0 = 30, mu1 = 24: k = 6 / ln(30/24) = 6 / 0.2231436 = 26.8885
    assert cusum.reference_value(30.0, direction="down") == pytest.approx(26.8885, abs=1e-4)


@pytest.mark.parametrize("mu0,shift", [(2.0, 0.2), (30.0, 0.2), (150.0, 0.5), (7.5, 1.0)])
def test_reference_value_is_where_the_likelihood_ratio_is_one(mu0: float, shift: float) -> None:
    """Poisson log-likelihood ratio of mu1 against mu0 at x: x ln(mu1/mu0) - (mu1 - mu0) = 0 at k."""
    mu1 = mu0 * (1 + shift)
    k = cusum.reference_value(mu0, shift)
    assert k * math.log(mu1 / mu0) - (mu1 - mu0) == pytest.approx(0.0, abs=1e-9)
    assert mu0 < k < mu1


def test_reference_value_refuses_nonsense() -> None:
    with pytest.raises(ValueError):
        cusum.reference_value(0.0)
    with pytest.raises(ValueError):
        cusum.reference_value(10.0, shift=1.0, direction="down")


# -- the CUSUM by hand -----------------------------------------------------------------------------------


def test_cusum_worked_by_hand() -> None:
    """mu0 = 4, shift +100% (mu1 = 8): k = 4 / ln 2 = 5.770780, h = 5.

    t  x   S = max(0, S + x - k)
    0  3   max(0, 0 + 3 - 5.770780)        = 0
    1  7   max(0, 0 + 7 - 5.770780)        = 1.229220
    2  4   max(0, 1.229220 + 4 - 5.770780) = 0          (last zero before the alarm)
    3  8   max(0, 0 + 8 - 5.770780)        = 2.229220
    4  6   2.229220 + 6 - 5.770780         = 2.458440
    5  9   2.458440 + 9 - 5.770780         = 5.687660   > 5: alarm, fired at 5
    6  7   5.687660 + 7 - 5.770780         = 6.916880   > 5
    7  2   6.916880 + 2 - 5.770780         = 3.146100   <= 5: the alarm ends at 6
    The rise began after the last zero (t = 2): start = 3.
    """
    x = [3, 7, 4, 8, 6, 9, 7, 2]
    res = cusum.poisson_cusum(x, [4.0] * 8, h=5.0, shift=1.0)
    np.testing.assert_allclose(res.s, [0, 1.229220, 0, 2.229220, 2.458440, 5.687660, 6.916880, 3.146100],
                               atol=1e-6)
    assert res.alarms == [cusum.Alarm(start=3, fired=5, end=6)]
    # observed change over months 3-6: (8 + 6 + 9 + 7) / (4 x 4) - 1 = 30 / 16 - 1 = 0.875
    assert cusum.observed_shift(x, [4.0] * 8, res.alarms[0]) == pytest.approx(0.875)


def test_cusum_downward_and_skipped_months_by_hand() -> None:
    """mu0 = 10, shift -50% (mu1 = 5): k = 5 / ln 2 = 7.213475, h = 4; month 2 is missing.

    t  x     S = max(0, S + k - x)
    0  11    max(0, 7.213475 - 11)          = 0
    1  6     7.213475 - 6                   = 1.213475
    2  nan   skipped: S stays 1.213475 (reported as nan)
    3  5     1.213475 + 7.213475 - 5        = 3.426950
    4  4     3.426950 + 7.213475 - 4        = 6.640425   > 4: alarm at 4
    start = 1 (the first month after the last zero, t = 0)
    """
    x = [11, 6, math.nan, 5, 4]
    res = cusum.poisson_cusum(x, [10.0] * 5, h=4.0, shift=0.5, direction="down")
    np.testing.assert_allclose(res.s, [0, 1.213475, math.nan, 3.426950, 6.640425], atol=1e-6)
    assert res.alarms == [cusum.Alarm(start=1, fired=4, end=4)]


def test_cusum_with_an_exposure() -> None:
    """A rate: the expected count is the baseline rate x the month's exposure, and k follows it.
    Rate 2 per unit, exposures 2 and 5: mu0 = 4 then 10; with shift +100% k = 5.770780, 14.426950."""
    res = cusum.poisson_cusum([8, 20], [2.0 * 2, 2.0 * 5], h=100.0, shift=1.0)
    np.testing.assert_allclose(res.k, [4 / math.log(2), 10 / math.log(2)])
    np.testing.assert_allclose(res.s, [8 - 4 / math.log(2), 8 - 4 / math.log(2) + 20 - 10 / math.log(2)])


def test_a_recrossing_before_s_returns_to_zero_is_the_same_alarm() -> None:
    """mu0 = 4, shift +100% (k = 5.770780), h = 3: S crosses h, dips to h or below, crosses again.

    t  x   S
    0  9   3.229220   > 3: alarm fired at 0
    1  5   2.458440   <= 3, above 0: the excursion goes on
    2  7   3.687660   > 3 again: the same alarm, which now ends at 2
    3  0   0          back to 0: the excursion (and the alarm) is over
    4  10  4.229220   > 3: a second alarm, starting at 4
    """
    res = cusum.poisson_cusum([9, 5, 7, 0, 10], [4.0] * 5, h=3.0, shift=1.0)
    np.testing.assert_allclose(res.s, [3.229220, 2.458440, 3.687660, 0.0, 4.229220], atol=1e-6)
    assert res.alarms == [cusum.Alarm(start=0, fired=0, end=2), cusum.Alarm(start=4, fired=4, end=4)]


# -- average run lengths: the Markov chain against published values and simulation --------------------


def test_markov_arl_approaches_the_published_normal_cusum() -> None:
    """At mu0 = 10,000 a Poisson count is normal for practical purposes (sd 100, skew 0.01), so the
    CUSUM with k = mu0 + 0.5 sd and h = 3 sd or 4 sd has the normal CUSUM's ARLs: 117.6 in control
    and 3.75 at a 1.5 sd shift for h = 3 (Brook & Evans 1972, section 4.3), and 336 (twice Lucas &
    Crosier's (1982) two-sided 168) for h = 4."""
    mu, sd = 1e4, 100.0
    assert cusum.arl(mu, mu + 0.5 * sd, 3 * sd) == pytest.approx(117.6, rel=0.02)
    assert cusum.arl(mu + 1.5 * sd, mu + 0.5 * sd, 3 * sd) == pytest.approx(3.75, rel=0.02)
    assert cusum.arl(mu, mu + 0.5 * sd, 4 * sd) == pytest.approx(336.0, rel=0.02)
    assert cusum.arl(mu, mu - 0.5 * sd, 3 * sd, "down") == pytest.approx(117.6, rel=0.02)


def _simulated_arl(mu: float, k: float, h: float, direction: str, seed: int, paths: int = 3000) -> float:
    rng = np.random.default_rng(seed)
    s = np.zeros(paths)
    run = np.full(paths, np.nan)
    for t in range(5000):
        x = rng.poisson(mu, paths)
        s = np.maximum(0.0, s + (x - k if direction == "up" else k - x))
        new = (s > h) & np.isnan(run)
        run[new] = t + 1
        if not np.isnan(run).any():
            break
    return float(np.nanmean(run))


@pytest.mark.parametrize("mu0", [2.0, 30.0, 150.0])
@pytest.mark.parametrize("direction", ["up", "down"])
def test_calibrated_h_gives_the_target_false_alarm_rate_on_noise(mu0: float, direction: str) -> None:
    """On pure Poisson noise at mu0, the CUSUM with the calibrated h alarms after a mean of about
    the target ARL (200 months), within 15% (the chain rounds k; small means move in steps)."""
    h = cusum.arl_interval(mu0, 200.0, direction=direction)
    k = cusum.reference_value(mu0, direction=direction)
    assert _simulated_arl(mu0, k, h, direction, seed=7) == pytest.approx(200.0, rel=0.15)


def test_cusum_finds_a_clear_step_at_an_npu_sooner_than_the_shewhart_rules() -> None:
    """At 30 a month a +20% step: the calibrated CUSUM's mean delay (simulated) is under 7 months,
    and shorter than the in-control ARL by a factor of 25 or more."""
    target = cusum.shewhart_arl(ew.ALL_RULES - {"cusum"}, 8, 6, "above")
    h = cusum.arl_interval(30.0, target)
    k = cusum.reference_value(30.0)
    delay = _simulated_arl(36.0, k, h, "up", seed=11)
    assert delay < 7.0
    assert target / delay > 25


def test_shewhart_arl_of_the_3_sigma_rule_is_the_normal_tail() -> None:
    """One side of the 3-sigma rule alone: ARL = 1 / P(Z > 3) = 1 / 0.0013499 = 740.8 (within the
    simulation's error: 100,000 points give about 135 alarms, so +/- 9%)."""
    assert cusum.shewhart_arl(frozenset({"beyond_3_sigma"})) == pytest.approx(740.8, rel=0.15)
    both = cusum.shewhart_arl(ew.ALL_RULES - {"cusum"})
    assert 100 < both < cusum.shewhart_arl(frozenset({"beyond_3_sigma"}))   # more rules, more alarms


# -- the scan's rule ---------------------------------------------------------------------------------------


def _months(n: int) -> list[date]:
    return [add_months(date(2005, 1, 1), i) for i in range(n)]


def test_scan_rule_flags_a_clear_step_with_its_start_month_and_words() -> None:
    """30 a month for 30 months, then 40 (+33%) for 6: the scan's chart carries a CUSUM concern
    that starts in the step month (July 2007) and says so; the verdict is a concern."""
    x = np.array([30.0] * 30 + [40.0] * 6)
    sens = ew.sensitivity("standard")
    chart = ew.spc_chart("u", BURGLARY, _months(36), x, None, ["ok"] * 36, sens)
    found = [g for g in chart.signals if g.rule == "cusum"]
    assert len(found) == 1
    g = found[0]
    assert (g.start, g.index, g.side) == (30, 35, "above")
    # S climbs by 40 - 32.9 = 7.09 a month; h (about 19 at 30 a month) is crossed in the third
    assert g.fired == 32 and ew.detected_at(g, sens, chart) == 32
    assert ew.describe(chart, g, BURGLARY) == \
        "Burglary: a sustained rise of about 35% since July 2007 (a concern)"
    assert chart.verdict == "special_cause_concern"


def test_scan_rule_is_polarity_aware() -> None:
    """The same fall is a concern for a measure where higher is better, an improvement for burglary."""
    x = np.array([30.0] * 30 + [22.0] * 6)
    sens = ew.sensitivity("standard")
    chart = ew.spc_chart("u", BURGLARY, _months(36), x, None, ["ok"] * 36, sens)
    g = next(g for g in chart.signals if g.rule == "cusum")
    assert g.side == "below" and ew.judgement(g.side, BURGLARY.polarity) == "improvement"
    assert ew.describe(chart, g, BURGLARY).endswith("a sustained fall of about 25% since July 2007 "
                                                    "(an improvement)")


def test_scan_rule_skips_unusable_months_and_keeps_to_counts() -> None:
    x = np.array([30.0] * 30 + [40.0] * 6)
    status = ["ok"] * 36
    status[31] = "suspect"
    sens = ew.sensitivity("standard")
    chart = ew.spc_chart("u", BURGLARY, _months(36), x, None, status, sens)
    g = next(g for g in chart.signals if g.rule == "cusum")
    assert g.start == 30 and g.fired == 33           # month 31 skipped: one month later
    # the conservative setting (3 sigma only) has no CUSUM
    conservative = ew.spc_chart("u", BURGLARY, _months(36), x, None, ["ok"] * 36,
                                ew.sensitivity("conservative"))
    assert all(g.rule != "cusum" for g in conservative.signals)
    # a proportion (binomial) gets no CUSUM however it moves
    share = next(m for m in MEASURES.values() if m.kind == "share_of_crimes")
    k = np.array([10.0] * 30 + [20.0] * 6)
    p = ew.spc_chart("u", share, _months(36), k, np.full(36, 40.0), ["ok"] * 36, sens)
    assert p is not None and all(g.rule != "cusum" for g in p.signals)


def test_scan_rule_leaves_a_steady_series_alone() -> None:
    x = np.array([30.0, 33, 27, 31, 29, 32, 28, 30, 34, 26] * 3 + [31.0, 29, 30, 32, 28, 30])
    chart = ew.spc_chart("u", BURGLARY, _months(36), x, None, ["ok"] * 36, ew.sensitivity("standard"))
    assert all(g.rule != "cusum" for g in chart.signals)


# -- the decision interval for a false-alarm budget, with an estimated baseline ---------------------


@pytest.mark.parametrize("direction,months,step", [("up", 24, 12), ("down", 48, 8), ("up", 12, 3),
                                                   ("down", 18, 20)])
def test_the_precomputed_table_is_the_method(direction: str, months: int, step: int) -> None:
    """Entries of dashboard/analysis/cusum_table.py recomputed by cusum.budget_h (the table cannot
    drift from the method; scripts/cusum_table.py --check recomputes them all)."""
    table = cusum_table.H[(direction, months)]
    mu0 = 10.0 ** (step / cusum.GRID_PER_DECADE)
    assert cusum_table.SHIFT == cusum.DEFAULT_SHIFT and cusum_table.BUDGET == cusum.DEFAULT_BUDGET
    assert table[step - cusum_table.FIRST_STEP] == cusum.budget_h(mu0, cusum_table.BUDGET, months,
                                                                  cusum_table.SHIFT, direction)


def test_the_scan_reads_h_from_the_table(monkeypatch: pytest.MonkeyPatch) -> None:
    """No calibration at run time: with budget_h unavailable, h and the scan's chart still come."""
    cusum.grid_budget_h.cache_clear()

    def refuse(*_a: object, **_k: object) -> float:
        raise AssertionError("calibrated at run time")

    monkeypatch.setattr(cusum, "budget_h", refuse)
    assert 15 < cusum.decision_interval(30.0, 24) < 21
    x = np.array([30.0] * 30 + [40.0] * 6)
    chart = ew.spc_chart("u", BURGLARY, _months(36), x, None, ["ok"] * 36, ew.sensitivity("standard"))
    assert any(g.rule == "cusum" for g in chart.signals)
    cusum.grid_budget_h.cache_clear()


def test_h_grows_as_the_baseline_shortens_and_interpolates_between_grid_months() -> None:
    """A shorter baseline is a noisier estimate: h must be larger for the same budget; between two
    grid baselines h lies between their values."""
    h = [cusum.decision_interval(30.0, n) for n in (12, 18, 24, 36, 48)]
    assert h == sorted(h, reverse=True)
    assert h[2] > cusum.decision_interval(30.0, 30) > h[3]
    assert cusum.decision_interval(30.0, 6) == h[0] and cusum.decision_interval(30.0, 96) == h[-1]


@pytest.mark.parametrize("mu0,months", [(30.0, 24), (5.0, 12), (150.0, 48)])
def test_budget_holds_on_noise_with_an_estimated_baseline(mu0: float, months: int) -> None:
    """Simulation, independent of the Markov chain: 4,000 charts each estimate mu0 from `months`
    Poisson months, set k and h from the estimate as the scan does, and watch 1,000 more
    in-control months (restarting at 0 after an alarm). The false alarms come to about 1 per 100
    months (within 15%), where h for a known mu0 gives more (1.07 to 1.5 per 100 here)."""
    rng = np.random.default_rng(2008)
    paths, horizon = 4000, 1000
    est = rng.poisson(mu0 * months, paths) / months
    k = np.array([cusum.reference_value(m) for m in est])
    h = np.array([cusum.decision_interval(m, months) for m in est])
    naive = np.array([cusum.arl_interval(m, 100.0) for m in est])

    def rate(hh: np.ndarray) -> float:
        s, alarms = np.zeros(paths), 0
        for _ in range(horizon):
            s = np.maximum(0.0, s + rng.poisson(mu0, paths) - k)
            hit = s > hh
            alarms += int(hit.sum())
            s[hit] = 0.0
        return 100.0 * alarms / (paths * horizon)

    calibrated = rate(h)
    assert calibrated == pytest.approx(cusum.DEFAULT_BUDGET, rel=0.15)
    assert rate(naive) > calibrated     # ignoring the estimate: more alarms than the budget
